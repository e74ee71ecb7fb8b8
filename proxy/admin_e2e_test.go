package proxy_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
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
