package testpeers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitRegistered waits for REGISTER_OK on every phone and fails the test on REGISTER_FAIL.
func waitRegistered(ctx context.Context, t *testing.T, phones ...*Baresip) {
	t.Helper()
	for _, p := range phones {
		ev, err := p.WaitEvent(ctx, EventRegisterOK, EventRegisterFail)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != EventRegisterOK {
			t.Fatalf("%s: %s %s", p.AOR(), ev.Type, ev.Param)
		}
	}
}

// waitCall waits for one of types on p and fails the test unless the first one seen is want.
func waitCall(ctx context.Context, t *testing.T, p *Baresip, want string, types ...string) Event {
	t.Helper()
	ev, err := p.WaitEvent(ctx, append([]string{want}, types...)...)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != want {
		t.Fatalf("%s: got %s (%s), want %s", p.AOR(), ev.Type, ev.Param, want)
	}
	return ev
}

// assertTone checks that the WAV at path is dominated by a tone of want Hz.

// TestCallBetweenTwoBaresips: two phones register directly at Kamailio with digest auth (one over TCP,
// one over UDP), one calls the other, the callee answers automatically, each sends its own tone, and
// each side's recordings show its own tone sent and the other's received.
func TestCallBetweenTwoBaresips(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "secret", "bob": "pw"}})
	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "secret", Domain: k.Addr("tcp"), Transport: "tcp", ToneHz: 440})
	b := StartBaresip(t, BaresipOptions{User: "bob", Password: "pw", Domain: k.Addr("udp"), ToneHz: 1000, AnswerMode: "auto"})
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a, b)

	for _, c := range []struct {
		p         *Baresip
		user, src string
	}{{a, "alice", "tcp"}, {b, "bob", "udp"}} {
		locs, err := k.Locations(c.user)
		if err != nil || len(locs) != 1 {
			t.Fatalf("Locations(%s) = %+v, %v; want one", c.user, locs, err)
		}
		l := locs[0]
		if !strings.Contains(l.Contact, fmt.Sprintf("@127.0.0.1:%d", c.p.SIPPort())) ||
			!strings.HasPrefix(l.Socket, c.src+":") || l.Received == "" || l.Instance == "" ||
			!strings.HasPrefix(l.UserAgent, "baresip") || l.Path != "" {
			t.Errorf("Locations(%s) = %+v", c.user, l)
		}
	}

	if err := a.Dial("sip:bob@" + k.Addr("tcp")); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallEstablished, EventCallClosed)
	waitCall(ctx, t, b, EventCallEstablished, EventCallClosed)
	time.Sleep(2 * time.Second)
	if err := a.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallClosed)
	waitCall(ctx, t, b, EventCallClosed)

	for _, c := range []struct {
		p          *Baresip
		sent, recv float64
	}{{a, 440, 1000}, {b, 1000, 440}} {
		rec, err := c.p.Recordings()
		if err != nil {
			t.Fatal(err)
		}
		AssertTone(t, rec.Sent, c.sent)
		AssertTone(t, rec.Received, c.recv)
	}
}

// TestParallelForkRingsEveryDevice: a user with two phones gets both rung; answering one cancels the
// other.
func TestParallelForkRingsEveryDevice(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "a", "carol": "c"}})
	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "a", Domain: k.Addr("udp")})
	desk := StartBaresip(t, BaresipOptions{User: "carol", Password: "c", Domain: k.Addr("udp"), ToneHz: 700})
	laptop := StartBaresip(t, BaresipOptions{User: "carol", Password: "c", Domain: k.Addr("tcp"), Transport: "tcp", ToneHz: 900})
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a, desk, laptop)
	if locs, err := k.Locations("carol"); err != nil || len(locs) != 2 {
		t.Fatalf("Locations(carol) = %+v, %v; want two", locs, err)
	}

	if err := a.Dial("sip:carol@" + k.Addr("udp")); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, desk, EventCallIncoming, EventCallClosed)
	waitCall(ctx, t, laptop, EventCallIncoming, EventCallClosed)
	waitCall(ctx, t, a, EventCallRinging, EventCallEstablished, EventCallClosed)

	if err := laptop.Accept(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, laptop, EventCallEstablished, EventCallClosed)
	waitCall(ctx, t, a, EventCallEstablished, EventCallClosed)
	waitCall(ctx, t, desk, EventCallClosed, EventCallEstablished) // CANCELed by Kamailio

	time.Sleep(1200 * time.Millisecond)
	if err := laptop.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallClosed)
	waitCall(ctx, t, laptop, EventCallClosed)
	rec, err := a.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	AssertTone(t, rec.Received, 900) // the laptop's tone, not the desk phone's
}

// TestCallToPathContactGoesThroughPath: a contact registered through a proxy with Path (as the edge
// does) is reached through that proxy: the INVITE goes to the Path URI with it as Route, and the
// Request-URI is the registered contact.
func TestCallToPathContactGoesThroughPath(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "a", "dave": "d"}})
	edge := newRawUA(t)
	pathURI := fmt.Sprintf("sip:127.0.0.1:%d;lr", edge.port)
	code, resp := edge.register(k, "dave", "d", "<sip:dave@127.0.0.1:9;transport=udp>",
		"Path: <"+pathURI+">\r\nSupported: path\r\n")
	if code != 200 {
		t.Fatalf("REGISTER with Path: status %d\n%s", code, resp)
	}
	if got := header(resp, "Path"); !strings.Contains(got, pathURI) {
		t.Errorf("200 OK does not echo Path: %q", got)
	}
	locs, err := k.Locations("dave")
	if err != nil || len(locs) != 1 || !strings.Contains(locs[0].Path, pathURI) {
		t.Fatalf("Locations(dave) = %+v, %v; want Path %s", locs, err, pathURI)
	}

	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "a", Domain: k.Addr("udp")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a)
	if err := a.Dial("sip:dave@" + k.Addr("udp")); err != nil {
		t.Fatal(err)
	}
	var invite string
	for invite == "" {
		msg, err := edge.read(5 * time.Second)
		if err != nil {
			t.Fatalf("no INVITE at the Path hop: %v", err)
		}
		if strings.HasPrefix(msg, "INVITE ") {
			invite = msg
		}
	}
	if line, _, _ := strings.Cut(invite, "\r\n"); line != "INVITE sip:dave@127.0.0.1:9;transport=udp SIP/2.0" {
		t.Errorf("request line %q, want the registered contact", line)
	}
	if route := header(invite, "Route"); !strings.Contains(route, pathURI) {
		t.Errorf("Route %q, want the Path %s", route, pathURI)
	}
	if header(invite, "Record-Route") == "" {
		t.Errorf("INVITE without Record-Route")
	}
	edge.replyTo(k.Addr("udp"), invite, 486, "Busy Here")
	ev := waitCall(ctx, t, a, EventCallClosed, EventCallEstablished)
	if !strings.Contains(ev.Param, "486") {
		t.Errorf("CALL_CLOSED param %q, want 486", ev.Param)
	}
}

// TestInDialogRequestsReuseThePhonesConnection: a callee registered over TCP gets the re-INVITEs (hold,
// resume), DTMF and BYE of the call on its own connection; Kamailio opens no connection of its own.
func TestInDialogRequestsReuseThePhonesConnection(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "a", "bob": "b"}})
	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "a", Domain: k.Addr("udp")})
	b := StartBaresip(t, BaresipOptions{User: "bob", Password: "b", Domain: k.Addr("tcp"), Transport: "tcp", AnswerMode: "auto"})
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a, b)
	if err := a.Dial("sip:bob@" + k.Addr("udp")); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallEstablished, EventCallClosed)
	waitCall(ctx, t, b, EventCallEstablished, EventCallClosed)

	remoteOffers := func() int {
		n := 0
		for _, e := range b.Events() {
			if e.Type == "CALL_REMOTE_SDP" && e.Param == "offer" {
				n++
			}
		}
		return n
	}
	before := remoteOffers()
	if err := a.Hold(); err != nil {
		t.Fatal(err)
	}
	if err := a.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF("5#"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"5", "#"} {
		ev, err := b.WaitEvent(ctx, EventCallDTMFStart)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Param != d {
			t.Errorf("DTMF %q, want %q", ev.Param, d)
		}
	}
	if got := remoteOffers() - before; got != 2 {
		t.Errorf("callee saw %d re-INVITE offers, want 2 (hold, resume)", got)
	}
	if err := a.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, b, EventCallClosed)

	res, err := k.RPC("core.tcp_list")
	if err != nil {
		t.Fatal(err)
	}
	var conns []struct {
		DstPort int `json:"dst_port"`
		SrcPort int `json:"src_port"`
	}
	if err := json.Unmarshal(res, &conns); err != nil {
		t.Fatalf("core.tcp_list: %v in %s", err, res)
	}
	if len(conns) != 1 || conns[0].DstPort != k.Port("tcp") {
		t.Errorf("TCP connections %s; want only the phone's own connection to port %d", res, k.Port("tcp"))
	}
}
