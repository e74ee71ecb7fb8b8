package proxy_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/testpeers"
)

func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// Done-when 7: no healthy PBX -> 503 with Retry-After within a second, never a hang.
func TestPBXDownAnswers503Fast(t *testing.T) {
	k := startPBX(t, "alice")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	c := dialRaw(t, "tls", e.TLS)
	if res := c.Register("alice", "pw-alice", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register: %v", res)
	}
	k.Stop()
	for i := 0; i < 3; i++ { // the first refresh finds the PBX gone, later ones are refused by health
		start := time.Now()
		c.Send(c.Request("REGISTER", "sip:pbx.test", "sip:alice@pbx.test", "sip:alice@pbx.test", "Expires: 300\r\n", ""))
		res := c.ReadFinal(3 * time.Second)
		if res == nil || res.StatusCode != 503 {
			t.Fatalf("REGISTER %d with the PBX down: %v, want 503", i, res)
		}
		if res.GetHeader("Retry-After") == nil {
			t.Errorf("503 without Retry-After")
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("503 after %v, want under a second", el)
		}
		c.Send(c.Request("INVITE", "sip:bob@pbx.test", "sip:alice@pbx.test", "sip:bob@pbx.test", "Content-Type: application/sdp\r\n", testSDP))
		if res := c.ReadFinal(2 * time.Second); res == nil || res.StatusCode != 503 {
			t.Fatalf("INVITE with the PBX down: %v, want 503", res)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.App.Proxy.Ready(t.Context()) == nil {
		if time.Now().After(deadline) {
			t.Fatal("readiness still ok with the only PBX down")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Done-when 7: failover to the second target when the first is down.
func TestFailoverToSecondTarget(t *testing.T) {
	k := startPBX(t, "alice")
	e := startEdge(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + deadAddr(t), "tcp://" + k.Addr("tcp")}
	})
	time.Sleep(300 * time.Millisecond) // first probe round
	c := dialRaw(t, "tls", e.TLS)
	if res := c.Register("alice", "pw-alice", "pbx.test"); res == nil || res.StatusCode != 200 {
		t.Fatalf("register with the first target down: %v", res)
	}
	if _, err := k.WaitLocations(ctxT(t, 3*time.Second), "alice", 1); err != nil {
		t.Fatal(err)
	}
}

// Done-when 7: pbx.mode all registers at every target (registration fork).
func TestRegistrationForkToAllTargets(t *testing.T) {
	testpeers.Require(t, "kamailio")
	opts := testpeers.KamailioOptions{Users: map[string]string{"alice": "pw-alice"}, Domain: "pbx.test", AuthSecret: "shared-ha-secret"}
	k1 := testpeers.StartKamailio(t, opts)
	k2 := testpeers.StartKamailio(t, opts)
	e := startEdge(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + k1.Addr("tcp"), "tcp://" + k2.Addr("tcp")}
		c.PBX.Mode = "all"
	})
	startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	for i, k := range []*testpeers.Kamailio{k1, k2} {
		locs, err := k.WaitLocations(ctxT(t, 5*time.Second), "alice", 1)
		if err != nil {
			t.Fatalf("target %d: %v", i+1, err)
		}
		if locs[0].Path == "" {
			t.Errorf("target %d: location without Path: %+v", i+1, locs[0])
		}
	}
}

// A PBX that dies after the edge's request was written on its connection (here: it answers OPTIONS
// probes, then closes the connection on a REGISTER without answering). The connection's close fails the
// transaction at once: 503 in well under a second, not a wait for timer F (32 s).
func TestPBXConnectionLostMidRequestGets503(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					var head strings.Builder
					for {
						line, err := r.ReadString('\n')
						if err != nil {
							return
						}
						head.WriteString(line)
						if line == "\r\n" {
							break
						}
					}
					m, err := sip.ParseMessage([]byte(head.String()))
					req, ok := m.(*sip.Request)
					if err != nil || !ok || req.Method != sip.OPTIONS {
						return // the "PBX" dies with the request unanswered
					}
					_, _ = c.Write([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()))
				}
			}()
		}
	}()
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + l.Addr().String()} })
	deadline := time.Now().Add(5 * time.Second)
	for e.App.Proxy.Ready(t.Context()) != nil { // the probes find the target up
		if time.Now().After(deadline) {
			t.Fatal("the fake PBX never counted as up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := dialRaw(t, "tls", e.TLS)
	start := time.Now()
	c.Send(c.Request("REGISTER", "sip:pbx.test", "sip:alice@pbx.test", "sip:alice@pbx.test", "Expires: 300\r\n", ""))
	res := c.ReadFinal(5 * time.Second)
	if res == nil || res.StatusCode != 503 {
		t.Fatalf("REGISTER whose PBX connection closed: %v after %v, want 503", res, time.Since(start))
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("503 after %v, want under a second", el)
	}
}
