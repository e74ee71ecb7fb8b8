package audio

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// maxAnalysisSamples bounds the FFT used by DominantFrequency (2^18
// samples is 5.4 s at 48 kHz, 32 s at 8 kHz).
const maxAnalysisSamples = 1 << 18

// DominantFrequency returns the frequency in Hz of the strongest spectral
// peak of pcm, or 0 for silence or a signal shorter than 16 samples.
//
// It removes DC, applies a Hann window, zero-pads to at least twice the
// next power of two and interpolates the peak bin with a parabola on the
// log magnitudes, so a 1 s tone is located within a fraction of a Hz (and
// 100 ms within a few Hz). Signals longer than 2^18 samples are analysed
// on their middle 2^18 samples.
func DominantFrequency(pcm []int16, sampleRate int) float64 {
	if len(pcm) < 16 || sampleRate <= 0 {
		return 0
	}
	if len(pcm) > maxAnalysisSamples {
		off := (len(pcm) - maxAnalysisSamples) / 2
		pcm = pcm[off : off+maxAnalysisSamples]
	}
	mean := 0.0
	for _, s := range pcm {
		mean += float64(s)
	}
	mean /= float64(len(pcm))
	n := 1 << bits.Len(uint(len(pcm)-1)) // next power of two
	n *= 2
	x := make([]complex128, n)
	nonzero := false
	for i, s := range pcm {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(pcm)-1))
		v := (float64(s) - mean) * w
		if v != 0 {
			nonzero = true
		}
		x[i] = complex(v, 0)
	}
	if !nonzero {
		return 0
	}
	fft(x)
	best, bestMag := 1, -1.0
	for k := 1; k < n/2; k++ {
		if m := cmplx.Abs(x[k]); m > bestMag {
			best, bestMag = k, m
		}
	}
	// Parabolic interpolation on log magnitude (exact for a Gaussian peak,
	// close for the Hann main lobe).
	delta := 0.0
	if best > 1 && best < n/2-1 {
		a := math.Log(cmplx.Abs(x[best-1]) + 1e-12)
		b := math.Log(bestMag + 1e-12)
		c := math.Log(cmplx.Abs(x[best+1]) + 1e-12)
		if den := a - 2*b + c; den != 0 {
			delta = 0.5 * (a - c) / den
		}
	}
	return (float64(best) + delta) * float64(sampleRate) / float64(n)
}

// fft is an in-place iterative radix-2 FFT; len(x) must be a power of two.
func fft(x []complex128) {
	n := len(x)
	shift := 64 - bits.Len(uint(n-1))
	for i := range n {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	tw := make([]complex128, n/2)
	for k := range tw {
		sin, cos := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		tw[k] = complex(cos, sin)
	}
	for size := 2; size <= n; size <<= 1 {
		half, stride := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				t := tw[k*stride] * x[start+k+half]
				x[start+k+half] = x[start+k] - t
				x[start+k] += t
			}
		}
	}
}

// ToneLevel returns the amplitude (peak, in sample units) of the component
// of pcm at freqHz, measured with the Goertzel algorithm over the whole
// signal. A full-scale sine at exactly freqHz gives about 32767; use it to
// check that a tone is present or absent (DTMF, leakage, aliasing).
func ToneLevel(pcm []int16, sampleRate int, freqHz float64) float64 {
	if len(pcm) == 0 || sampleRate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freqHz / float64(sampleRate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range pcm {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	return 2 * math.Hypot(re, im) / float64(len(pcm))
}

// RMS returns the root-mean-square level of pcm in sample units (0 for an
// empty slice). A full-scale sine has an RMS of about 23170.
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// DBFS returns the RMS level of pcm relative to full scale (a full-scale
// square wave is 0 dBFS, a full-scale sine about -3 dBFS), or -Inf for
// digital silence.
func DBFS(pcm []int16) float64 {
	r := RMS(pcm)
	if r == 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(r/32768)
}
