package policy

import (
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryStore is the in-memory Store of a single edge. The zero value is not usable; use NewMemoryStore.
type MemoryStore struct {
	mu       sync.Mutex
	windows  map[string]*window
	distinct map[string]*distinctSet
	buckets  map[string]*bucket
	gauges   map[string]int64
	totals   map[string]total
	flags    map[string]time.Time
	offences map[netip.Addr]offence

	banMu sync.RWMutex
	bans  map[netip.Addr]Ban
	banN  atomic.Int64 // len(bans), read without the lock on the fast path
}

type window struct {
	times []time.Time // the most recent events, oldest first, at most max
	span  time.Duration
}

type distinctSet struct {
	seen map[string]time.Time
	span time.Duration
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64
	burst  float64
}

type total struct {
	v      float64
	expire time.Time
}

type offence struct {
	n    int
	last time.Time
	mem  time.Duration
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{windows: map[string]*window{}, distinct: map[string]*distinctSet{},
		buckets: map[string]*bucket{}, gauges: map[string]int64{}, totals: map[string]total{},
		flags: map[string]time.Time{}, offences: map[netip.Addr]offence{}, bans: map[netip.Addr]Ban{}}
}

func (w *window) prune(now time.Time) {
	cut := now.Add(-w.span)
	i := 0
	for i < len(w.times) && !w.times[i].After(cut) {
		i++
	}
	w.times = w.times[i:]
}

// Hit implements Store. Once max events are in the window the oldest is dropped for the new one, so the
// answer stays exact for "at least max events in the window".
func (s *MemoryStore) Hit(key string, now time.Time, span time.Duration, max int) int {
	if max < 1 {
		max = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.windows[key]
	if w == nil {
		w = &window{}
		s.windows[key] = w
	}
	w.span = span
	w.prune(now)
	if len(w.times) >= max {
		w.times = append(w.times[:0], w.times[len(w.times)-max+1:]...)
	}
	w.times = append(w.times, now)
	return len(w.times)
}

// Count implements Store.
func (s *MemoryStore) Count(key string, now time.Time, span time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.windows[key]
	if w == nil {
		return 0
	}
	cut := now.Add(-span)
	n := 0
	for _, t := range w.times {
		if t.After(cut) {
			n++
		}
	}
	return n
}

// Distinct implements Store.
func (s *MemoryStore) Distinct(key, member string, now time.Time, span time.Duration, max int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.distinct[key]
	if d == nil {
		d = &distinctSet{seen: map[string]time.Time{}}
		s.distinct[key] = d
	}
	d.span = span
	cut := now.Add(-span)
	for m, t := range d.seen {
		if !t.After(cut) {
			delete(d.seen, m)
		}
	}
	if _, ok := d.seen[member]; ok || len(d.seen) < max {
		d.seen[member] = now
	}
	return len(d.seen)
}

// Take implements Store.
func (s *MemoryStore) Take(key string, now time.Time, rate float64, burst int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(burst), last: now}
		s.buckets[key] = b
	}
	b.rate, b.burst = rate, float64(burst)
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens += el.Seconds() * b.rate
		b.last = now
	}
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
}

// Reset implements Store.
func (s *MemoryStore) Reset(key string) {
	s.mu.Lock()
	delete(s.windows, key)
	delete(s.distinct, key)
	delete(s.buckets, key)
	s.mu.Unlock()
}

// Add implements Store.
func (s *MemoryStore) Add(key string, delta int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.gauges[key] + delta
	if v <= 0 {
		delete(s.gauges, key)
		return 0
	}
	s.gauges[key] = v
	return v
}

// AddFloat implements Store.
func (s *MemoryStore) AddFloat(key string, delta float64, expire time.Time) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.totals[key]
	t.v += delta
	if expire.After(t.expire) {
		t.expire = expire
	}
	s.totals[key] = t
	return t.v
}

// SetFlag implements Store.
func (s *MemoryStore) SetFlag(key string, until time.Time) {
	s.mu.Lock()
	s.flags[key] = until
	s.mu.Unlock()
}

// Flag implements Store.
func (s *MemoryStore) Flag(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.flags[key]
	return ok && now.Before(u)
}

// Ban implements Store.
func (s *MemoryStore) Ban(b Ban) {
	b.IP = b.IP.Unmap()
	s.banMu.Lock()
	s.bans[b.IP] = b
	s.banN.Store(int64(len(s.bans)))
	s.banMu.Unlock()
}

// Banned implements Store without allocating.
func (s *MemoryStore) Banned(ip netip.Addr, now time.Time) bool {
	if s.banN.Load() == 0 {
		return false
	}
	ip = ip.Unmap()
	s.banMu.RLock()
	b, ok := s.bans[ip]
	s.banMu.RUnlock()
	return ok && now.Before(b.Until)
}

// Unban implements Store.
func (s *MemoryStore) Unban(ip netip.Addr) (Ban, bool) {
	ip = ip.Unmap()
	s.banMu.Lock()
	defer s.banMu.Unlock()
	b, ok := s.bans[ip]
	delete(s.bans, ip)
	s.banN.Store(int64(len(s.bans)))
	return b, ok
}

// Bans implements Store; the list is sorted by IP.
func (s *MemoryStore) Bans(now time.Time) []Ban {
	s.banMu.RLock()
	out := make([]Ban, 0, len(s.bans))
	for _, b := range s.bans {
		if now.Before(b.Until) {
			out = append(out, b)
		}
	}
	s.banMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

// ExpireBans implements Store.
func (s *MemoryStore) ExpireBans(now time.Time) []Ban {
	if s.banN.Load() == 0 {
		return nil
	}
	s.banMu.Lock()
	defer s.banMu.Unlock()
	var out []Ban
	for ip, b := range s.bans {
		if !now.Before(b.Until) {
			out = append(out, b)
			delete(s.bans, ip)
		}
	}
	s.banN.Store(int64(len(s.bans)))
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

// AddOffence implements Store.
func (s *MemoryStore) AddOffence(ip netip.Addr, now time.Time, memory time.Duration) int {
	ip = ip.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.offences[ip]
	if o.n > 0 && now.Sub(o.last) > o.mem {
		o.n = 0
	}
	o.n++
	o.last, o.mem = now, memory
	s.offences[ip] = o
	return o.n
}

// Sweep implements Store.
func (s *MemoryStore) Sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, w := range s.windows {
		if w.prune(now); len(w.times) == 0 {
			delete(s.windows, k)
		}
	}
	for k, d := range s.distinct {
		cut := now.Add(-d.span)
		for m, t := range d.seen {
			if !t.After(cut) {
				delete(d.seen, m)
			}
		}
		if len(d.seen) == 0 {
			delete(s.distinct, k)
		}
	}
	for k, b := range s.buckets {
		if b.refill(now); b.tokens >= b.burst {
			delete(s.buckets, k)
		}
	}
	for k, t := range s.totals {
		if !now.Before(t.expire) {
			delete(s.totals, k)
		}
	}
	for k, u := range s.flags {
		if !now.Before(u) {
			delete(s.flags, k)
		}
	}
	for ip, o := range s.offences {
		if now.Sub(o.last) > o.mem {
			delete(s.offences, ip)
		}
	}
}
