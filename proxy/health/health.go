// Package health tracks which PBX targets the proxy may forward to.
//
// A Checker probes every target in parallel (the proxy supplies a ProbeFunc that sends OPTIONS) once when Run
// starts and then every Interval. Any answer counts as alive: a PBX that replies 404, 405 or 483 to OPTIONS is
// up. An error, or no answer within Timeout, is a failure.
//
// States: every target starts Unknown. Unknown counts as healthy, so the first call is not refused before the
// first probe completes. The first probe result settles an Unknown target either way (up on success, down on
// failure: there is no history to smooth). After that an Up target goes Down after FailAfter consecutive
// failures, and a Down target comes back Up after RecoverAfter consecutive successes. MarkFailed (a forward
// that failed with a transport error or timeout) takes a target Down at once, without waiting for a probe.
//
// Pick returns the first healthy target in configuration order (failover, not load balancing).
package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero values of Config.
const (
	DefaultInterval     = 10 * time.Second
	DefaultTimeout      = 2 * time.Second
	DefaultFailAfter    = 2
	DefaultRecoverAfter = 1
)

// Probe results, the values of the result label of sipedge_pbx_probes_total.
const (
	ResultOK      = "ok"
	ResultError   = "error"
	ResultTimeout = "timeout"
)

// Target is one PBX the proxy can forward to.
type Target struct {
	// Name identifies the target in logs and metrics (the target label); unique within a Config.
	Name string
	// URI is where requests and probes go, e.g. sip:127.0.0.1:5060;transport=tcp.
	URI string
}

// ProbeFunc probes one target and must return when ctx is done. Any status with a nil error means alive;
// an error means dead.
type ProbeFunc func(ctx context.Context, t Target) (status int, err error)

// Config configures a Checker. Zero durations and counts take the Default* constants.
type Config struct {
	// Targets in failover order.
	Targets []Target
	// Interval between two probes of a target.
	Interval time.Duration
	// Timeout of one probe.
	Timeout time.Duration
	// FailAfter is how many consecutive failures take an Up target Down.
	FailAfter int
	// RecoverAfter is how many consecutive successes bring a Down target Up.
	RecoverAfter int
	// Probe sends one probe. Required.
	Probe ProbeFunc
	// OnChange, if set, is called on every state change (Unknown settling counts), one call at a time, in the
	// order of the changes. It must not call MarkFailed (that would deadlock); it may call the other methods.
	OnChange func(t Target, healthy bool)
	// Registerer, if set, receives the metrics sipedge_pbx_target_up{target} (absent while Unknown) and
	// sipedge_pbx_probes_total{target,result}.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.FailAfter == 0 {
		c.FailAfter = DefaultFailAfter
	}
	if c.RecoverAfter == 0 {
		c.RecoverAfter = DefaultRecoverAfter
	}
}

// Validate reports a configuration that cannot work, naming the field. It expects defaults applied
// (New does that first).
func (c Config) Validate() error {
	if len(c.Targets) == 0 {
		return fmt.Errorf("%w: Targets is empty", ErrInvalidConfig)
	}
	seen := make(map[string]bool, len(c.Targets))
	for i, t := range c.Targets {
		switch {
		case t.Name == "":
			return fmt.Errorf("%w: Targets[%d].Name is empty", ErrInvalidConfig, i)
		case seen[t.Name]:
			return fmt.Errorf("%w: Targets[%d].Name %q is a duplicate", ErrInvalidConfig, i, t.Name)
		case t.URI == "":
			return fmt.Errorf("%w: Targets[%d].URI is empty", ErrInvalidConfig, i)
		}
		seen[t.Name] = true
	}
	switch {
	case c.Interval < 0:
		return fmt.Errorf("%w: Interval %v is negative", ErrInvalidConfig, c.Interval)
	case c.Timeout < 0:
		return fmt.Errorf("%w: Timeout %v is negative", ErrInvalidConfig, c.Timeout)
	case c.FailAfter < 1:
		return fmt.Errorf("%w: FailAfter must be at least 1, got %d", ErrInvalidConfig, c.FailAfter)
	case c.RecoverAfter < 1:
		return fmt.Errorf("%w: RecoverAfter must be at least 1, got %d", ErrInvalidConfig, c.RecoverAfter)
	case c.Probe == nil:
		return fmt.Errorf("%w: Probe is nil", ErrInvalidConfig)
	}
	return nil
}

// State is a target's health.
type State int

// The states of a target.
const (
	// Unknown: not probed yet; treated as healthy.
	Unknown State = iota
	// Up: answering.
	Up
	// Down: failing; Pick skips it.
	Down
)

// String returns "unknown", "up" or "down".
func (s State) String() string {
	switch s {
	case Up:
		return "up"
	case Down:
		return "down"
	default:
		return "unknown"
	}
}

type targetState struct {
	state State
	fails int // consecutive failures
	oks   int // consecutive successes
}

// Checker tracks the health of the targets. Create it with New; it is safe for concurrent use.
type Checker struct {
	cfg      Config
	notifyMu sync.Mutex // serialises state changes with their OnChange calls
	mu       sync.Mutex // guards states and running
	states   []targetState
	running  bool
	up       *prometheus.GaugeVec
	probes   *prometheus.CounterVec
}

// New returns a Checker with every target Unknown, or an error wrapping ErrInvalidConfig or the
// Registerer's error.
func New(cfg Config) (*Checker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Targets = append([]Target(nil), cfg.Targets...)
	c := &Checker{
		cfg:    cfg,
		states: make([]targetState, len(cfg.Targets)),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sipedge_pbx_target_up",
			Help: "1 if the PBX target answers probes, 0 if it is down; absent until the first probe result.",
		}, []string{"target"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sipedge_pbx_probes_total",
			Help: "Probes sent to PBX targets, by result (ok, error, timeout).",
		}, []string{"target", "result"}),
	}
	for _, t := range cfg.Targets {
		for _, r := range []string{ResultOK, ResultError, ResultTimeout} {
			c.probes.WithLabelValues(t.Name, r)
		}
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(c.up); err != nil {
			return nil, fmt.Errorf("health: register sipedge_pbx_target_up: %w", err)
		}
		if err := cfg.Registerer.Register(c.probes); err != nil {
			cfg.Registerer.Unregister(c.up)
			return nil, fmt.Errorf("health: register sipedge_pbx_probes_total: %w", err)
		}
	}
	return c, nil
}

// Targets returns all targets in configuration order.
func (c *Checker) Targets() []Target { return append([]Target(nil), c.cfg.Targets...) }

// State returns the state of target i (Unknown if i is out of range).
func (c *Checker) State(i int) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.states) {
		return Unknown
	}
	return c.states[i].state
}

// Healthy reports whether target i may be used: Up or Unknown. Out of range is not healthy.
func (c *Checker) Healthy(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return i >= 0 && i < len(c.states) && c.states[i].state != Down
}

// Pick returns the first healthy target in configuration order, or false if every target is Down.
func (c *Checker) Pick() (Target, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.states {
		if s.state != Down {
			return c.cfg.Targets[i], true
		}
	}
	return Target{}, false
}

// All returns the healthy targets in configuration order.
func (c *Checker) All() []Target {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Target
	for i, s := range c.states {
		if s.state != Down {
			out = append(out, c.cfg.Targets[i])
		}
	}
	return out
}

// MarkFailed takes t Down at once (the proxy's forward to it failed with a transport error or timeout); it
// then needs RecoverAfter successful probes to come back. A target not in the Config is ignored.
func (c *Checker) MarkFailed(t Target) {
	for i, ct := range c.cfg.Targets {
		if ct == t {
			c.update(i, func(s *targetState) {
				s.state, s.oks, s.fails = Down, 0, max(s.fails, c.cfg.FailAfter)
			})
			return
		}
	}
}

// Run probes every target at once and then every Interval, each target in its own goroutine, until ctx is
// done. It returns nil after all its goroutines have ended; probes cut short by ctx are not counted. Only one
// Run may be in progress at a time (ErrAlreadyRunning); a Checker may be run again after Run returns.
func (c *Checker) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return ErrAlreadyRunning
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()

	var wg sync.WaitGroup
	for i := range c.cfg.Targets {
		wg.Go(func() { c.loop(ctx, i) })
	}
	wg.Wait()
	return nil
}

func (c *Checker) loop(ctx context.Context, i int) {
	ticker := time.NewTicker(c.cfg.Interval)
	defer ticker.Stop()
	for {
		c.probe(ctx, i)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// probe runs one probe of target i and records its result.
func (c *Checker) probe(ctx context.Context, i int) {
	t := c.cfg.Targets[i]
	pctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	_, err := c.cfg.Probe(pctx, t)
	timedOut := pctx.Err() != nil // read before cancel, which would set it
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the result says nothing about the target
	}
	result := ResultOK
	switch {
	case timedOut || errors.Is(err, context.DeadlineExceeded):
		// An answer that came after the deadline (a probe ignoring ctx) is still a timeout.
		result = ResultTimeout
	case err != nil:
		result = ResultError
	}
	c.probes.WithLabelValues(t.Name, result).Inc()
	ok := result == ResultOK
	c.update(i, func(s *targetState) {
		if ok {
			s.oks, s.fails = s.oks+1, 0
			if s.state == Unknown || (s.state == Down && s.oks >= c.cfg.RecoverAfter) {
				s.state = Up
			}
			return
		}
		s.fails, s.oks = s.fails+1, 0
		if s.state == Unknown || (s.state == Up && s.fails >= c.cfg.FailAfter) {
			s.state = Down
		}
	})
}

// update applies f to target i's state, then on a change sets the gauge and calls OnChange, all in order.
func (c *Checker) update(i int, f func(*targetState)) {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	c.mu.Lock()
	before := c.states[i].state
	f(&c.states[i])
	after := c.states[i].state
	c.mu.Unlock()
	if before == after {
		return
	}
	t := c.cfg.Targets[i]
	if after == Up {
		c.up.WithLabelValues(t.Name).Set(1)
	} else {
		c.up.WithLabelValues(t.Name).Set(0)
	}
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(t, after != Down)
	}
}
