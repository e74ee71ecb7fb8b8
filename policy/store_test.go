package policy

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sipedge/sipedge/secevent"
)

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore()
	t0 := monday10
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	// Hit/Count: sliding window, capped at max but exact for "at least max".
	for i := 0; i < 5; i++ {
		s.Hit("k", at(time.Duration(i)*time.Second), time.Minute, 3)
	}
	if n := s.Count("k", at(4*time.Second), time.Minute); n != 3 {
		t.Errorf("count after capped hits = %d, want 3", n)
	}
	if n := s.Count("k", at(62*time.Second+500*time.Millisecond), time.Minute); n != 2 {
		t.Errorf("count after the first kept hit left the window = %d, want 2", n)
	}
	if n := s.Hit("k", at(10*time.Minute), time.Minute, 3); n != 1 {
		t.Errorf("hit after a quiet window = %d, want 1", n)
	}
	s.Reset("k")
	if n := s.Count("k", at(10*time.Minute), time.Minute); n != 0 {
		t.Errorf("count after reset = %d", n)
	}

	// Distinct.
	for _, m := range []string{"a", "b", "a", "c"} {
		s.Distinct("d", m, t0, time.Minute, 10)
	}
	if n := s.Distinct("d", "a", at(time.Second), time.Minute, 10); n != 3 {
		t.Errorf("distinct = %d, want 3", n)
	}
	if n := s.Distinct("d", "z", at(60*time.Second), time.Minute, 10); n != 2 {
		t.Errorf("distinct after b and c expired = %d, want 2 (a refreshed, z)", n)
	}

	// Take: burst, then refill at rate.
	ok := 0
	for i := 0; i < 10; i++ {
		if s.Take("b", t0, 2, 4) {
			ok++
		}
	}
	if ok != 4 || s.Take("b", at(400*time.Millisecond), 2, 4) || !s.Take("b", at(500*time.Millisecond), 2, 4) {
		t.Errorf("token bucket: burst %d, refill wrong", ok)
	}

	// Gauges never go negative; totals expire.
	if s.Add("g", 2) != 2 || s.Add("g", -5) != 0 || s.Add("g", 1) != 1 {
		t.Error("gauge arithmetic")
	}
	if v := s.AddFloat("f", 1.5, at(time.Hour)); v != 1.5 {
		t.Errorf("total = %v", v)
	}
	s.SetFlag("flag", at(time.Minute))
	if !s.Flag("flag", at(59*time.Second)) || s.Flag("flag", at(time.Minute)) {
		t.Error("flag expiry")
	}

	// Bans and offences.
	a := ip("203.0.113.1")
	s.Ban(Ban{IP: ip("::ffff:203.0.113.1"), Since: t0, Until: at(time.Minute), Rule: "x"})
	if !s.Banned(a, t0) || s.Banned(a, at(time.Minute)) {
		t.Error("ban window (mapped address stored unmapped)")
	}
	if len(s.Bans(t0)) != 1 || len(s.Bans(at(time.Minute))) != 0 {
		t.Error("Bans lists expired bans")
	}
	if ex := s.ExpireBans(at(time.Minute)); len(ex) != 1 || ex[0].IP != a {
		t.Errorf("expired = %+v", ex)
	}
	if s.AddOffence(a, t0, time.Hour) != 1 || s.AddOffence(a, at(30*time.Minute), time.Hour) != 2 ||
		s.AddOffence(a, at(91*time.Minute), time.Hour) != 1 {
		t.Error("offence memory")
	}

	// Sweep drops idle state.
	s.Hit("old", t0, time.Minute, 5)
	s.Take("bucket", t0, 1, 1)
	s.Sweep(at(48 * time.Hour))
	s.mu.Lock()
	n := len(s.windows) + len(s.distinct) + len(s.buckets) + len(s.totals) + len(s.flags) + len(s.offences)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("sweep left %d entries", n)
	}
}

func TestMemoryStoreConcurrent(t *testing.T) {
	s := NewMemoryStore()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s.Hit("k", monday10, time.Minute, 1<<20)
				s.Add("g", 1)
				s.Ban(Ban{IP: ip("203.0.113.1"), Until: monday10.Add(time.Hour)})
				s.Banned(ip("203.0.113.1"), monday10)
			}
		}()
	}
	wg.Wait()
	if s.Count("k", monday10, time.Minute) != 1600 || s.Add("g", 0) != 1600 {
		t.Error("lost updates")
	}
}

// Run drives Tick on a real ticker: with synctest the fake clock of the bubble advances instantly.
func TestRunEndsExhaustedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var ended []string
		rec := &recorder{}
		p, err := New(parsePolicy(t, `
limits: {daily_budget: 1}
spend: {default_per_minute: 1}
roles: [{name: r, classes: [international]}]
default_role: r
bans: {threshold: 1}
`), Options{Emitter: rec, OnBudgetExhausted: func(id string) { mu.Lock(); ended = append(ended, id); mu.Unlock() }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx, time.Second); close(done) }()

		d := p.Call(CallFacts{CallID: "c", User: "u", Dialled: "+33142685300"})
		p.CallStarted("c", "u", d.Dest.Class, d.Dest.Rate)
		p.AuthFailed(AuthFacts{SrcIP: ip("203.0.113.1"), User: "x"})
		time.Sleep(59 * time.Second)
		synctest.Wait()
		mu.Lock()
		if len(ended) != 0 {
			t.Errorf("ended before a minute at 1/min with budget 1: %v", ended)
		}
		mu.Unlock()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		mu.Lock()
		if len(ended) != 1 || ended[0] != "c" {
			t.Errorf("ended = %v, want [c]", ended)
		}
		mu.Unlock()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if ev := rec.of(secevent.BanExpired); len(ev) != 1 {
			t.Errorf("ban_expired events from Run: %+v", ev)
		}
		cancel()
		<-done
	})
}

func TestMetricsRegistered(t *testing.T) {
	f := newFixture(t, "bans: {threshold: 1}")
	fail(f, "203.0.113.1", "x")
	dial(f, "c", "u", "1001")
	n, err := testutil.GatherAndCount(f.reg, "sipedge_policy_bans_active", "sipedge_policy_calls_active", "sipedge_policy_decisions_total")
	if err != nil || n < 3 {
		t.Fatalf("gathered %d series: %v", n, err)
	}
	if v := testutil.ToFloat64(f.p.m.bansAdded); v != 1 {
		t.Errorf("bans added = %v", v)
	}
	if f.decisions("call", "allow") != 1 {
		t.Error("allowed call not counted")
	}
	// A second policy on the same registry is refused, not a panic.
	if _, err := New(parsePolicy(t, ""), Options{Registerer: f.reg}); err == nil {
		t.Error("duplicate registration accepted")
	}
}
