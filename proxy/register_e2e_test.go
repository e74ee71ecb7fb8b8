package proxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
)

// Done-when 1: a phone registering over TLS through the edge appears in Kamailio's location table with
// the edge's Path.
func TestRegisterThroughEdgeHasPath(t *testing.T) {
	k := startPBX(t, "alice", "bob", "carol")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	locs, err := k.WaitLocations(ctxT(t, 5*time.Second), "alice", 1)
	if err != nil {
		t.Fatal(err)
	}
	l := locs[0]
	if !strings.Contains(l.Path, e.Core) || !strings.Contains(l.Path, ";lr") || !strings.Contains(l.Path, "sip:f") {
		t.Errorf("location path %q: want the edge's core address %s with a flow token and lr", l.Path, e.Core)
	}
	if strings.Contains(l.Path, e.TLS) {
		t.Errorf("path %q exposes the access address", l.Path)
	}
	// The edge's flow table knows the binding: user, contact, instance, reg-id, expiry.
	var found bool
	for _, f := range e.App.Proxy.Flows() {
		if f.User == "alice" && len(f.Bindings) == 1 && f.Bindings[0].Instance != "" && f.Bindings[0].RegID == 1 &&
			time.Until(f.Bindings[0].Expires) > 30*time.Second && f.Transport == "TLS" {
			found = true
		}
	}
	if !found {
		t.Errorf("flow table %+v: want alice's TLS flow with one outbound binding", e.App.Proxy.Flows())
	}

	// A MESSAGE (and its digest challenge from the PBX) passes through to a desk phone.
	bob := deskPhone(t, k, "bob", 1000, "auto")
	c := dialRaw(t, "tls", e.TLS)
	if res := c.Register("carol", "pw-carol", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register carol: %v", res)
	}
	res := c.Do("MESSAGE", "sip:bob@pbx.test", "sip:carol@pbx.test", "sip:bob@pbx.test", "Content-Type: text/plain\r\n", "hello bob", "carol", "pw-carol")
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("MESSAGE through the edge: %v, want 200 from the desk phone", res)
	}
	_ = bob
}
