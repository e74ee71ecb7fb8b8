package proxy_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/softphone"
)

func adminDo(t *testing.T, e *testEdge, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+e.App.AdminAddr()+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The operator endpoints: flows and calls are listed; a password-guessing ban is listed and lifted.
func TestAdminFlowsAndBans(t *testing.T) {
	e := startEdge(t, func(c *config.Config) {
		edgetest.LocalUsers(t, c, "alice")
		c.Policy.Bans.Threshold = 2
	})
	a := dialRaw(t, "tls", e.TLS)
	if res := a.Register("alice", "pw-alice", "sipedge"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register: %v", res)
	}
	code, body := adminDo(t, e, "GET", "/flows")
	var flows []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &flows) != nil || len(flows) != 1 || flows[0]["user"] != "alice" {
		t.Fatalf("GET /flows: %d %s", code, body)
	}
	if code, body := adminDo(t, e, "GET", "/calls"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("GET /calls with no call: %d %s", code, body)
	}
	// Two failed logins ban 127.0.0.1.
	for i := 0; i < 2; i++ {
		g := dialRaw(t, "tls", e.TLS)
		if res := g.Register("alice", "wrong", "sipedge"); res == nil || res.StatusCode != 403 {
			t.Fatalf("guess %d: %v", i, res)
		}
	}
	time.Sleep(100 * time.Millisecond)
	code, body = adminDo(t, e, "GET", "/bans")
	if code != 200 || !strings.Contains(body, `"ip":"127.0.0.1"`) {
		t.Fatalf("GET /bans: %d %s", code, body)
	}
	if conn, err := tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true}); err == nil {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a banned source got a TLS connection")
		}
	}
	if code, _ := adminDo(t, e, "DELETE", "/bans/10.9.9.9"); code != 404 {
		t.Errorf("DELETE of a ban that does not exist: %d", code)
	}
	if code, _ := adminDo(t, e, "DELETE", "/bans/not-an-ip"); code != 400 {
		t.Errorf("DELETE /bans/not-an-ip: %d", code)
	}
	if code, body := adminDo(t, e, "DELETE", "/bans/127.0.0.1"); code != 204 {
		t.Fatalf("DELETE /bans/127.0.0.1: %d %s", code, body)
	}
	n := dialRaw(t, "tls", e.TLS)
	if res := n.Register("alice", "pw-alice", "sipedge"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register after the ban was lifted: %v", res)
	}
	sec, _ := os.ReadFile(e.Cfg.Path(e.Cfg.SecurityLog.File))
	for _, want := range []string{`"type":"ban_added"`, `"type":"ban_removed"`} {
		if !strings.Contains(string(sec), want) {
			t.Errorf("security log lacks %s", want)
		}
	}
}

// An operator ends a call from the admin API: BYE to both phones, the call disappears from /calls, and
// the action is in the security log.
func TestAdminEndsCall(t *testing.T) {
	e := startEdge(t, func(c *config.Config) { edgetest.LocalUsers(t, c, "alice", "bob") })
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "sipedge"))
	bob := startPhone(t, edgePhone(e, "bob", "pw-bob", "sipedge"))
	bEv, stop := bob.Events(32)
	defer stop()
	ctx := ctxT(t, 20*time.Second)
	call, err := alice.Dial(ctx, "sip:bob@sipedge", softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: "silence"}})
	if err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, bEv, softphone.EventIncoming, "", 5*time.Second)
	bc, err := bob.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Answer(&softphone.MediaOptions{Play: "silence"}); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	code, body := adminDo(t, e, "GET", "/calls")
	var calls []struct {
		ID     string `json:"call_id"`
		Method string `json:"method"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &calls) != nil || len(calls) == 0 || calls[0].Method != "INVITE" {
		t.Fatalf("GET /calls: %d %s", code, body)
	}
	if code, _ := adminDo(t, e, "DELETE", "/calls/no-such-call"); code != 404 {
		t.Errorf("DELETE of an unknown call: %d, want 404", code)
	}
	if code, body := adminDo(t, e, "DELETE", "/calls/"+calls[0].ID); code != 204 {
		t.Fatalf("DELETE /calls/%s: %d %s", calls[0].ID, code, body)
	}
	for _, c := range []*softphone.Call{call, bc} {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a party is still in the call after the operator ended it")
		}
		if i := c.Info(); i.Reason != "remote hangup" {
			t.Errorf("call ended with %q, want remote hangup (the edge's BYE)", i.Reason)
		}
	}
	if code, body := adminDo(t, e, "GET", "/calls"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("GET /calls after the end: %d %s", code, body)
	}
	sec, _ := os.ReadFile(e.Cfg.Path(e.Cfg.SecurityLog.File))
	if !strings.Contains(string(sec), `"type":"call_terminated_by_operator"`) || !strings.Contains(string(sec), calls[0].ID) {
		t.Errorf("security log lacks the operator's call termination:\n%s", sec)
	}
}

// admin.token_file protects the operator endpoints and metrics of a running edge; probes stay open.
func TestAdminTokenFile(t *testing.T) {
	const token = "tok-0123456789abcdef"
	e := startEdge(t, func(c *config.Config) {
		f := filepath.Join(c.DataDir, "admin.token")
		if err := os.WriteFile(f, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.Admin.TokenFile = f
	})
	if code, _ := adminDo(t, e, "GET", "/flows"); code != 401 {
		t.Errorf("GET /flows without the token: %d, want 401", code)
	}
	if code, _ := adminDo(t, e, "GET", "/healthz"); code != 200 {
		t.Errorf("GET /healthz without the token: %d, want 200", code)
	}
	req, _ := http.NewRequest("GET", "http://"+e.App.AdminAddr()+"/flows", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /flows with the token: %d, want 200", res.StatusCode)
	}
}
