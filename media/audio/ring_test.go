package audio

import (
	"sync"
	"testing"
)

func TestRingWrapAndLimits(t *testing.T) {
	q := newRing(5)
	if q.Cap() != 8 {
		t.Fatalf("cap %d, want 8 (next power of two)", q.Cap())
	}
	if n := q.Write([]int16{1, 2, 3, 4, 5, 6}); n != 6 {
		t.Fatalf("wrote %d", n)
	}
	got := make([]int16, 4)
	if n := q.Read(got); n != 4 || got[0] != 1 || got[3] != 4 {
		t.Fatalf("read %d %v", n, got)
	}
	// 2 buffered; 6 free: the write wraps and the last 2 do not fit.
	if n := q.Write([]int16{7, 8, 9, 10, 11, 12, 13, 14}); n != 6 {
		t.Fatalf("wrote %d into 6 free slots", n)
	}
	if q.Len() != 8 {
		t.Fatalf("len %d", q.Len())
	}
	if n := q.Discard(3); n != 3 { // drop the oldest: 5, 6, 7
		t.Fatalf("discarded %d", n)
	}
	got = make([]int16, 10)
	n := q.Read(got)
	want := []int16{8, 9, 10, 11, 12}
	if n != len(want) {
		t.Fatalf("read %d %v, want %v", n, got[:n], want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("read %v, want %v", got[:n], want)
		}
	}
	if q.Read(got) != 0 || q.Discard(1) != 0 || q.Len() != 0 {
		t.Fatal("empty ring returned data")
	}
}

// TestRingConcurrentOrder: one producer and one consumer on different
// goroutines see every sample in order (run with -race).
func TestRingConcurrentOrder(t *testing.T) {
	q := newRing(64)
	const total = 50000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]int16, 37)
		next := 0
		for next < total {
			k := min(len(buf), total-next)
			for i := range k {
				buf[i] = int16(next + i)
			}
			next += q.Write(buf[:k])
		}
	}()
	buf := make([]int16, 23)
	for want := 0; want < total; {
		n := q.Read(buf)
		for i := range n {
			if buf[i] != int16(want) {
				t.Fatalf("sample %d = %d", want, buf[i])
			}
			want++
		}
	}
	wg.Wait()
}

func TestRingNoAlloc(t *testing.T) {
	q := newRing(1024)
	in, out := make([]int16, 160), make([]int16, 160)
	if a := testing.AllocsPerRun(100, func() { q.Write(in); q.Read(out); q.Discard(1) }); a != 0 {
		t.Fatalf("%v allocations per write/read", a)
	}
}
