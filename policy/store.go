package policy

import (
	"net/netip"
	"time"
)

// Ban is one banned source IP.
type Ban struct {
	IP      netip.Addr
	Since   time.Time
	Until   time.Time
	Rule    string // the rule that banned it (auth_ban, scanner_ua, scanner_to_users, flood)
	Reason  string
	Offence int // 1 for a first ban, growing with repeat offences
}

// Store holds the policy's shared state: sliding-window counters, token buckets, gauges, spend totals,
// flags and bans. Every method is safe for concurrent use and takes the current time from the caller, so
// the store has no clock of its own. MemoryStore is the single-edge implementation; a Redis one shares
// state between edges.
type Store interface {
	// Hit records one event under key at now and returns how many events key holds in the window ending
	// at now, this one included. The store may stop recording once max events are in the window (the
	// answer is then max).
	Hit(key string, now time.Time, window time.Duration, max int) int
	// Count returns how many events key holds in the window ending at now, without recording one.
	Count(key string, now time.Time, window time.Duration) int
	// Distinct records member under key at now and returns the number of distinct members seen in the
	// window ending at now, counting at most max.
	Distinct(key, member string, now time.Time, window time.Duration, max int) int
	// Take takes a token from the bucket key, which refills at rate tokens per second up to burst, and
	// reports whether one was available.
	Take(key string, now time.Time, rate float64, burst int) bool
	// Reset forgets the events, members and tokens under key.
	Reset(key string)
	// Add adds delta to the integer gauge key and returns the new value (never below zero).
	Add(key string, delta int64) int64
	// AddFloat adds delta to the total key (kept until expire) and returns the new value.
	AddFloat(key string, delta float64, expire time.Time) float64
	// SetFlag sets key until the given time.
	SetFlag(key string, until time.Time)
	// Flag reports whether key is set at now.
	Flag(key string, now time.Time) bool
	// Ban bans b.IP until b.Until, replacing any ban of that IP.
	Ban(b Ban)
	// Banned reports whether ip is banned at now. It is on the fast path of every datagram and
	// connection: it must not allocate.
	Banned(ip netip.Addr, now time.Time) bool
	// Unban lifts the ban of ip and returns it.
	Unban(ip netip.Addr) (Ban, bool)
	// Bans lists the bans in force at now.
	Bans(now time.Time) []Ban
	// ExpireBans removes the bans that ended at or before now and returns them.
	ExpireBans(now time.Time) []Ban
	// AddOffence records an offence of ip at now and returns how many offences ip has had without a
	// pause longer than memory (1 for the first).
	AddOffence(ip netip.Addr, now time.Time, memory time.Duration) int
	// Sweep drops state that can no longer matter at now (idle windows, full buckets, expired flags).
	Sweep(now time.Time)
}
