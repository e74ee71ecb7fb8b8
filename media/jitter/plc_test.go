package jitter

import (
	"errors"
	"math"
	"testing"
)

func sineFrames(freq float64, rate, frame, frames int, amp float64) [][]int16 {
	out := make([][]int16, frames)
	for f := range out {
		out[f] = make([]int16, frame)
		for i := range out[f] {
			n := f*frame + i
			out[f][i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(n)/float64(rate))))
		}
	}
	return out
}

func rms(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func snrDB(ref, got []int16) float64 {
	var sig, noise float64
	for i := range ref {
		e := float64(got[i]) - float64(ref[i])
		sig += float64(ref[i]) * float64(ref[i])
		noise += e * e
	}
	return 10 * math.Log10(sig/noise)
}

func TestPLCContinuesPeriodicSignal(t *testing.T) {
	for _, tc := range []struct {
		freq float64
		rate int
	}{{440, 8000}, {200, 8000}, {150, 16000}, {1000, 16000}, {300, 48000}} {
		frame := tc.rate / 50
		src := sineFrames(tc.freq, tc.rate, frame, 12, 10000)
		p, err := NewPLC(tc.rate)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range src[:10] {
			p.Good(append([]int16(nil), f...))
		}
		got := make([]int16, frame)
		p.Conceal(got)
		// The first 10 ms are at full level and follow the real waveform.
		half := tc.rate / 100
		t.Logf("%g Hz at %d: SNR %.1f dB", tc.freq, tc.rate, snrDB(src[10][:half], got[:half]))
		if s := snrDB(src[10][:half], got[:half]); s < 15 {
			t.Errorf("%g Hz at %d: first 10 ms SNR %.1f dB", tc.freq, tc.rate, s)
		}
		if r := rms(got[:half]) / rms(src[10][:half]); r < 0.9 || r > 1.1 {
			t.Errorf("%g Hz at %d: level ratio %.2f", tc.freq, tc.rate, r)
		}
		// The second 10 ms fade by up to 20%.
		if r := rms(got[half:]) / rms(src[10][half:]); r < 0.75 || r > 0.95 {
			t.Errorf("%g Hz at %d: second half level ratio %.2f", tc.freq, tc.rate, r)
		}
	}
}

func TestPLCFadesOut(t *testing.T) {
	const rate, frame = 8000, 160
	p, _ := NewPLC(rate)
	for _, f := range sineFrames(300, rate, frame, 5, 12000) {
		p.Good(f)
	}
	var levels []float64
	buf := make([]int16, frame)
	for range 5 {
		p.Conceal(buf)
		levels = append(levels, rms(buf))
	}
	for i := 1; i < len(levels); i++ {
		if levels[i] >= levels[i-1] && levels[i-1] > 0 {
			t.Fatalf("levels do not fall: %v", levels)
		}
	}
	if levels[3] != 0 || levels[4] != 0 { // silent from 60 ms on
		t.Fatalf("not silent after 60 ms: %v", levels)
	}
}

func TestPLCCrossFadeOnRecovery(t *testing.T) {
	const rate, frame = 8000, 160
	src := sineFrames(250, rate, frame, 20, 10000)
	p, _ := NewPLC(rate)
	var out []int16
	for i, f := range src {
		f = append([]int16(nil), f...)
		if i == 8 || i == 9 {
			buf := make([]int16, frame)
			p.Conceal(buf)
			out = append(out, buf...)
			continue
		}
		p.Good(f)
		out = append(out, f...)
	}
	// No click: the largest sample-to-sample step stays near the sine's own.
	maxStep := 2 * math.Pi * 250 / rate * 10000 // derivative bound of the sine
	for i := 1; i < len(out); i++ {
		if d := math.Abs(float64(out[i]) - float64(out[i-1])); d > 1.5*maxStep {
			t.Fatalf("jump of %.0f at sample %d (bound %.0f)", d, i, maxStep)
		}
	}
	// After the cross-fade the frame is the real audio again.
	tail := out[10*frame+64 : 11*frame]
	if s := snrDB(src[10][64:], tail); s < 60 {
		t.Fatalf("recovered frame altered: SNR %.1f", s)
	}
}

func TestPLCNoHistoryOrSilence(t *testing.T) {
	p, _ := NewPLC(16000)
	buf := []int16{1, 2, 3}
	p.Conceal(buf)
	if buf[0] != 0 || buf[2] != 0 {
		t.Fatalf("no history: %v", buf)
	}
	p.Reset()
	for range 5 {
		p.Good(make([]int16, 320))
	}
	buf = make([]int16, 320)
	p.Conceal(buf)
	if rms(buf) != 0 {
		t.Fatal("silent history gave noise")
	}
	good := []int16{5, 5, 5}
	p.Good(good) // recovery from a silent concealment must not alter much
	if good[2] != 5 {
		t.Fatalf("recovery: %v", good)
	}
}

func TestPLCBadRate(t *testing.T) {
	if _, err := NewPLC(11025); !errors.Is(err, ErrBadRate) {
		t.Fatal(err)
	}
	p, _ := NewPLC(48000)
	if p.SampleRate() != 48000 {
		t.Fatal("rate")
	}
}

func TestPLCOddFrameSizes(t *testing.T) {
	p, _ := NewPLC(8000)
	// Frames larger than the history and tiny ones.
	p.Good(make([]int16, 2000))
	p.Good([]int16{1})
	p.Conceal(make([]int16, 1000))
	p.Conceal(make([]int16, 1))
	p.Good(make([]int16, 3))
}

func TestPLCNoAllocs(t *testing.T) {
	p, _ := NewPLC(8000)
	frames := sineFrames(440, 8000, 160, 4, 8000)
	buf := make([]int16, 160)
	for _, f := range frames {
		p.Good(f)
	}
	p.Conceal(buf)
	p.Good(frames[0])
	a := testing.AllocsPerRun(200, func() {
		p.Good(frames[1])
		p.Conceal(buf)
		p.Good(frames[2])
	})
	if a != 0 {
		t.Fatalf("%v allocations", a)
	}
}

func BenchmarkPLCConceal8k(b *testing.B) {
	p, _ := NewPLC(8000)
	frames := sineFrames(440, 8000, 160, 6, 8000)
	buf := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames[:5] {
			p.Good(f)
		}
		p.Conceal(buf) // includes the pitch search
	}
}
