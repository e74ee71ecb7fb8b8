package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/secevent"
	"github.com/sipedge/sipedge/softphone"
)

const domain = "pbx.test"

// startEdge runs an edge in front of k (passthrough auth: Kamailio challenges) with the policy adjusted by
// pol.
func startEdge(t *testing.T, k *testpeers.Kamailio, pol func(p *config.Policy)) *edgetest.Edge {
	t.Helper()
	return edgetest.Start(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")}
		if pol != nil {
			pol(&c.Policy)
		}
	})
}

// geoDB is the absolute path of the MaxMind test database (see testdata/geoip/COUNTRY_MAP.md).
func geoDB(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../testdata/geoip/GeoIP2-Country-Test.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("geo test database: %v", err)
	}
	return p
}

// deskPhones starts baresip phones registered directly at Kamailio (the PBX's own phones on the LAN),
// answering automatically, one per user; the user names are what the edge's callers dial.
func deskPhones(t *testing.T, k *testpeers.Kamailio, users ...string) map[string]*testpeers.Baresip {
	t.Helper()
	testpeers.Require(t, "baresip")
	out := map[string]*testpeers.Baresip{}
	for _, u := range users {
		out[u] = testpeers.StartBaresip(t, testpeers.BaresipOptions{User: u, Password: "pw-" + u, Domain: domain,
			Outbound: k.URI("udp"), AnswerMode: "auto", Codecs: []string{"PCMU"}})
	}
	for _, b := range out {
		waitB(t, b, 10*time.Second, testpeers.EventRegisterOK)
	}
	return out
}

func waitB(t *testing.T, b *testpeers.Baresip, d time.Duration, types ...string) testpeers.Event {
	t.Helper()
	return edgetest.WaitB(t, b, d, types...)
}

// phone registers a softphone through the edge over TLS from 127.0.0.1.
func phone(t *testing.T, e *edgetest.Edge, user string) *softphone.Phone {
	t.Helper()
	return edgetest.StartPhone(t, edgetest.PhoneAccount(e, user, "pw-"+user, domain))
}

func dial(t *testing.T, p *softphone.Phone, number string) *softphone.Call {
	t.Helper()
	c, err := p.Dial(edgetest.Ctx(t, 20*time.Second), "sip:"+number+"@"+domain,
		softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
	if err != nil {
		t.Fatalf("dial %s: %v", number, err)
	}
	return c
}

// expectRefused dials number and wants the call to end unanswered with 403 Forbidden (the generic
// phrase: the policy detail must not reach the caller).
func expectRefused(t *testing.T, p *softphone.Phone, number string) {
	t.Helper()
	c := dial(t, p, number)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s -> %s: still going after 10 s, want 403", p.Account().User, number)
	}
	select {
	case <-c.Answered():
		t.Fatalf("%s -> %s: answered, want 403", p.Account().User, number)
	default:
	}
	if i := c.Info(); i.Code != 403 || i.Reason != "Forbidden" {
		t.Fatalf("%s -> %s: ended with %d %q, want 403 \"Forbidden\"", p.Account().User, number, i.Code, i.Reason)
	}
}

// expectConnected dials number, waits until the desk phone has the call established and returns the call
// (hang it up with hangup).
func expectConnected(t *testing.T, p *softphone.Phone, desk *testpeers.Baresip, number string) *softphone.Call {
	t.Helper()
	c := dial(t, p, number)
	ctx := edgetest.Ctx(t, 10*time.Second)
	if err := c.WaitAnswered(ctx); err != nil {
		i := c.Info()
		t.Fatalf("%s -> %s: not answered: %v (%d %s)", p.Account().User, number, err, i.Code, i.Reason)
	}
	waitB(t, desk, 5*time.Second, testpeers.EventCallEstablished)
	return c
}

// hangup ends c from the caller and waits for the desk phone to see the BYE.
func hangup(t *testing.T, c *softphone.Call, desk *testpeers.Baresip) {
	t.Helper()
	if err := c.Hangup(edgetest.Ctx(t, 5*time.Second)); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	waitB(t, desk, 5*time.Second, testpeers.EventCallClosed)
}

// event is one line of the security log: the decoded event and the raw JSON fields present.
type event struct {
	secevent.Event
	fields map[string]any
}

// securityEvents reads the edge's security event log (JSON lines).
func securityEvents(t *testing.T, e *edgetest.Edge) []event {
	t.Helper()
	f, err := os.Open(e.Cfg.Path(e.Cfg.SecurityLog.File))
	if err != nil {
		t.Fatalf("security log: %v", err)
	}
	defer f.Close()
	var out []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev.Event); err != nil {
			t.Fatalf("security log line %q: %v", sc.Text(), err)
		}
		if err := json.Unmarshal(sc.Bytes(), &ev.fields); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// match selects events by exact field values (JSON names: type, rule, user, src_ip, country, call_id...).
type match map[string]string

func (m match) ok(ev event) bool {
	for k, want := range m {
		got := ev.fields[k]
		if fmt.Sprint(got) != want && !(got == nil && want == "") {
			return false
		}
	}
	return true
}

func findEvents(t *testing.T, e *edgetest.Edge, m match) []event {
	t.Helper()
	var out []event
	for _, ev := range securityEvents(t, e) {
		if m.ok(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// waitSecEvent waits for a security event matching m and checks that it carries want, the fields that
// event must have (e.g. time, src_ip, src_port, user, user_agent, call_id, reason, rule, country).
func waitSecEvent(t *testing.T, e *edgetest.Edge, m match, want ...string) event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if evs := findEvents(t, e, m); len(evs) > 0 {
			ev := evs[len(evs)-1]
			for _, f := range append([]string{"time", "reason"}, want...) {
				if v, ok := ev.fields[f]; !ok || v == "" || v == 0.0 {
					t.Errorf("security event %v lacks %q: %s", m, f, ev.line())
				}
			}
			if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(ev.fields["time"])); err != nil || time.Since(ts) > 5*time.Minute {
				t.Errorf("security event %v: time %v is not a recent RFC 3339 time", m, ev.fields["time"])
			}
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("no security event matching %v; log:\n%s", m, dumpEvents(securityEvents(t, e)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ev event) line() string {
	b, _ := json.Marshal(ev.fields)
	return string(b)
}

func dumpEvents(evs []event) string {
	var sb strings.Builder
	for _, ev := range evs {
		sb.WriteString(ev.line())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// eventFields are the fields every block must carry in the security log (issue 5, item 6); country is
// checked where the source address has one.
var eventFields = []string{"src_ip", "src_port", "user", "user_agent", "call_id", "rule"}

// metrics scrapes the edge's /metrics.
func metrics(t *testing.T, e *edgetest.Edge) string {
	t.Helper()
	res, err := http.Get("http://" + e.App.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics: %d %v", res.StatusCode, err)
	}
	return string(b)
}

var sampleRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// metric returns the value of the sample name{labels} (labels must match exactly the given ones among
// the sample's), or -1 when there is none.
func metric(t *testing.T, text, name string, labels map[string]string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		m := sampleRe.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		got := map[string]string{}
		for _, l := range labelRe.FindAllStringSubmatch(m[2], -1) {
			got[l[1]] = l[2]
		}
		ok := true
		for k, v := range labels {
			ok = ok && got[k] == v
		}
		if ok {
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

// wantMetric checks a metric's value: exactly want, or at least want when atLeast.
func wantMetric(t *testing.T, text, name string, labels map[string]string, want float64, atLeast bool) {
	t.Helper()
	got := metric(t, text, name, labels)
	if got == want || (atLeast && got >= want) {
		return
	}
	cmp := "="
	if atLeast {
		cmp = ">="
	}
	t.Errorf("metric %s%v = %v, want %s %v", name, labels, got, cmp, want)
}

func decisions(rule, decision string) map[string]string {
	return map[string]string{"rule": rule, "decision": decision}
}

func secType(typ string) map[string]string { return map[string]string{"type": typ} }
