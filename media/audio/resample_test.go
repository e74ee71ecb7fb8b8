package audio

import (
	"errors"
	"math"
	"testing"
)

func TestResamplerPreservesTone(t *testing.T) {
	for _, tc := range []struct {
		in, out int
		freq    float64
	}{
		{8000, 16000, 1000}, {16000, 8000, 1000}, {8000, 48000, 440}, {48000, 8000, 3000},
		{16000, 48000, 5000}, {48000, 16000, 7000}, {44100, 16000, 1000}, {22050, 8000, 300},
		{11025, 16000, 2000}, {32000, 16000, 6500},
	} {
		pcm := sine(tc.freq, tc.in, tc.in, 10000) // 1 s
		got, err := Resample(pcm, tc.in, tc.out)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.out {
			t.Errorf("%d->%d: %d samples, want %d", tc.in, tc.out, len(got), tc.out)
		}
		if f := DominantFrequency(got, tc.out); math.Abs(f-tc.freq) > 1 {
			t.Errorf("%d->%d %g Hz: dominant %g", tc.in, tc.out, tc.freq, f)
		}
		// Passband gain: within 0.1 dB away from the edges of the signal.
		edge := tc.out / 20
		want := sine(tc.freq, tc.out, tc.out, 10000)
		d := 20 * math.Log10(RMS(got[edge:len(got)-edge])/RMS(want[edge:len(want)-edge]))
		if math.Abs(d) > 0.1 {
			t.Errorf("%d->%d %g Hz: gain %.3f dB", tc.in, tc.out, tc.freq, d)
		}
		// Time alignment: the output matches the ideal resampled sine.
		var errSum, sigSum float64
		for i := edge; i < len(got)-edge; i++ {
			e := float64(got[i]) - float64(want[i])
			errSum += e * e
			sigSum += float64(want[i]) * float64(want[i])
		}
		if snr := 10 * math.Log10(sigSum/errSum); snr < 40 {
			t.Errorf("%d->%d %g Hz: SNR against ideal %.1f dB", tc.in, tc.out, tc.freq, snr)
		}
	}
}

func TestResamplerAntiAlias(t *testing.T) {
	// Tones above the output Nyquist frequency must be removed, not folded.
	for _, tc := range []struct {
		in, out int
		freq    float64
	}{{48000, 8000, 6000}, {48000, 8000, 4500}, {16000, 8000, 5000}, {16000, 8000, 7000}, {48000, 16000, 12000}} {
		pcm := sine(tc.freq, tc.in, tc.in, 20000)
		got, err := Resample(pcm, tc.in, tc.out)
		if err != nil {
			t.Fatal(err)
		}
		alias := float64(tc.out) - tc.freq
		for alias < 0 {
			alias += float64(tc.out)
		}
		mid := got[tc.out/10 : len(got)-tc.out/10] // skip the onset transients
		lvl := 20 * math.Log10(RMS(mid)/RMS(pcm))
		if lvl > -80 {
			t.Errorf("%d->%d %g Hz (alias at %g Hz): residual %.1f dB", tc.in, tc.out, tc.freq, alias, lvl)
		}
	}
}

func TestResamplerStreamingMatchesOneShot(t *testing.T) {
	pcm := sine(700, 48000, 9600, 12000)
	ref, _ := NewResampler(48000, 16000)
	whole := ref.Process(nil, pcm)
	r, _ := NewResampler(48000, 16000)
	var parts []int16
	for i, sizes := 0, []int{1, 7, 960, 13, 480, 2}; i < len(pcm); {
		n := min(sizes[len(parts)%len(sizes)], len(pcm)-i)
		parts = r.Process(parts, pcm[i:i+n])
		i += n
	}
	if len(parts) != len(whole) {
		t.Fatalf("chunked %d samples, whole %d", len(parts), len(whole))
	}
	for i := range whole {
		if whole[i] != parts[i] {
			t.Fatalf("sample %d differs: %d vs %d", i, parts[i], whole[i])
		}
	}
}

func TestResamplerFrameSizes(t *testing.T) {
	for _, tc := range []struct{ in, out, inFrame, outFrame int }{
		{8000, 16000, 160, 320}, {16000, 8000, 320, 160}, {48000, 8000, 960, 160}, {8000, 48000, 160, 960},
		{44100, 16000, 882, 320},
	} {
		r, err := NewResampler(tc.in, tc.out)
		if err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, tc.inFrame)
		var out []int16
		for range 10 {
			out = r.Process(out[:0], frame)
			if len(out) != tc.outFrame {
				t.Fatalf("%d->%d: frame of %d gave %d, want %d", tc.in, tc.out, tc.inFrame, len(out), tc.outFrame)
			}
		}
		if got := r.InputFor(tc.outFrame); got != tc.inFrame {
			t.Errorf("%d->%d: InputFor(%d) = %d", tc.in, tc.out, tc.outFrame, got)
		}
	}
}

func TestResamplerNoAllocs(t *testing.T) {
	r, _ := NewResampler(48000, 8000)
	in := sine(440, 48000, 960, 1000)
	out := make([]int16, 0, 160)
	r.Process(out, in) // warm up the internal buffer
	if a := testing.AllocsPerRun(100, func() { out = r.Process(out[:0], in) }); a != 0 {
		t.Fatalf("%v allocations per frame", a)
	}
}

func TestResamplerIdentityAndReset(t *testing.T) {
	r, err := NewResampler(8000, 8000)
	if err != nil || r.Delay() != 0 {
		t.Fatal(err)
	}
	in := []int16{1, 2, 3}
	if out := r.Process(nil, in); len(out) != 3 || out[2] != 3 {
		t.Fatalf("identity: %v", out)
	}
	r2, _ := NewResampler(8000, 16000)
	a := r2.Process(nil, sine(500, 8000, 400, 5000))
	r2.Reset()
	b := r2.Process(nil, sine(500, 8000, 400, 5000))
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("Reset did not clear history")
		}
	}
}

func TestResamplerBadRates(t *testing.T) {
	for _, tc := range [][2]int{{0, 8000}, {8000, -1}, {8000, 7919}} {
		if _, err := NewResampler(tc[0], tc[1]); !errors.Is(err, ErrBadRate) {
			t.Errorf("NewResampler(%d, %d) = %v", tc[0], tc[1], err)
		}
	}
	if _, err := Resample(nil, 0, 8000); !errors.Is(err, ErrBadRate) {
		t.Error(err)
	}
}

func BenchmarkResample48kTo8kFrame(b *testing.B) {
	r, _ := NewResampler(48000, 8000)
	in := sine(440, 48000, 960, 1000)
	out := make([]int16, 0, 160)
	b.ReportAllocs()
	for b.Loop() {
		out = r.Process(out[:0], in)
	}
}

func BenchmarkResample8kTo16kFrame(b *testing.B) {
	r, _ := NewResampler(8000, 16000)
	in := sine(440, 8000, 160, 1000)
	out := make([]int16, 0, 320)
	b.ReportAllocs()
	for b.Loop() {
		out = r.Process(out[:0], in)
	}
}

func BenchmarkResample16kTo8kFrame(b *testing.B) {
	r, _ := NewResampler(16000, 8000)
	in := sine(440, 16000, 320, 1000)
	out := make([]int16, 0, 160)
	b.ReportAllocs()
	for b.Loop() {
		out = r.Process(out[:0], in)
	}
}
