package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakePBX is a scripted probe: each target answers with its current outcome; calls are recorded.
type fakePBX struct {
	mu      sync.Mutex
	outcome map[string]string
	calls   map[string][]time.Time
}

func newFakePBX() *fakePBX {
	return &fakePBX{outcome: map[string]string{}, calls: map[string][]time.Time{}}
}

func (f *fakePBX) set(name, outcome string) {
	f.mu.Lock()
	f.outcome[name] = outcome
	f.mu.Unlock()
}

func (f *fakePBX) callTimes(name string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls[name]...)
}

func (f *fakePBX) probe(ctx context.Context, t Target) (int, error) {
	f.mu.Lock()
	f.calls[t.Name] = append(f.calls[t.Name], time.Now())
	o := f.outcome[t.Name]
	f.mu.Unlock()
	switch o {
	case refused:
		return 0, errors.New("connection refused")
	case hang:
		<-ctx.Done()
		return 0, ctx.Err()
	case alive404:
		return 404, nil
	default:
		return 200, nil
	}
}

// changes records OnChange calls.
type changes struct {
	mu  sync.Mutex
	log []string
}

func (c *changes) on(t Target, healthy bool) {
	c.mu.Lock()
	c.log = append(c.log, fmt.Sprintf("%s=%v", t.Name, healthy))
	c.mu.Unlock()
}

func (c *changes) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.log, " ")
}

// harness runs a Checker inside a synctest bubble.
type harness struct {
	c       *Checker
	pbx     *fakePBX
	changes *changes
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	runErr  error
}

func start(t *testing.T, cfg Config, pbx *fakePBX) *harness {
	t.Helper()
	h := &harness{pbx: pbx, changes: &changes{}, reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	if cfg.Targets == nil {
		cfg.Targets = []Target{pbxA, pbxB, pbxC}
	}
	cfg.Probe, cfg.OnChange, cfg.Registerer = pbx.probe, h.changes.on, h.reg
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) }) // also after a failed assertion, so the bubble can end
	synctest.Wait()
	return h
}

// stop cancels Run and waits for it to return.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.once.Do(func() {
		h.cancel()
		h.runErr = <-h.done
	})
	if h.runErr != nil {
		t.Errorf("Run: %v", h.runErr)
	}
}

func (h *harness) states() string {
	var s []string
	for i, t := range h.c.Targets() {
		s = append(s, t.Name+"="+h.c.State(i).String())
	}
	return strings.Join(s, " ")
}

func (h *harness) probes(target, result string) float64 {
	return testutil.ToFloat64(h.c.probes.WithLabelValues(target, result))
}

func (h *harness) up(target string) float64 {
	return testutil.ToFloat64(h.c.up.WithLabelValues(target))
}

// tick advances the bubble's clock by d and lets every goroutine settle.
func tick(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}
