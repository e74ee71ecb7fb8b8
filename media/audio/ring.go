package audio

import "sync/atomic"

// ring is a single-producer single-consumer FIFO of samples between an audio
// device callback and a media goroutine. Neither side blocks or allocates:
// positions are monotonically increasing counters published with atomics,
// so the producer only ever writes free slots and the consumer only ever
// reads filled ones (no data race, no torn samples).
//
// Only the consumer moves the read position; that is why "drop the oldest"
// is done by the consumer (discard) and a producer facing a full ring can
// only drop what it is writing.
type ring struct {
	buf  []int16
	mask uint64
	w, r atomic.Uint64 // total samples written / read
}

// newRing returns a ring holding at least n samples (rounded up to a power of two).
func newRing(n int) *ring {
	c := 1
	for c < n {
		c <<= 1
	}
	return &ring{buf: make([]int16, c), mask: uint64(c - 1)}
}

// Cap is the number of samples the ring holds.
func (q *ring) Cap() int { return len(q.buf) }

// Len is the number of samples buffered. Exact for the consumer; a lower
// bound of the free space for the producer.
func (q *ring) Len() int { return int(q.w.Load() - q.r.Load()) }

// Write appends as many samples of p as fit and returns how many did
// (producer side).
func (q *ring) Write(p []int16) int {
	w := q.w.Load()
	free := len(q.buf) - int(w-q.r.Load())
	n := min(len(p), free)
	if n <= 0 {
		return 0
	}
	i := int(w & q.mask)
	k := copy(q.buf[i:], p[:n])
	copy(q.buf, p[k:n])
	q.w.Store(w + uint64(n))
	return n
}

// Read moves up to len(p) samples into p and returns how many (consumer side).
func (q *ring) Read(p []int16) int {
	r := q.r.Load()
	n := min(len(p), int(q.w.Load()-r))
	if n <= 0 {
		return 0
	}
	i := int(r & q.mask)
	k := copy(p[:n], q.buf[i:])
	copy(p[k:n], q.buf)
	q.r.Store(r + uint64(n))
	return n
}

// Discard drops up to n of the oldest samples and returns how many (consumer side).
func (q *ring) Discard(n int) int {
	r := q.r.Load()
	n = min(n, int(q.w.Load()-r))
	if n <= 0 {
		return 0
	}
	q.r.Store(r + uint64(n))
	return n
}
