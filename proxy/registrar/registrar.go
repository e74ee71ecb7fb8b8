// Package registrar is the in-memory binding store the edge uses in standalone mode, when there is no PBX
// and the edge itself is the registrar (RFC 3261 §10.3, RFC 5626 §6).
//
// It is pure: no I/O, a clock injected through Config.Now, safe for concurrent use. ParseUpdate turns a
// sipgo REGISTER into an Update; Apply runs the RFC 3261 §10.3 steps 6-8 on it atomically (all contacts are
// applied or none); Status maps Apply's errors to the SIP response.
package registrar

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultMinExpires        = 60 * time.Second
	DefaultMaxExpires        = 3600 * time.Second
	DefaultDefaultExpires    = 3600 * time.Second
	DefaultMaxBindingsPerAOR = 10
)

// Config configures a Registrar. Zero values take the Default* constants; Now defaults to time.Now.
type Config struct {
	// MinExpires is the shortest non-zero interval accepted; shorter ones get 423 Interval Too Brief.
	MinExpires time.Duration
	// MaxExpires caps longer intervals (RFC 3261 §10.3 step 7: the registrar may shorten).
	MaxExpires time.Duration
	// DefaultExpires applies to a contact with neither an expires parameter nor an Expires header.
	DefaultExpires time.Duration
	// MaxBindingsPerAOR bounds the bindings of one address-of-record.
	MaxBindingsPerAOR int
	// Now is the clock.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.MinExpires == 0 {
		c.MinExpires = DefaultMinExpires
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = DefaultMaxExpires
	}
	if c.DefaultExpires == 0 {
		c.DefaultExpires = DefaultDefaultExpires
	}
	if c.MaxBindingsPerAOR == 0 {
		c.MaxBindingsPerAOR = DefaultMaxBindingsPerAOR
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration that cannot work, naming the field. It expects defaults applied
// (New does that first).
func (c Config) Validate() error {
	switch {
	case c.MinExpires < time.Second:
		return fmt.Errorf("%w: MinExpires must be at least 1s, got %v", ErrInvalidConfig, c.MinExpires)
	case c.MaxExpires < c.MinExpires:
		return fmt.Errorf("%w: MaxExpires (%v) is below MinExpires (%v)", ErrInvalidConfig, c.MaxExpires, c.MinExpires)
	case c.DefaultExpires < c.MinExpires || c.DefaultExpires > c.MaxExpires:
		return fmt.Errorf("%w: DefaultExpires (%v) must lie within MinExpires..MaxExpires (%v..%v)",
			ErrInvalidConfig, c.DefaultExpires, c.MinExpires, c.MaxExpires)
	case c.MaxBindingsPerAOR < 1:
		return fmt.Errorf("%w: MaxBindingsPerAOR must be positive, got %d", ErrInvalidConfig, c.MaxBindingsPerAOR)
	}
	return nil
}

// Binding is one registered contact of an address-of-record.
type Binding struct {
	// AOR is the address-of-record: the user part of the To URI.
	AOR string
	// Contact is the full Contact URI as sent (without the header parameters).
	Contact string
	// Instance is the +sip.instance value with its quotes and angle brackets removed ("" if absent).
	Instance string
	// RegID is the RFC 5626 reg-id (0 if absent).
	RegID int
	// FlowID is the opaque id of the connection (flow) the REGISTER came on; RemoveFlow matches it.
	FlowID string
	// CallID is the Call-ID of the REGISTER that made or last refreshed the binding.
	CallID string
	// CSeq is the CSeq number of that REGISTER.
	CSeq uint32
	// Expires is when the binding expires.
	Expires time.Time
	// Q is the q-value, 1.0 if the contact had none.
	Q float64
}

// SecondsLeft is the expires parameter to put on this binding's Contact in a 200 OK: the time left at now,
// rounded up to whole seconds, 0 if expired.
func (b Binding) SecondsLeft(now time.Time) int {
	d := b.Expires.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// record is a stored binding with its refresh order (higher = more recently registered or refreshed).
type record struct {
	b   Binding
	seq uint64
}

func (r record) live(now time.Time) bool { return now.Before(r.b.Expires) }

// Registrar is the binding store. Create it with New.
type Registrar struct {
	cfg  Config
	mu   sync.Mutex
	aors map[string][]record
	seq  uint64
}

// New returns an empty Registrar, or an error wrapping ErrInvalidConfig.
func New(cfg Config) (*Registrar, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Registrar{cfg: cfg, aors: make(map[string][]record)}, nil
}

// Config returns the configuration in force, defaults applied.
func (r *Registrar) Config() Config { return r.cfg }

// Lookup returns the unexpired bindings of aor, sorted by q descending, then most recently registered or
// refreshed first.
func (r *Registrar) Lookup(aor string) []Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.liveLocked(aor, r.cfg.Now())
}

// liveLocked returns the sorted unexpired bindings of aor.
func (r *Registrar) liveLocked(aor string, now time.Time) []Binding {
	recs := make([]record, 0, len(r.aors[aor]))
	for _, rec := range r.aors[aor] {
		if rec.live(now) {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].b.Q != recs[j].b.Q {
			return recs[i].b.Q > recs[j].b.Q
		}
		return recs[i].seq > recs[j].seq
	})
	out := make([]Binding, len(recs))
	for i, rec := range recs {
		out[i] = rec.b
	}
	return out
}

// RemoveFlow drops every binding registered over the connection flowID (it died) and returns the removed
// bindings that had not expired yet. An empty flowID removes nothing.
func (r *Registrar) RemoveFlow(flowID string) []Binding {
	if flowID == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	var removed []Binding
	for aor, recs := range r.aors {
		kept := recs[:0:0]
		for _, rec := range recs {
			switch {
			case rec.b.FlowID != flowID:
				kept = append(kept, rec)
			case rec.live(now):
				removed = append(removed, rec.b)
			}
		}
		r.storeLocked(aor, kept)
	}
	return removed
}

// Sweep removes the expired bindings and returns them. Lookup, Count and AORs ignore expired bindings
// anyway; Sweep only frees their memory, so run it periodically.
func (r *Registrar) Sweep() []Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	var removed []Binding
	for aor, recs := range r.aors {
		kept := recs[:0:0]
		for _, rec := range recs {
			if rec.live(now) {
				kept = append(kept, rec)
			} else {
				removed = append(removed, rec.b)
			}
		}
		r.storeLocked(aor, kept)
	}
	return removed
}

// Count returns the number of unexpired bindings over all addresses-of-record.
func (r *Registrar) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	n := 0
	for _, recs := range r.aors {
		for _, rec := range recs {
			if rec.live(now) {
				n++
			}
		}
	}
	return n
}

// AORs returns, sorted, the addresses-of-record that have at least one unexpired binding.
func (r *Registrar) AORs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	var out []string
	for aor, recs := range r.aors {
		for _, rec := range recs {
			if rec.live(now) {
				out = append(out, aor)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func (r *Registrar) storeLocked(aor string, recs []record) {
	if len(recs) == 0 {
		delete(r.aors, aor)
		return
	}
	r.aors[aor] = recs
}
