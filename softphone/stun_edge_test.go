package softphone_test

import (
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/userdb"
)

// standaloneEdge runs a real edge as its own registrar (no PBX) with the given users (password "pw-USER",
// domain "sipedge").
func standaloneEdge(t *testing.T, users ...string) *edgetest.Edge {
	t.Helper()
	return edgetest.Start(t, func(c *config.Config) {
		c.Auth.UsersFile = filepath.Join(t.TempDir(), "users.yaml")
		db, err := userdb.Open(c.Auth.UsersFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if err := db.Add(u, "sipedge", "pw-"+u, nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// udpNAT is a NAT in front of the phone: datagrams from the phone leave from the NAT's outside socket;
// Rebind moves them to a new outside port, as a NAT that dropped the binding would; SetDrop blackholes.
type udpNAT struct {
	inside net.PacketConn
	target *net.UDPAddr
	t      *testing.T

	mu      sync.Mutex
	outside net.PacketConn
	phone   net.Addr
	drop    bool
	wg      sync.WaitGroup
}

func startNAT(t *testing.T, target string) *udpNAT {
	t.Helper()
	in, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ta, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	n := &udpNAT{inside: in, target: ta, t: t}
	n.Rebind()
	n.wg.Add(1)
	go n.fromPhone()
	t.Cleanup(func() {
		in.Close()
		n.mu.Lock()
		n.outside.Close()
		n.mu.Unlock()
		n.wg.Wait()
	})
	return n
}

// Addr is where the phone sends (its "edge").
func (n *udpNAT) Addr() string { return n.inside.LocalAddr().String() }

// Outside is the source address the edge sees now.
func (n *udpNAT) Outside() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.outside.LocalAddr().String()
}

// Rebind gives the phone a new outside port; the old one is closed.
func (n *udpNAT) Rebind() {
	out, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	old := n.outside
	n.outside = out
	n.mu.Unlock()
	if old != nil {
		old.Close()
	}
	n.wg.Add(1)
	go n.fromEdge(out)
}

func (n *udpNAT) SetDrop(on bool) {
	n.mu.Lock()
	n.drop = on
	n.mu.Unlock()
}

func (n *udpNAT) fromPhone() {
	defer n.wg.Done()
	buf := make([]byte, 65536)
	for {
		k, from, err := n.inside.ReadFrom(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		n.phone = from
		out, drop := n.outside, n.drop
		n.mu.Unlock()
		if !drop {
			_, _ = out.WriteTo(buf[:k], n.target)
		}
	}
}

func (n *udpNAT) fromEdge(out net.PacketConn) {
	defer n.wg.Done()
	buf := make([]byte, 65536)
	for {
		k, _, err := out.ReadFrom(buf)
		if err != nil {
			return
		}
		n.mu.Lock()
		phone, drop := n.phone, n.drop
		n.mu.Unlock()
		if phone != nil && !drop {
			_, _ = n.inside.WriteTo(buf[:k], phone)
		}
	}
}

func udpPhone(t *testing.T, edge, user string) *softphone.Phone {
	t.Helper()
	acct := softphone.Account{Name: user, Edge: "udp://" + edge, User: user, Password: "pw-" + user, Domain: "sipedge",
		RegisterExpires: 60 * time.Second, Keepalive: time.Second, LocalIP: "127.0.0.1"}
	p, err := softphone.New(acct, softphone.Options{DataDir: t.TempDir(), PongTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(edgetest.Ctx(t, 10*time.Second)); err != nil {
		t.Fatalf("register over UDP: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// flowOf returns the remote address of the edge's flow bound to user.
func flowOf(e *edgetest.Edge, user string) []string {
	var out []string
	for _, f := range e.App.Proxy.Flows() {
		if f.User == user && f.Transport == "UDP" {
			out = append(out, f.Remote)
		}
	}
	return out
}

// RFC 5626 keepalives on a UDP flow against the real edge: the STUN Binding requests are answered with
// the phone's address, and a steady mapping causes no re-registration.
func TestSTUNKeepaliveWithEdge(t *testing.T) {
	e := standaloneEdge(t, "alice")
	p := udpPhone(t, e.UDP, "alice")
	time.Sleep(2500 * time.Millisecond) // the first STUN at once, then one every 0.8-1 s
	st := p.Registration()
	local := p.Registration().Flow
	if st.State != softphone.RegRegistered || st.Registrations != 1 {
		t.Fatalf("registration %+v: want one registration, still registered", st)
	}
	if st.Mapped == "" || !strings.HasPrefix(local, st.Mapped+"->") {
		t.Errorf("mapped address %q: want the phone's own address (flow %s)", st.Mapped, local)
	}
}

// A NAT rebinding is detected by the STUN keepalive (the edge reports a new mapped address) and the phone
// registers again from the new address at once; a NAT that drops everything fails the flow after the
// pong timeout, and the phone registers again when the path is back.
func TestSTUNMappingChangeReregisters(t *testing.T) {
	e := standaloneEdge(t, "alice")
	nat := startNAT(t, e.UDP)
	p := udpPhone(t, nat.Addr(), "alice")
	ev, stop := p.Events(64)
	defer stop()
	waitMapped := func(want string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for p.Registration().Mapped != want {
			if time.Now().After(deadline) {
				t.Fatalf("mapped address %q, want %q", p.Registration().Mapped, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	first := nat.Outside()
	waitMapped(first)
	if got := flowOf(e, "alice"); len(got) != 1 || got[0] != first {
		t.Fatalf("edge flows of alice %v, want %s", got, first)
	}

	nat.Rebind()
	rebound := time.Now()
	second := nat.Outside()
	edgetest.WaitEvent(t, ev, softphone.EventRegistration, "", 3*time.Second) // reconnecting
	for {
		if e := edgetest.WaitEvent(t, ev, softphone.EventRegistration, "", 3*time.Second); e.State == softphone.RegRegistered {
			break
		}
	}
	took := time.Since(rebound)
	t.Logf("re-registered %v after the NAT rebinding (keepalive 1 s)", took.Round(time.Millisecond))
	if took > 2500*time.Millisecond {
		t.Errorf("re-registered after %v, want within one keepalive interval", took)
	}
	if st := p.Registration(); st.Registrations != 2 {
		t.Errorf("registrations %d, want 2", st.Registrations)
	}
	waitMapped(second)
	found := false
	for _, r := range flowOf(e, "alice") {
		found = found || r == second
	}
	if !found {
		t.Errorf("edge flows of alice %v: none from the new address %s", flowOf(e, "alice"), second)
	}

	// Blackhole: no STUN answer within the pong timeout (1.5 s) -> the flow failed.
	nat.SetDrop(true)
	dropped := time.Now()
	for {
		if e := edgetest.WaitEvent(t, ev, softphone.EventRegistration, "", 4*time.Second); e.State != softphone.RegRegistered {
			break
		}
	}
	t.Logf("flow failure detected %v after the path went dead", time.Since(dropped).Round(time.Millisecond))
	nat.SetDrop(false)
	for {
		if e := edgetest.WaitEvent(t, ev, softphone.EventRegistration, "", 5*time.Second); e.State == softphone.RegRegistered {
			break
		}
	}
	if st := p.Registration(); st.State != softphone.RegRegistered || st.Registrations < 3 {
		t.Errorf("after the path came back: %+v", st)
	}
}
