package audio

import (
	"errors"
	"io"
	"math"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readAll(t *testing.T, s Source, frame, frames int) []int16 {
	t.Helper()
	out := make([]int16, 0, frame*frames)
	buf := make([]int16, frame)
	for range frames {
		if err := s.ReadFrame(buf); err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		out = append(out, buf...)
	}
	return out
}

func TestToneSource(t *testing.T) {
	for _, tc := range []struct {
		freq float64
		rate int
	}{{440, 8000}, {1000, 8000}, {3000, 8000}, {440, 16000}, {7000, 16000}, {1234.5, 48000}} {
		src, err := NewToneSource(tc.freq, tc.rate, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if src.SampleRate() != tc.rate {
			t.Fatalf("SampleRate = %d", src.SampleRate())
		}
		pcm := readAll(t, src, tc.rate/50, 50) // 1 s in 20 ms frames
		if f := DominantFrequency(pcm, tc.rate); math.Abs(f-tc.freq) > 0.5 {
			t.Errorf("%g Hz at %d: dominant %g Hz", tc.freq, tc.rate, f)
		}
		peak := 0
		for _, s := range pcm {
			peak = max(peak, int(math.Abs(float64(s))))
		}
		if peak < 16300 || peak > 16384 {
			t.Errorf("%g Hz at %d: peak %d, want ~16383", tc.freq, tc.rate, peak)
		}
		if r := RMS(pcm); math.Abs(r-16383.5/math.Sqrt2) > 60 {
			t.Errorf("%g Hz at %d: RMS %g", tc.freq, tc.rate, r)
		}
	}
}

func TestToneSourceContinuousAcrossFrames(t *testing.T) {
	a, _ := NewToneSource(440, 8000, 0.8)
	b, _ := NewToneSource(440, 8000, 0.8)
	whole := make([]int16, 1600)
	if err := a.ReadFrame(whole); err != nil {
		t.Fatal(err)
	}
	framed := readAll(t, b, 160, 10)
	for i := range whole {
		if whole[i] != framed[i] {
			t.Fatalf("sample %d: %d in one read, %d in frames", i, whole[i], framed[i])
		}
	}
}

func TestToneSourceBadParams(t *testing.T) {
	for _, tc := range []struct {
		freq, amp float64
		rate      int
		want      error
	}{
		{0, 0.5, 8000, ErrBadParam},
		{-5, 0.5, 8000, ErrBadParam},
		{4000, 0.5, 8000, ErrBadParam},
		{math.NaN(), 0.5, 8000, ErrBadParam},
		{440, 0, 8000, ErrBadParam},
		{440, 1.5, 8000, ErrBadParam},
		{440, math.NaN(), 8000, ErrBadParam},
		{440, 0.5, 12345, ErrBadRate},
		{440, 0.5, 0, ErrBadRate},
	} {
		if _, err := NewToneSource(tc.freq, tc.rate, tc.amp); !errors.Is(err, tc.want) {
			t.Errorf("NewToneSource(%g, %d, %g) = %v, want %v", tc.freq, tc.rate, tc.amp, err, tc.want)
		}
	}
}

func TestSilenceSource(t *testing.T) {
	s, err := NewSilenceSource(16000)
	if err != nil {
		t.Fatal(err)
	}
	buf := []int16{1, 2, 3, -4}
	if err := s.ReadFrame(buf); err != nil {
		t.Fatal(err)
	}
	if RMS(buf) != 0 || s.SampleRate() != 16000 {
		t.Fatalf("silence = %v at %d", buf, s.SampleRate())
	}
	if _, err := NewSilenceSource(7); !errors.Is(err, ErrBadRate) {
		t.Fatalf("NewSilenceSource(7) = %v", err)
	}
}

func TestSinks(t *testing.T) {
	var n NullSink
	if err := n.WriteFrame([]int16{1}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	b := NewBufferSink(8000)
	frame := []int16{1, 2, 3}
	_ = b.WriteFrame(frame)
	frame[0] = 99 // the sink must have copied
	_ = b.WriteFrame([]int16{4})
	got := b.Samples()
	if len(got) != 4 || got[0] != 1 || got[3] != 4 || b.SampleRate() != 8000 {
		t.Fatalf("BufferSink = %v", got)
	}
	_ = b.Close()
	if err := b.WriteFrame(frame); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close = %v", err)
	}
	if len(b.Samples()) != 4 {
		t.Fatal("samples lost on close")
	}
}

func TestResampleSource(t *testing.T) {
	tone, _ := NewToneSource(1000, 48000, 0.5)
	src, err := ResampleSource(tone, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if src.SampleRate() != 8000 {
		t.Fatalf("rate %d", src.SampleRate())
	}
	pcm := readAll(t, src, 160, 50)
	if f := DominantFrequency(pcm, 8000); math.Abs(f-1000) > 1 {
		t.Fatalf("dominant %g Hz", f)
	}
	// Level after the filter settles stays within 0.2 dB.
	if d := 20 * math.Log10(RMS(pcm[800:])/(16383.5/math.Sqrt2)); math.Abs(d) > 0.2 {
		t.Fatalf("level changed by %.2f dB", d)
	}
	same, _ := ResampleSource(tone, 48000)
	if same != Source(tone) {
		t.Fatal("equal rates should return the source itself")
	}
	if _, err := ResampleSource(tone, -1); !errors.Is(err, ErrBadRate) {
		t.Fatalf("bad rate: %v", err)
	}
}

// finiteSource yields n samples of a ramp then io.EOF.
type finiteSource struct {
	rate, n, pos int
}

func (f *finiteSource) SampleRate() int { return f.rate }
func (f *finiteSource) ReadFrame(dst []int16) error {
	if f.pos >= f.n {
		return io.EOF
	}
	for i := range dst {
		if f.pos < f.n {
			dst[i] = 1000
			f.pos++
		} else {
			dst[i] = 0
		}
	}
	return nil
}

func TestResampleSourceEOF(t *testing.T) {
	src, err := ResampleSource(&finiteSource{rate: 16000, n: 3200}, 8000)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int16, 160)
	total := 0
	for {
		err := src.ReadFrame(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		total += len(buf)
		if total > 10000 {
			t.Fatal("no EOF")
		}
	}
	// 3200 samples at 16 kHz = 1600 at 8 kHz, plus the flushed filter tail,
	// in whole frames.
	if total < 1600 || total > 1600+320 {
		t.Fatalf("read %d samples", total)
	}
}
