package relay

import (
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// timeoutCall sets up a plain call (SRTP off) on a fake network and returns the PBX's
// socket and the edge address it sends to.
func timeoutCall(t *testing.T, r *Relay, n *fakeNet, id string, hold bool) (*fakeConn, netip.AddrPort) {
	t.Helper()
	port := uint16(4000 + 2*r.Len())
	phoneAddr, pbxAddr := netip.MustParseAddrPort("198.51.100.7:0"), netip.MustParseAddrPort("10.0.0.3:0")
	phoneAddr, pbxAddr = netip.AddrPortFrom(phoneAddr.Addr(), port), netip.AddrPortFrom(pbxAddr.Addr(), port)
	pc, err := n.listen(phoneAddr.Addr(), int(phoneAddr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	pbx, err := n.listen(pbxAddr.Addr(), int(pbxAddr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pbx.Close() })
	s := r.Session(id)
	out, err := s.Offer(Access, sdpOpts{addr: phoneAddr}.body(), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	var attrs []string
	if hold {
		attrs = []string{"sendonly"}
	}
	if _, err := s.Answer(Core, sdpOpts{addr: pbxAddr, attrs: attrs}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}

	return pbx.(*fakeConn), mediaAddr(t, out, 0)
}

type timeoutRecorder struct {
	mu    sync.Mutex
	calls map[string]int
}

func (tr *timeoutRecorder) on(id, reason string) {
	tr.mu.Lock()
	tr.calls[id+"/"+reason]++
	tr.mu.Unlock()
}

func (tr *timeoutRecorder) count(id string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()

	return tr.calls[id+"/"+ReasonMediaTimeout]
}

func TestMediaTimeoutFiresOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		tr := &timeoutRecorder{calls: map[string]int{}}
		r, err := New(Config{AccessIP: netip.MustParseAddr("203.0.113.1"), CoreIP: netip.MustParseAddr("10.0.0.1"),
			PortMin: 20000, PortMax: 20099, SRTP: SRTPOff, Timeout: 30 * time.Second, HoldTimeout: 5 * time.Minute,
			ListenUDP: n.listen, OnTimeout: tr.on})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()

		// Ringing without an answer never times out.
		ringing := r.Session("ringing")
		if _, err := ringing.Offer(Access, sdpOpts{addr: netip.MustParseAddrPort("198.51.100.9:4000")}.body(), netip.Addr{}); err != nil {
			t.Fatal(err)
		}

		pbx, edge := timeoutCall(t, r, n, "active", false)
		_, _ = timeoutCall(t, r, n, "held", true)
		// Media flows for 50 s (a packet every second), then stops.
		pkt := make([]byte, 172)
		pkt[0] = 0x80
		for i := range 50 {
			pkt[3] = byte(i)
			_, _ = pbx.WriteTo(pkt, netUDP(edge))
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if got := tr.count("active"); got != 0 {
			t.Fatalf("timeout while media flowed (%d)", got)
		}
		if tr.count("held") != 0 {
			t.Fatal("held call timed out after the normal timeout")
		}
		time.Sleep(28 * time.Second) // 29 s since the last packet
		synctest.Wait()
		if tr.count("active") != 0 {
			t.Fatal("timed out too early")
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if tr.count("active") != 1 {
			t.Fatalf("OnTimeout called %d times after the timeout", tr.count("active"))
		}
		// The proxy did not close it: once more Timeout later the relay does.
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if _, ok := r.Lookup("active"); ok || tr.count("active") != 1 {
			t.Fatalf("session still open or OnTimeout repeated (%d)", tr.count("active"))
		}
		if st := r.Session("active"); len(st.Stats().Streams) != 0 {
			t.Fatal("Session after close should be a new, empty one")
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if tr.count("held") != 1 {
			t.Fatalf("held call: OnTimeout called %d times after HoldTimeout", tr.count("held"))
		}
		if tr.count("ringing") != 0 {
			t.Fatal("unanswered session timed out")
		}
	})
}

func TestMediaTimeoutProxyCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		var r *Relay
		ended := make(chan Stats, 1)
		r, err := New(Config{AccessIP: netip.MustParseAddr("203.0.113.1"), CoreIP: netip.MustParseAddr("10.0.0.1"),
			PortMin: 20000, PortMax: 20099, SRTP: SRTPOff, Timeout: 10 * time.Second, ListenUDP: n.listen,
			OnTimeout: func(id, reason string) {
				s, _ := r.Lookup(id)
				ended <- s.Close(reason) // what the proxy does after its BYEs
			}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		timeoutCall(t, r, n, "c", false)
		free := r.FreePortPairs()
		time.Sleep(11 * time.Second)
		synctest.Wait()
		select {
		case st := <-ended:
			if st.Reason != ReasonMediaTimeout || st.End.Sub(st.Start) < 10*time.Second {
				t.Fatalf("final stats %+v", st)
			}
		default:
			t.Fatal("no timeout")
		}
		if r.FreePortPairs() != free+2 || r.Len() != 0 {
			t.Fatal("ports not freed")
		}
	})
}
