package auth

import (
	"strconv"
	"testing"
)

func TestNCTableFloodStaysBoundedAndConsistent(t *testing.T) {
	const max = 100
	tb := newNCTable(max)
	for i := int64(1); i <= 10000; i++ {
		if got := tb.use("n"+strconv.FormatInt(i, 10), i, i+1_000_000, i, 1); got != ncOK {
			t.Fatalf("insert %d: %v", i, got)
		}
		if len(tb.m) > max {
			t.Fatalf("table grew to %d", len(tb.m))
		}
	}
	if live := len(tb.order) - tb.head; live != len(tb.m) || cap(tb.order) > 4*max {
		t.Fatalf("queue inconsistent: live %d map %d cap %d", live, len(tb.m), cap(tb.order))
	}
	for _, k := range tb.order[tb.head:] {
		if _, ok := tb.m[k]; !ok {
			t.Fatalf("queued key %q not in map", k)
		}
	}
	// Evicted (unexpired) nonces are stale, tracked ones still detect replay, newer ones are accepted.
	if got := tb.use("n1", 1, 1_000_001, 10001, 2); got != ncStale {
		t.Fatalf("evicted nonce: %v, want stale", got)
	}
	if got := tb.use("n10000", 10000, 1_010_000, 10001, 1); got != ncReplay {
		t.Fatalf("tracked nonce: %v, want replay", got)
	}
	if got := tb.use("n10001", 10001, 1_010_001, 10001, 1); got != ncOK {
		t.Fatalf("new nonce: %v", got)
	}
	// Once everything expires a single insert clears the table.
	if got := tb.use("late", 5_000_000, 6_000_000, 5_000_000, 1); got != ncOK || len(tb.m) != 1 {
		t.Fatalf("after expiry: %v, %d entries", got, len(tb.m))
	}
}
