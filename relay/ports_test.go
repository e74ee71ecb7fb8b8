package relay

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sipedge/sipedge/media"
)

func TestPairsIn(t *testing.T) {
	for _, tc := range []struct{ lo, hi, want int }{
		{20000, 29999, 5000}, {20001, 20004, 1}, {20000, 20003, 2}, {20000, 20000, 0}, {20001, 20002, 0},
	} {
		if got := pairsIn(tc.lo, tc.hi); got != tc.want {
			t.Errorf("pairsIn(%d, %d) = %d, want %d", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{CoreIP: edgeCoreIP}
	for name, mod := range map[string]func(*Config){
		"no core ip":  func(c *Config) { c.CoreIP = netip.Addr{} },
		"unspecified": func(c *Config) { c.AccessIP = netip.IPv4Unspecified() },
		"srtp":        func(c *Config) { c.SRTP = "maybe" },
		"range":       func(c *Config) { c.PortMin, c.PortMax = 30000, 20000 },
		"tiny range":  func(c *Config) { c.PortMin, c.PortMax = 30001, 30003 },
		"timeout":     func(c *Config) { c.Timeout = -time.Second },
	} {
		c := ok
		mod(&c)
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	c, err := ok.withDefaults()
	if err != nil || c.PortMin != 20000 || c.PortMax != 29999 || c.SRTP != SRTPRequired || c.Timeout != 30*time.Second || c.HoldTimeout != 2*time.Hour {
		t.Fatalf("defaults %+v %v", c, err)
	}
}

// TestCloseFreesPorts: a range with two pairs holds one call (two legs); a second call
// gets ErrNoPorts until the first is closed, then reuses the same ports.
func TestCloseFreesPorts(t *testing.T) {
	base := 30000 + 200*int(nextRange.Add(1)%150)
	r := testRelay(t, func(c *Config) { c.PortMin, c.PortMax = base, base+3 })
	first := phoneCall(t, r, "first", media.SuiteAES80, false)
	used := map[uint16]bool{first.edgeAccess.Port(): true, first.edgeCore.Port(): true}
	s2 := r.Session("second")
	_, err := s2.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{})
	if !errors.Is(err, ErrNoPorts) || SIPStatus(err) != 503 {
		t.Fatalf("second call: %v", err)
	}
	if len(s2.Stats().Streams) != 0 {
		t.Fatal("failed offer left a stream")
	}
	st := first.s.Close(ReasonHangup)
	if st.Reason != ReasonHangup || st.End.IsZero() {
		t.Fatalf("final stats %+v", st)
	}
	if again := first.s.Close("again"); again.Reason != ReasonHangup {
		t.Fatal("second Close changed the record")
	}
	c2 := phoneCall(t, r, "second", media.SuiteAES80, false)
	if !used[c2.edgeAccess.Port()] || !used[c2.edgeCore.Port()] {
		t.Fatalf("ports %s %s not reused from %v", c2.edgeAccess, c2.edgeCore, used)
	}
	expectRTP(t, c2.phone, c2.edgeAccess, c2.pbx, 0, pcmuPayload(1))
}

// TestBindSkipsPortsInUse: a pair taken by another program is skipped.
func TestBindSkipsPortsInUse(t *testing.T) {
	base := 30000 + 200*int(nextRange.Add(1)%150)
	squat, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(edgeCoreIP, uint16(base+1))))
	if err != nil {
		t.Fatal(err)
	}
	defer squat.Close()
	r := testRelay(t, func(c *Config) { c.PortMin, c.PortMax = base, base+5 })
	s := r.Session("squat")
	if _, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	// The PBX's leg is bound first and skips the pair whose RTCP port is taken; the
	// phone's leg (another address) takes the next one; the skipped pair is still free.
	legs := s.Stats().Streams[0].Legs
	if legs[Caller].Local.Port() != uint16(base+2) || legs[Callee].Local.Port() != uint16(base+4) || r.FreePortPairs() != 1 {
		t.Fatalf("bound %s and %s, %d free", legs[Caller].Local, legs[Callee].Local, r.FreePortPairs())
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	before := runtime.NumGoroutine()
	core, logs := observer.New(zapcore.InfoLevel)
	r, err := New(Config{AccessIP: edgeAccessIP, CoreIP: edgeCoreIP, PortMin: 39000, PortMax: 39199, Log: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	var calls []*call
	for i := range 5 {
		calls = append(calls, phoneCall(t, r, "leak-"+string(rune('a'+i)), media.SuiteGCM128, false))
	}
	expectRTP(t, calls[0].phone, calls[0].edgeAccess, calls[0].pbx, 0, pcmuPayload(1))
	if n := runtime.NumGoroutine(); n < before+20 {
		t.Fatalf("%d goroutines for 5 calls (4 sockets each), had %d", n, before)
	}
	calls[0].s.Close(ReasonHangup)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 || r.FreePortPairs() != 100 {
		t.Fatalf("after Close: %d sessions, %d free pairs", r.Len(), r.FreePortPairs())
	}
	cdrs := logs.FilterMessage("cdr").All()
	if len(cdrs) != 5 {
		t.Fatalf("%d cdr lines", len(cdrs))
	}
	f := cdrs[0].ContextMap()
	if f["session"] != "leak-a" || f["reason"] != ReasonHangup {
		t.Fatalf("cdr fields %v", f)
	}
	streams := f["media"].(map[string]any)["streams"].([]any)
	caller := streams[0].(map[string]any)["caller"].(map[string]any)
	if caller["packets"] != uint64(1) || caller["srtp"] != true || caller["suite"] != string(media.SuiteGCM128) {
		t.Fatalf("cdr caller leg %v", caller)
	}
	if reasons := logs.FilterField(zap.String("reason", ReasonShutdown)).Len(); reasons != 4 {
		t.Fatalf("%d sessions closed by shutdown", reasons)
	}
	if s := r.Session("late"); s == nil {
		t.Fatal("nil session")
	} else if _, err := s.Offer(Core, sdpOpts{addr: pbxSDPAddr}.body(), netip.Addr{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("offer on a closed relay: %v", err)
	}
}
