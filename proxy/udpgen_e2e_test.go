package proxy_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/proxy"
	"github.com/sipedge/sipedge/softphone"
)

// sipgo remembers every UDP source address it reads from until its listener stops. The edge serves its
// UDP port in generations so that a peer cycling through source ports cannot grow that table without
// bound, and a UDP phone must notice nothing: it registers, 400 other sources send keepalives (12 table
// resets at 32 sources each), and then the phone still gets calls from the listener's own address (its
// socket is connected to the edge and drops anything else) and its re-REGISTER is answered.
func TestUDPSourceTableStaysBounded(t *testing.T) {
	const limit, sources = 32, 400
	proxy.SetUDPSourcesPerGeneration(t, limit)
	k := startPBX(t, "alice", "erin")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	erin := dialRaw(t, "udp", e.UDP)
	if res := erin.Register("erin", "pw-erin", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register erin over UDP: %v", res)
	}

	for i := range sources {
		c, err := net.Dial("udp", e.UDP)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if i%50 == 49 {
			time.Sleep(10 * time.Millisecond) // let the edge read them: the socket buffer is finite
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for counter(t, e, "sipedge_udp_source_resets_total") < float64(sources/limit)-1 {
		if time.Now().After(deadline) {
			t.Fatalf("%v source table resets after %d sources, want at least %d", counter(t, e, "sipedge_udp_source_resets_total"),
				sources, sources/limit-1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.App.Proxy.UDPPoolSize(); n > limit+2 {
		t.Errorf("sipgo's UDP pool holds %d entries after %d sources, want at most %d", n, sources, limit+2)
	}

	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	ctx := ctxT(t, 20*time.Second)
	call, err := alice.Dial(ctx, "sip:erin@pbx.test", softphone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv := erin.ReadRequest(5 * time.Second)
	if inv == nil || inv.Method != "INVITE" {
		t.Fatalf("erin got %v, want the INVITE from the edge's UDP listener", inv)
	}
	erin.Respond(inv, 486, "Busy Here", "")
	if ack := erin.ReadRequest(5 * time.Second); ack == nil || ack.Method != "ACK" {
		t.Fatalf("erin got %v after the 486, want the ACK", ack)
	}
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("alice's call did not end")
	}
	if i := call.Info(); i.Code != 486 {
		t.Errorf("alice's call ended with %d %s, want 486", i.Code, i.Reason)
	}
	if res := erin.Register("erin", "pw-erin", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("re-register erin after the resets: %v", res)
	}
}

// counter reads one unlabelled series from the edge's /metrics.
func counter(t *testing.T, e *testEdge, name string) float64 {
	t.Helper()
	for _, l := range strings.Split(metricsText(t, e), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in /metrics", name)
	return 0
}

// With two UDP access listeners, a phone registered through one of them is reached from that one (its
// socket is connected to it and drops anything else), whichever listener the other phone used.
func TestTwoUDPListeners(t *testing.T) {
	k := startPBX(t, "alice", "erin", "fred")
	e := startEdge(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")}
		c.Listen.Access = []string{"tls://127.0.0.1:0", "udp://127.0.0.1:0", "udp://127.0.0.3:0"}
	})
	var udp []string
	for _, s := range e.App.Access {
		if s.Endpoint.Transport == "udp" {
			udp = append(udp, s.Addr().String())
		}
	}
	if len(udp) != 2 {
		t.Fatalf("UDP listeners %v", udp)
	}
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	for i, user := range []string{"erin", "fred"} {
		ph := dialRaw(t, "udp", udp[i])
		if res := ph.Register(user, "pw-"+user, "pbx.test"); res == nil || res.StatusCode != 200 {
			t.Fatalf("register %s via %s: %v", user, udp[i], res)
		}
		ctx := ctxT(t, 10*time.Second)
		call, err := alice.Dial(ctx, "sip:"+user+"@pbx.test", softphone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		inv := ph.ReadRequest(5 * time.Second)
		if inv == nil || inv.Method != "INVITE" {
			t.Fatalf("%s (registered via %s) got %v, want the INVITE from that listener", user, udp[i], inv)
		}
		if via := inv.Via(); via == nil || via.Host+":"+strconv.Itoa(via.Port) != udp[i] {
			t.Errorf("%s: the INVITE's Via %v names another listener than %s", user, via, udp[i])
		}
		ph.Respond(inv, 486, "Busy Here", "")
		select {
		case <-call.Done():
		case <-ctx.Done():
			t.Fatalf("alice's call to %s did not end", user)
		}
	}
}
