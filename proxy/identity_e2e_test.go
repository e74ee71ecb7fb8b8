package proxy_test

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
)

// Done-when 5: one user can never place calls as another, and an unregistered connection cannot call.
func TestFlowIdentityIsEnforced(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })

	c := dialRaw(t, "tls", e.TLS)
	if res := c.Register("alice", "pw-alice", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register alice: %v", res)
	}
	// Spoofed From on alice's flow.
	c.Send(c.Request("INVITE", "sip:bob@pbx.test", "sip:bob@pbx.test", "sip:carol@pbx.test", "Content-Type: application/sdp\r\n", testSDP))
	if res := c.ReadFinal(3 * time.Second); res == nil || res.StatusCode != 403 {
		t.Fatalf("INVITE with bob's From on alice's flow: %v, want 403", res)
	}
	// Her own From is forwarded (Kamailio challenges it: 407 comes back through the edge).
	c.Send(c.Request("INVITE", "sip:bob@pbx.test", "sip:alice@pbx.test", "sip:bob@pbx.test", "Content-Type: application/sdp\r\n", testSDP))
	if res := c.ReadFinal(3 * time.Second); res == nil || res.StatusCode != 407 {
		t.Fatalf("INVITE with alice's own From: %v, want the PBX's 407", res)
	}
	// REGISTER for bob on alice's flow.
	if res := c.Register("bob", "pw-bob", "pbx.test"); res == nil || res.StatusCode != 403 {
		t.Fatalf("REGISTER bob on alice's flow: %v, want 403", res)
	}

	// A TLS connection that never registered.
	n := dialRaw(t, "tls", e.TLS)
	n.Send(n.Request("INVITE", "sip:bob@pbx.test", "sip:alice@pbx.test", "sip:bob@pbx.test", "Content-Type: application/sdp\r\n", testSDP))
	if res := n.ReadFinal(3 * time.Second); res == nil || res.StatusCode != 403 {
		t.Fatalf("INVITE on an unregistered connection: %v, want 403", res)
	}
	// A wrong password is refused by the PBX and reported as a failed authentication.
	w := dialRaw(t, "tls", e.TLS)
	if res := w.Register("bob", "wrong", "pbx.test"); res == nil || res.StatusCode < 400 {
		t.Fatalf("register with a wrong password: %v", res)
	}
	time.Sleep(200 * time.Millisecond)
	sec, err := os.ReadFile(e.Cfg.Path(e.Cfg.SecurityLog.File))
	if err != nil {
		t.Fatal(err)
	}
	s := string(sec)
	for _, want := range []string{`"type":"flow_rejected"`, `"type":"auth_succeeded"`, `"type":"auth_failed"`} {
		if !strings.Contains(s, want) {
			t.Errorf("security log lacks %s:\n%s", want, s)
		}
	}
	if strings.Count(s, `"type":"flow_rejected"`) < 3 {
		t.Errorf("want a flow_rejected event for each refusal:\n%s", s)
	}
}

// Done-when 6: a request for a dead flow is answered 430 in under a second, never dialled.
func TestDeadFlowGets430(t *testing.T) {
	k := startPBX(t, "alice", "carol")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	c := dialRaw(t, "tls", e.TLS)
	if res := c.Register("alice", "pw-alice", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register: %v", res)
	}
	locs, err := k.WaitLocations(ctxT(t, 5*time.Second), "alice", 1)
	if err != nil {
		t.Fatal(err)
	}
	c.Conn.Close() // the phone's connection dies; Kamailio still has the binding with the edge's Path

	// The PBX's INVITE (sent by hand to the edge's core side, routed by the Path) gets 430 at once.
	path := strings.Trim(locs[0].Path, "<>")
	pbx := dialRaw(t, "tcp", e.Core)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	req := pbx.Request("INVITE", "sip:alice@127.0.0.1:5999", "sip:carol@pbx.test", "sip:alice@pbx.test",
		"Route: <"+path+">\r\nContent-Type: application/sdp\r\n", testSDP)
	req = strings.Replace(req, "SIP/2.0/TLS", "SIP/2.0/TCP", 1)
	pbx.Send(req)
	res := pbx.ReadFinal(2 * time.Second)
	if res == nil || res.StatusCode != 430 {
		t.Fatalf("INVITE to a dead flow: %v, want 430", res)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("430 after %v, want under a second", el)
	}
	// And through Kamailio: carol's call fails fast instead of ringing into the void.
	carol := deskPhone(t, k, "carol", 1000, "manual")
	start = time.Now()
	if err := carol.Dial("sip:alice@pbx.test"); err != nil {
		t.Fatal(err)
	}
	waitB(t, carol, 3*time.Second, "CALL_CLOSED")
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("call to the dead flow took %v to fail", el)
	}
	_ = net.Dial
}
