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
	k := startPBX(t, "alice")
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
}
