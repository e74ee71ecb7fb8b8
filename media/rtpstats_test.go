package media

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// feed sends packets with the given sequence offsets from base, 20 ms / 160 ticks apart,
// arriving exactly on time.
func feed(s *RTPStats, ssrc uint32, base uint16, offsets []int) {
	for _, o := range offsets {
		seq := base + uint16(o)
		s.Update(ssrc, seq, uint32(o*160), 160, t0.Add(time.Duration(o)*20*time.Millisecond))
	}
}

func seqRange(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}

	return out
}

func TestRTPStatsInOrder(t *testing.T) {
	s := NewRTPStats(8000)
	feed(s, 1, 1000, seqRange(100))
	got := s.Snapshot()
	if got.Packets != 100 || got.Bytes != 16000 || got.Expected != 100 || got.Lost != 0 ||
		got.LossFraction != 0 || got.ExtHighestSeq != 1099 || got.Late != 0 || got.Sources != 1 || got.SSRC != 1 {
		t.Fatalf("snapshot = %+v", got)
	}
	if got.Jitter != 0 {
		t.Errorf("jitter %d for a perfectly timed stream", got.Jitter)
	}
	if !got.LastArrival.Equal(t0.Add(99 * 20 * time.Millisecond)) {
		t.Errorf("last arrival %v", got.LastArrival)
	}
}

func TestRTPStatsSequenceWrap(t *testing.T) {
	s := NewRTPStats(8000)
	feed(s, 1, 65500, seqRange(100)) // 65500..65535, 0..63
	got := s.Snapshot()
	if got.ExtHighestSeq != 1<<16+63 || got.Expected != 100 || got.Lost != 0 || got.Packets != 100 {
		t.Fatalf("snapshot = %+v", got)
	}
	// Another full cycle, in steps of 1000 (loss, not a restart): a second wrap.
	var offs []int
	for o := 1100; o <= 100+65536; o += 1000 {
		offs = append(offs, o)
	}
	offs = append(offs, 99+65536, 64+65536) // the last one 35 behind: late, not a restart
	feed(s, 1, 65500, offs)
	got = s.Snapshot()
	if got.ExtHighestSeq != 2<<16+63 || got.Expected != 100+65536 || got.Lost != int64(got.Expected-got.Packets) {
		t.Fatalf("second wrap: %+v", got)
	}
	if got.Late != 1 {
		t.Fatalf("late %d", got.Late)
	}
}

func TestRTPStatsLoss(t *testing.T) {
	s := NewRTPStats(8000)
	var offs []int
	for i := range 100 {
		if i%10 != 5 { // lose 10 of 100
			offs = append(offs, i)
		}
	}
	feed(s, 1, 40000, offs)
	got := s.Snapshot()
	if got.Packets != 90 || got.Expected != 100 || got.Lost != 10 || math.Abs(got.LossFraction-0.1) > 1e-12 {
		t.Fatalf("snapshot = %+v", got)
	}
	rr, ok := s.ReportBlock(t0)
	if !ok || rr.SSRC != 1 || rr.FractionLost != 25 || rr.TotalLost != 10 || rr.LastSequenceNumber != 40099 {
		t.Fatalf("report = %+v", rr)
	}
	// Next interval without loss.
	feed(s, 1, 40000, []int{100, 101, 102, 103})
	rr, _ = s.ReportBlock(t0)
	if rr.FractionLost != 0 || rr.TotalLost != 10 {
		t.Fatalf("second interval = %+v", rr)
	}
	// The report marshals (pion checks field ranges).
	if _, err := (&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{rr}}).Marshal(); err != nil {
		t.Fatal(err)
	}
}

func TestRTPStatsReorderAndDuplicates(t *testing.T) {
	s := NewRTPStats(8000)
	feed(s, 1, 10, []int{0, 2, 1, 3, 5, 4, 6})
	got := s.Snapshot()
	if got.Packets != 7 || got.Lost != 0 || got.Late != 2 || got.ExtHighestSeq != 16 {
		t.Fatalf("reordered: %+v", got)
	}
	feed(s, 1, 10, []int{6, 3}) // duplicates
	got = s.Snapshot()
	if got.Packets != 9 || got.Lost != -2 || got.LossFraction != 0 || got.Late != 4 {
		t.Fatalf("duplicates: %+v", got)
	}
	rr, _ := s.ReportBlock(t0)
	if rr.TotalLost != 0xfffffe { // -2 in 24-bit two's complement
		t.Fatalf("negative cumulative loss encoded as %#x", rr.TotalLost)
	}
}

func TestRTPStatsRestartAndSSRCChange(t *testing.T) {
	s := NewRTPStats(8000)
	feed(s, 1, 100, seqRange(10)) // 100..109
	// A single stray packet far away is held back ...
	if s.Update(1, 30000, 0, 160, t0) {
		t.Fatal("a jump of 30000 was accepted at once")
	}
	// ... and a packet that does not follow it is normal again.
	if !s.Update(1, 110, 1600, 160, t0.Add(200*time.Millisecond)) {
		t.Fatal("in-order packet after a stray one was rejected")
	}
	// Two sequential packets after a jump: the sender restarted.
	s.Update(1, 50000, 0, 160, t0)
	if !s.Update(1, 50001, 160, 160, t0.Add(20*time.Millisecond)) {
		t.Fatal("restart not accepted")
	}
	got := s.Snapshot()
	if got.Discarded != 2 || got.Sources != 2 || got.Packets != 12 || got.Expected != 12 || got.Lost != 0 {
		t.Fatalf("after restart: %+v", got)
	}
	// New SSRC (e.g. after a transfer): a new source, totals carry on.
	feed(s, 2, 7, seqRange(5))
	got = s.Snapshot()
	if got.SSRC != 2 || got.Sources != 3 || got.Packets != 17 || got.Expected != 17 || got.ExtHighestSeq != 11 {
		t.Fatalf("after SSRC change: %+v", got)
	}
}

// TestRTPStatsJitterConverges feeds a stream whose packets arrive alternately on time and
// 10 ms late: every transit difference is 10 ms, so the RFC 3550 estimate converges to
// 10 ms (80 ticks at 8 kHz).
func TestRTPStatsJitterConverges(t *testing.T) {
	for _, rate := range []uint32{8000, 48000} {
		s := NewRTPStats(rate)
		tick := rate / 50 // 20 ms
		for i := range 300 {
			late := time.Duration(i%2) * 10 * time.Millisecond
			s.Update(1, uint16(i), uint32(i)*tick, 160, t0.Add(time.Duration(i)*20*time.Millisecond+late))
		}
		got := s.Snapshot()
		wantTicks := float64(rate) / 100
		if math.Abs(got.JitterMs-10) > 0.01 || math.Abs(float64(got.Jitter)-wantTicks) > 1 {
			t.Errorf("%d Hz: jitter %d ticks / %.3f ms, want %.0f / 10", rate, got.Jitter, got.JitterMs, wantTicks)
		}
	}

	// Early in the stream it follows J_n = D (1 - (15/16)^(n-1)).
	s := NewRTPStats(8000)
	for i := range 5 {
		late := time.Duration(i%2) * 10 * time.Millisecond
		s.Update(1, uint16(i), uint32(i)*160, 160, t0.Add(time.Duration(i)*20*time.Millisecond+late))
	}
	want := 10 * (1 - math.Pow(15.0/16, 4))
	if got := s.Snapshot().JitterMs; math.Abs(got-want) > 1e-9 {
		t.Errorf("after 5 packets jitter %.6f ms, want %.6f", got, want)
	}

	// No clock rate, no jitter; a timestamp jump is not jitter.
	var z RTPStats
	z.Update(1, 1, 0, 10, t0)
	z.Update(1, 2, 160, 10, t0.Add(time.Second))
	if z.Snapshot().JitterMs != 0 {
		t.Error("jitter without clock rate")
	}
	s = NewRTPStats(8000)
	s.Update(1, 1, 0, 10, t0)
	s.Update(1, 2, 8000*3600, 10, t0.Add(20*time.Millisecond))
	if s.Snapshot().Jitter != 0 {
		t.Errorf("timestamp jump counted as jitter: %d", s.Snapshot().Jitter)
	}
}

func TestRTPStatsSenderReportAndRTT(t *testing.T) {
	s := NewRTPStats(8000)
	if _, ok := s.ReportBlock(t0); ok {
		t.Fatal("report before any packet")
	}
	feed(s, 5, 0, seqRange(3))
	ntp := NTPTime(t0)
	s.SenderReport(ntp, t0)
	rr, _ := s.ReportBlock(t0.Add(1500 * time.Millisecond))
	if rr.LastSenderReport != uint32(ntp>>16) || rr.Delay != 65536*3/2 {
		t.Fatalf("LSR %#x DLSR %d", rr.LastSenderReport, rr.Delay)
	}
	// Seen from the sender: the report comes back 1.6 s after its SR, the receiver
	// held it 1.5 s, so the round trip is 100 ms.
	rtt, ok := RoundTrip(rr, t0.Add(1600*time.Millisecond))
	if !ok || (rtt-100*time.Millisecond).Abs() > time.Millisecond {
		t.Fatalf("RTT %v %v", rtt, ok)
	}
	if _, ok := RoundTrip(rtcp.ReceptionReport{}, t0); ok {
		t.Error("RTT without LSR")
	}
	if _, ok := RoundTrip(rr, t0); ok {
		t.Error("negative RTT accepted")
	}
}

func TestNTPTime(t *testing.T) {
	// 1970-01-01 is 2208988800 s after the NTP epoch; half a second is 0x80000000.
	got := NTPTime(time.Unix(0, 500_000_000))
	if got != 2208988800<<32|0x80000000 {
		t.Fatalf("NTPTime = %#x", got)
	}
}

func TestRTPStatsConcurrentSnapshot(t *testing.T) {
	s := NewRTPStats(8000)
	var wg sync.WaitGroup
	wg.Go(func() { feed(s, 1, 0, seqRange(2000)) })
	wg.Go(func() {
		for range 200 {
			_ = s.Snapshot()
			s.ReportBlock(t0)
		}
	})
	wg.Wait()
	if got := s.Snapshot(); got.Packets != 2000 {
		t.Fatalf("packets %d", got.Packets)
	}
}

func BenchmarkRTPStatsUpdate(b *testing.B) {
	s := NewRTPStats(8000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Update(1, uint16(i), uint32(i)*160, 160, t0.Add(time.Duration(i)*20*time.Millisecond))
	}
}
