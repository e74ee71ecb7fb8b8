package proxy_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
)

// SUBSCRIBE creates a dialog through the edge; NOTIFY comes back in it from the notifier, routed by the
// edge's Record-Route; both directions of in-dialog requests work (standalone mode, two raw clients).
func TestSubscribeNotifyDialog(t *testing.T) {
	e := startEdge(t, func(c *config.Config) {
		edgetest.LocalUsers(t, c, "alice", "bob")
	})
	a, b := dialRaw(t, "tls", e.TLS), dialRaw(t, "tls", e.TLS)
	for _, x := range []struct {
		c    *rawClient
		user string
	}{{a, "alice"}, {b, "bob"}} {
		if res := x.c.Register(x.user, "pw-"+x.user, "sipedge"); res == nil || res.StatusCode != 200 {
			t.Fatalf("register %s: %v", x.user, res)
		}
	}
	a.Send(a.Request("SUBSCRIBE", "sip:bob@sipedge", "sip:alice@sipedge", "sip:bob@sipedge", "Event: presence\r\nExpires: 60\r\n", ""))
	sub := b.ReadRequest(3 * time.Second)
	if sub == nil || sub.Method != "SUBSCRIBE" {
		t.Fatalf("bob got %v, want the SUBSCRIBE", sub)
	}
	if len(sub.GetHeaders("Record-Route")) == 0 {
		t.Fatal("SUBSCRIBE arrived without the edge's Record-Route")
	}
	b.Respond(sub, 200, "OK", "Expires: 60\r\n")
	res := a.ReadFinal(3 * time.Second)
	if res == nil || res.StatusCode != 200 || toTagOf(res.To().Value()) == "" {
		t.Fatalf("SUBSCRIBE answered %v", res)
	}
	var n int
	for _, d := range e.App.Proxy.Dialogs() {
		if d.Method == "SUBSCRIBE" && d.UserA == "alice" && d.UserB == "bob" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("dialogs %+v: want alice's subscription to bob", e.App.Proxy.Dialogs())
	}

	// NOTIFY from the notifier (UAS): Route = the Record-Route set as received, target = subscriber's Contact.
	var routes []string
	for _, h := range sub.GetHeaders("Record-Route") {
		routes = append(routes, "Route: "+h.Value())
	}
	host, port, _ := net.SplitHostPort(b.Local)
	notify := fmt.Sprintf("NOTIFY %s SIP/2.0\r\nVia: SIP/2.0/TLS %s:%s;branch=z9hG4bKnotify1;rport\r\nMax-Forwards: 70\r\n%s\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 NOTIFY\r\nContact: <sip:bob@%s:%s;transport=tls>\r\n"+
		"Event: presence\r\nSubscription-State: active;expires=60\r\nContent-Length: 0\r\n\r\n",
		sub.Contact().Address.String(), host, port, strings.Join(routes, "\r\n"), res.To().Value(), sub.From().Value(),
		sub.CallID().Value(), host, port)
	b.Send(notify)
	nreq := a.ReadRequest(3 * time.Second)
	if nreq == nil || nreq.Method != "NOTIFY" {
		t.Fatalf("alice got %v, want the NOTIFY", nreq)
	}
	a.Respond(nreq, 200, "OK", "")
	if r := b.ReadFinal(3 * time.Second); r == nil || r.StatusCode != 200 {
		t.Fatalf("NOTIFY answered %v", r)
	}
	// An in-dialog request from bob's side with alice's dialog but on a third user's flow is refused.
	c := dialRaw(t, "tls", e.TLS)
	c.Send(strings.Replace(notify, "branch=z9hG4bKnotify1", "branch=z9hG4bKnotify2", 1))
	if r := c.ReadFinal(3 * time.Second); r == nil || r.StatusCode != 403 {
		t.Errorf("in-dialog NOTIFY on a foreign flow: %v, want 403", r)
	}
}

func toTagOf(v string) string {
	_, tag, _ := strings.Cut(v, "tag=")
	return tag
}
