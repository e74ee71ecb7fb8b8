package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

func sine(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

func TestDominantFrequencyAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rate := range []int{8000, 16000, 48000} {
		for f := 97.0; f < float64(rate)/2-200; f *= 1.37 {
			pcm := sine(f, rate, rate, 8000) // 1 s
			for i := range pcm {             // add noise at -30 dB
				pcm[i] += int16(rng.NormFloat64() * 180)
			}
			if got := DominantFrequency(pcm, rate); math.Abs(got-f) > 1 {
				t.Errorf("1 s of %.1f Hz at %d: got %.2f", f, rate, got)
			}
			short := sine(f, rate, rate/10, 8000) // 100 ms
			if got := DominantFrequency(short, rate); math.Abs(got-f) > 5 {
				t.Errorf("100 ms of %.1f Hz at %d: got %.2f", f, rate, got)
			}
		}
	}
}

func TestDominantFrequencyPicksStrongest(t *testing.T) {
	a := sine(697, 8000, 8000, 3000)
	b := sine(1209, 8000, 8000, 9000)
	for i := range a {
		a[i] += b[i]
	}
	if got := DominantFrequency(a, 8000); math.Abs(got-1209) > 1 {
		t.Fatalf("got %g", got)
	}
}

func TestDominantFrequencyDegenerate(t *testing.T) {
	if f := DominantFrequency(make([]int16, 8000), 8000); f != 0 {
		t.Errorf("silence: %g", f)
	}
	if f := DominantFrequency([]int16{1, 2}, 8000); f != 0 {
		t.Errorf("short: %g", f)
	}
	dc := make([]int16, 1000)
	for i := range dc {
		dc[i] = 5000
	}
	if f := DominantFrequency(dc, 8000); f != 0 {
		t.Errorf("DC: %g", f)
	}
	if f := DominantFrequency(sine(440, 8000, 800, 1000), 0); f != 0 {
		t.Errorf("rate 0: %g", f)
	}
}

func TestDominantFrequencyLongSignal(t *testing.T) {
	pcm := sine(1000, 8000, 8000*40, 5000) // 40 s: analysed on 2^18 samples
	if got := DominantFrequency(pcm, 8000); math.Abs(got-1000) > 0.5 {
		t.Fatalf("got %g", got)
	}
}

func TestToneLevel(t *testing.T) {
	pcm := sine(1000, 8000, 8000, 10000)
	if l := ToneLevel(pcm, 8000, 1000); math.Abs(l-10000) > 50 {
		t.Errorf("level at 1000 Hz = %g", l)
	}
	if l := ToneLevel(pcm, 8000, 1500); l > 50 {
		t.Errorf("level at 1500 Hz = %g", l)
	}
	if ToneLevel(nil, 8000, 1000) != 0 {
		t.Error("empty")
	}
}

func TestRMSAndDBFS(t *testing.T) {
	if RMS(nil) != 0 || !math.IsInf(DBFS(make([]int16, 10)), -1) {
		t.Fatal("empty/silence")
	}
	sq := make([]int16, 100)
	for i := range sq {
		sq[i] = -32768
	}
	if d := DBFS(sq); math.Abs(d) > 1e-9 {
		t.Errorf("full-scale square: %g dBFS", d)
	}
	if d := DBFS(sine(1000, 8000, 8000, 32767)); math.Abs(d+3.01) > 0.02 {
		t.Errorf("full-scale sine: %g dBFS", d)
	}
}

func BenchmarkDominantFrequency1s8k(b *testing.B) {
	pcm := sine(440, 8000, 8000, 8000)
	b.ReportAllocs()
	for b.Loop() {
		DominantFrequency(pcm, 8000)
	}
}
