package auth

import (
	"strings"
	"sync"
)

// ncTable remembers, per nonce, the highest nonce count accepted. It is bounded: entries leave in insertion
// order when they expire or when the table is full. Evicting an entry that has not expired raises floor, and
// a nonce that is not in the table and was issued at or before floor is reported stale, so that eviction can
// never make a replay succeed.
type ncTable struct {
	mu       sync.Mutex
	max      int
	m        map[string]*ncEntry
	order    []string // insertion order; order[head:] are live keys
	head     int
	floor    int64
	hasFloor bool
}

type ncEntry struct {
	nc      uint32
	ts      int64 // nonce timestamp
	expires int64
}

type ncOutcome int

const (
	ncOK ncOutcome = iota
	ncReplay
	ncStale
)

func newNCTable(max int) *ncTable {
	return &ncTable{max: max, m: make(map[string]*ncEntry)}
}

// use records nc for nonce (issued at ts, expiring at expires) at time now.
func (t *ncTable) use(nonce string, ts, expires, now int64, nc uint32) ncOutcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropExpired(now)
	if e, ok := t.m[nonce]; ok {
		if nc <= e.nc {
			return ncReplay
		}
		e.nc = nc
		return ncOK
	}
	if t.hasFloor && ts <= t.floor {
		return ncStale
	}
	for len(t.m) >= t.max {
		t.evictOldest()
	}
	key := strings.Clone(nonce) // nonce may point into a large header string
	t.m[key] = &ncEntry{nc: nc, ts: ts, expires: expires}
	t.order = append(t.order, key)
	return ncOK
}

// dropExpired removes expired entries from the front of the insertion order.
func (t *ncTable) dropExpired(now int64) {
	for t.head < len(t.order) {
		e := t.m[t.order[t.head]]
		if e.expires > now {
			break
		}
		t.pop()
	}
}

func (t *ncTable) evictOldest() {
	e := t.m[t.order[t.head]]
	if !t.hasFloor || e.ts > t.floor {
		t.floor, t.hasFloor = e.ts, true
	}
	t.pop()
}

func (t *ncTable) pop() {
	delete(t.m, t.order[t.head])
	t.order[t.head] = ""
	t.head++
	if t.head >= 64 && t.head*2 >= len(t.order) {
		n := copy(t.order, t.order[t.head:])
		clear(t.order[n:])
		t.order = t.order[:n]
		t.head = 0
	}
}

// len returns the number of tracked nonces.
func (t *ncTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
