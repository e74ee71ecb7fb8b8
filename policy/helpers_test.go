package policy

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.yaml.in/yaml/v3"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/secevent"
)

// monday10 is Monday 7 January 2030, 10:00 UTC.
var monday10 = time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type recorder struct {
	mu     sync.Mutex
	events []secevent.Event
}

func (r *recorder) Emit(e secevent.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

func (r *recorder) of(t secevent.Type) []secevent.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []secevent.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) reset() { r.mu.Lock(); r.events = nil; r.mu.Unlock() }

type fixture struct {
	p   *Policy
	clk *clock
	rec *recorder
	reg *prometheus.Registry
}

func parsePolicy(t testing.TB, yml string) config.Policy {
	t.Helper()
	var c config.Policy
	if err := yaml.Unmarshal([]byte(yml), &c); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return c
}

// newFixture builds a policy from YAML (the policy section) with a fake clock at monday10.
func newFixture(t testing.TB, yml string, opt ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: monday10}, rec: &recorder{}, reg: prometheus.NewRegistry()}
	o := Options{Now: f.clk.Now, Emitter: f.rec, Registerer: f.reg}
	for _, fn := range opt {
		fn(&o)
	}
	p, err := New(parsePolicy(t, yml), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.p = p
	return f
}

func (f *fixture) decisions(rule, decision string) float64 {
	return testutil.ToFloat64(f.p.m.decisions.WithLabelValues(rule, decision))
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// fakeGeo maps addresses to countries.
type fakeGeo map[netip.Addr]string

func (g fakeGeo) Country(a netip.Addr) (string, bool) { c, ok := g[a.Unmap()]; return c, ok }
