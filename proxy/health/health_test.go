package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

var (
	pbxA = Target{Name: "a", URI: "sip:127.0.0.1:5060;transport=tcp"}
	pbxB = Target{Name: "b", URI: "sip:127.0.0.2:5060;transport=tcp"}
	pbxC = Target{Name: "c", URI: "sip:127.0.0.3:5060;transport=tcp"}
)

// Outcomes a scripted probe can give.
const (
	alive    = "alive"   // 200
	alive404 = "404"     // a PBX refusing OPTIONS is still alive
	refused  = "refused" // transport error
	hang     = "hang"    // no answer until ctx is done
)

func TestFirstProbeAndInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pbx := newFakePBX()
		pbx.set("b", alive404)
		pbx.set("c", refused)
		t0 := time.Now()
		h := start(t, Config{}, pbx)
		// The first probe runs at once; its result settles each Unknown target either way.
		if got := h.states(); got != "a=up b=up c=down" {
			t.Fatalf("after first probe: %s", got)
		}
		if got := h.changes.String(); !strings.Contains(got, "c=false") || strings.Count(got, "=") != 3 {
			t.Fatalf("OnChange calls: %s", got)
		}
		tick(DefaultInterval * 3)
		calls := h.pbx.callTimes("a")
		if len(calls) != 4 {
			t.Fatalf("%d probes of a in 30s, want 4", len(calls))
		}
		for i, at := range calls {
			if want := t0.Add(time.Duration(i) * DefaultInterval); !at.Equal(want) {
				t.Fatalf("probe %d at %v, want %v", i, at.Sub(t0), want.Sub(t0))
			}
		}
		if h.probes("a", ResultOK) != 4 || h.probes("b", ResultOK) != 4 || h.probes("c", ResultError) != 4 {
			t.Fatalf("probe counters a=%v b=%v c(error)=%v", h.probes("a", ResultOK), h.probes("b", ResultOK),
				h.probes("c", ResultError))
		}
		if h.up("a") != 1 || h.up("c") != 0 {
			t.Fatalf("up gauges a=%v c=%v", h.up("a"), h.up("c"))
		}
		h.stop(t)
	})
}

func TestUnknownIsHealthyBeforeFirstProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pbx := newFakePBX()
		pbx.set("a", hang)
		h := start(t, Config{}, pbx) // a's first probe is in flight
		if h.c.State(0) != Unknown || !h.c.Healthy(0) {
			t.Fatalf("a is %v before its first result", h.c.State(0))
		}
		if got, ok := h.c.Pick(); !ok || got != pbxA {
			t.Fatalf("Pick = %v %v, want a", got, ok)
		}
		if n, err := testutil.GatherAndCount(h.reg, "sipedge_pbx_target_up"); err != nil || n != 2 {
			t.Fatalf("up series = %d (%v), want 2 (none for the unknown target)", n, err)
		}
		h.stop(t)
	})
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pbx := newFakePBX()
		pbx.set("a", hang)
		h := start(t, Config{Timeout: 3 * time.Second}, pbx)
		tick(3*time.Second - time.Nanosecond)
		if h.c.State(0) != Unknown || h.probes("a", ResultTimeout) != 0 {
			t.Fatalf("timed out early: %s", h.states())
		}
		tick(time.Nanosecond)
		if h.c.State(0) != Down || h.probes("a", ResultTimeout) != 1 || h.probes("a", ResultError) != 0 {
			t.Fatalf("after timeout: %s, timeouts %v", h.states(), h.probes("a", ResultTimeout))
		}
		if got, _ := h.c.Pick(); got != pbxB {
			t.Fatalf("Pick = %v, want b", got)
		}
		h.stop(t)
	})
}

func TestFailAfterAndRecoverAfter(t *testing.T) {
	tests := []struct {
		cfgFail, cfgRecover     int // in Config (0 = default)
		failAfter, recoverAfter int // in force
	}{{0, 0, 2, 1}, {3, 2, 3, 2}, {1, 3, 1, 3}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("fail%d_recover%d", tc.failAfter, tc.recoverAfter), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				failAfter, recoverAfter := tc.failAfter, tc.recoverAfter
				pbx := newFakePBX()
				h := start(t, Config{Targets: []Target{pbxA}, FailAfter: tc.cfgFail, RecoverAfter: tc.cfgRecover}, pbx)
				if h.c.State(0) != Up {
					t.Fatalf("start: %s", h.states())
				}
				pbx.set("a", refused)
				for i := 1; i < failAfter; i++ {
					tick(DefaultInterval)
					if h.c.State(0) != Up {
						t.Fatalf("down after %d of %d failures", i, failAfter)
					}
				}
				tick(DefaultInterval)
				if h.c.State(0) != Down {
					t.Fatalf("still up after %d failures", failAfter)
				}
				if _, ok := h.c.Pick(); ok || len(h.c.All()) != 0 {
					t.Fatal("Pick found a target while all are down")
				}
				pbx.set("a", alive)
				for i := 1; i < recoverAfter; i++ {
					tick(DefaultInterval)
					if h.c.State(0) != Down {
						t.Fatalf("up after %d of %d successes", i, recoverAfter)
					}
				}
				tick(DefaultInterval)
				if h.c.State(0) != Up || h.up("a") != 1 {
					t.Fatalf("not recovered after %d successes", recoverAfter)
				}
				if got := h.changes.String(); got != "a=true a=false a=true" {
					t.Fatalf("OnChange: %s", got)
				}
				h.stop(t)
			})
		})
	}
}

func TestFailoverOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pbx := newFakePBX()
		h := start(t, Config{FailAfter: 1}, pbx)
		pick := func() string {
			tg, ok := h.c.Pick()
			if !ok {
				return "none"
			}
			return tg.Name
		}
		names := func() string {
			var s []string
			for _, tg := range h.c.All() {
				s = append(s, tg.Name)
			}
			return strings.Join(s, ",")
		}
		steps := []struct {
			set       map[string]string
			pick, all string
		}{
			{nil, "a", "a,b,c"},
			{map[string]string{"a": refused}, "b", "b,c"},
			{map[string]string{"b": hang}, "c", "c"},
			{map[string]string{"c": refused}, "none", ""},
			{map[string]string{"b": alive}, "b", "b"},
			{map[string]string{"a": alive}, "a", "a,b"},
		}
		for i, s := range steps {
			for name, o := range s.set {
				pbx.set(name, o)
			}
			if i > 0 {
				tick(DefaultInterval + DefaultTimeout)
			}
			if got := pick(); got != s.pick {
				t.Fatalf("step %d: Pick = %s, want %s (%s)", i, got, s.pick, h.states())
			}
			if got := names(); got != s.all {
				t.Fatalf("step %d: All = %s, want %s", i, got, s.all)
			}
		}
		h.stop(t)
	})
}

func TestMarkFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pbx := newFakePBX()
		h := start(t, Config{RecoverAfter: 2}, pbx)
		tick(time.Second)
		h.c.MarkFailed(pbxA) // a forward to a failed: do not wait for the next probe
		if h.c.State(0) != Down || h.c.Healthy(0) || h.up("a") != 0 {
			t.Fatalf("after MarkFailed: %s", h.states())
		}
		if got, _ := h.c.Pick(); got != pbxB {
			t.Fatalf("Pick = %v, want b", got)
		}
		h.c.MarkFailed(Target{Name: "a", URI: "sip:elsewhere"}) // not a configured target: ignored
		h.c.MarkFailed(pbxA)                                    // already down: no second OnChange
		if got := h.changes.String(); !strings.HasSuffix(got, "a=false") || strings.Count(got, "a=false") != 1 {
			t.Fatalf("OnChange: %s", got)
		}
		tick(DefaultInterval) // one success of the two needed
		if h.c.State(0) != Down {
			t.Fatal("recovered after one success with RecoverAfter 2")
		}
		tick(DefaultInterval)
		if h.c.State(0) != Up {
			t.Fatalf("not recovered: %s", h.states())
		}
		h.stop(t)
	})
}

func TestStopDiscardsInFlightProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pbx := newFakePBX()
		pbx.set("a", hang)
		h := start(t, Config{Targets: []Target{pbxA}}, pbx)
		tick(time.Second)
		h.stop(t) // returns only once every probe goroutine has ended
		if h.c.State(0) != Unknown || h.probes("a", ResultTimeout)+h.probes("a", ResultError) != 0 {
			t.Fatalf("a cancelled probe was counted: %s", h.states())
		}
		tick(10 * DefaultInterval)
		if n := len(pbx.callTimes("a")); n != 1 {
			t.Fatalf("%d probes, want 1: something kept probing after Run returned", n)
		}
		// synctest.Test itself fails if a goroutine of the bubble is still blocked at the end.
	})
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, Config{}, newFakePBX())
		if err := h.c.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
			t.Fatalf("second Run: %v", err)
		}
		h.stop(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- h.c.Run(ctx) }()
		tick(DefaultInterval)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run after Run: %v", err)
		}
		if n := len(h.pbx.callTimes("a")); n != 3 {
			t.Fatalf("%d probes of a over two runs, want 3", n)
		}
	})
}

func TestNoGoroutineLeakRealClock(t *testing.T) {
	defer goleak.VerifyNone(t)
	pbx := newFakePBX()
	pbx.set("b", hang)
	c, err := New(Config{Targets: []Target{pbxA, pbxB}, Interval: 5 * time.Millisecond, Timeout: time.Hour, Probe: pbx.probe})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(pbx.callTimes("a")); n < 2 {
		t.Fatalf("only %d probes of a in 50ms", n)
	}
}

func TestConfig(t *testing.T) {
	probe := newFakePBX().probe
	for name, cfg := range map[string]Config{
		"Targets is empty": {Probe: probe},
		"Targets[1].Name":  {Targets: []Target{pbxA, {URI: "sip:x"}}, Probe: probe},
		"duplicate":        {Targets: []Target{pbxA, pbxA}, Probe: probe},
		"Targets[0].URI":   {Targets: []Target{{Name: "x"}}, Probe: probe},
		"Interval":         {Targets: []Target{pbxA}, Probe: probe, Interval: -1},
		"Timeout":          {Targets: []Target{pbxA}, Probe: probe, Timeout: -1},
		"FailAfter":        {Targets: []Target{pbxA}, Probe: probe, FailAfter: -1},
		"RecoverAfter":     {Targets: []Target{pbxA}, Probe: probe, RecoverAfter: -2},
		"Probe is nil":     {Targets: []Target{pbxA}},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Targets: []Target{pbxA}, Probe: probe, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Targets: []Target{pbxA}, Probe: probe, Registerer: reg}); err == nil {
		t.Fatal("second registration on the same registry did not fail")
	}
	c, err := New(Config{Targets: []Target{pbxA}, Probe: probe})
	if err != nil {
		t.Fatal(err)
	}
	if c.Healthy(-1) || c.Healthy(1) || !c.Healthy(0) || c.State(5) != Unknown {
		t.Fatal("out-of-range index handling")
	}
}
