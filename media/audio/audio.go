// Package audio holds the PCM plumbing shared by the softphone and the media
// tests: frame sources (tone, silence, WAV file, capture device), sinks (WAV
// file, null, memory, playback device), sample-rate conversion between the
// telephony rates, the CLI source/sink spec parser and signal analysis
// (dominant frequency, level).
//
// System audio devices (device.go) use malgo (miniaudio) and need cgo; a
// build without cgo reports ErrDevicesUnsupported for them.
//
// All PCM is signed 16-bit mono, one []int16 per frame. A frame's length
// defines its duration at the source's SampleRate (160 samples = 20 ms at
// 8 kHz). Sources and sinks are not safe for concurrent use unless stated.
package audio

import (
	"fmt"
	"io"
	"math"
	"sync"
)

// Source produces PCM frames.
type Source interface {
	// ReadFrame fills all of dst with the next samples. It returns io.EOF
	// when the source is exhausted; a final partial frame is padded with
	// silence and returned with a nil error.
	ReadFrame(dst []int16) error
	// SampleRate is the rate of the samples ReadFrame produces.
	SampleRate() int
}

// Sink consumes PCM frames.
type Sink interface {
	// WriteFrame consumes one frame. The sink does not keep pcm after it returns.
	WriteFrame(pcm []int16) error
	// Close flushes and releases the sink.
	Close() error
}

// Rates this package converts between natively. Other WAV input rates are
// listed in SupportedWAVRates.
const (
	Rate8k  = 8000
	Rate16k = 16000
	Rate48k = 48000
)

// checkRate validates a stream sample rate (the rate of a source or sink).
func checkRate(rate int) error {
	switch rate {
	case Rate8k, Rate16k, 32000, Rate48k:
		return nil
	}
	return fmt.Errorf("%w: %d Hz (want 8000, 16000, 32000 or 48000)", ErrBadRate, rate)
}

// DefaultToneAmplitude is the amplitude of "tone:" specs: half of full
// scale, -6 dBFS peak.
const DefaultToneAmplitude = 0.5

// ToneSource produces an endless sine wave.
type ToneSource struct {
	rate  int
	step  float64 // phase increment in cycles per sample
	phase float64 // current phase in cycles, [0,1)
	amp   float64 // peak in sample units
}

// NewToneSource returns a sine tone of freqHz at sampleRate. amplitude is
// the peak as a fraction of full scale, in (0, 1]. freqHz must be positive
// and below half the sample rate.
func NewToneSource(freqHz float64, sampleRate int, amplitude float64) (*ToneSource, error) {
	if err := checkRate(sampleRate); err != nil {
		return nil, err
	}
	if math.IsNaN(freqHz) || freqHz <= 0 || freqHz >= float64(sampleRate)/2 {
		return nil, fmt.Errorf("%w: tone frequency %g Hz must be above 0 and below %d Hz (half of %d Hz)",
			ErrBadParam, freqHz, sampleRate/2, sampleRate)
	}
	if math.IsNaN(amplitude) || amplitude <= 0 || amplitude > 1 {
		return nil, fmt.Errorf("%w: tone amplitude %g must be in (0, 1]", ErrBadParam, amplitude)
	}
	return &ToneSource{rate: sampleRate, step: freqHz / float64(sampleRate), amp: amplitude * 32767}, nil
}

// ReadFrame implements Source. It never returns an error.
func (t *ToneSource) ReadFrame(dst []int16) error {
	for i := range dst {
		dst[i] = int16(math.Round(t.amp * math.Sin(2*math.Pi*t.phase)))
		t.phase += t.step
		if t.phase >= 1 {
			t.phase--
		}
	}
	return nil
}

// SampleRate implements Source.
func (t *ToneSource) SampleRate() int { return t.rate }

// SilenceSource produces endless digital silence.
type SilenceSource struct{ rate int }

// NewSilenceSource returns a silence source at sampleRate.
func NewSilenceSource(sampleRate int) (*SilenceSource, error) {
	if err := checkRate(sampleRate); err != nil {
		return nil, err
	}
	return &SilenceSource{rate: sampleRate}, nil
}

// ReadFrame implements Source. It never returns an error.
func (s *SilenceSource) ReadFrame(dst []int16) error {
	clear(dst)
	return nil
}

// SampleRate implements Source.
func (s *SilenceSource) SampleRate() int { return s.rate }

// NullSink discards every frame.
type NullSink struct{}

// WriteFrame implements Sink.
func (NullSink) WriteFrame([]int16) error { return nil }

// Close implements Sink.
func (NullSink) Close() error { return nil }

// BufferSink keeps every frame in memory. It is safe for concurrent use, so
// a test can read Samples while a media goroutine writes.
type BufferSink struct {
	mu      sync.Mutex
	rate    int
	samples []int16
	closed  bool
}

// NewBufferSink returns an empty in-memory sink for audio at sampleRate.
func NewBufferSink(sampleRate int) *BufferSink { return &BufferSink{rate: sampleRate} }

// WriteFrame implements Sink.
func (b *BufferSink) WriteFrame(pcm []int16) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.samples = append(b.samples, pcm...)
	return nil
}

// Close implements Sink. Samples stay readable after Close.
func (b *BufferSink) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// Samples returns a copy of everything written so far.
func (b *BufferSink) Samples() []int16 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int16(nil), b.samples...)
}

// SampleRate is the rate given to NewBufferSink.
func (b *BufferSink) SampleRate() int { return b.rate }

// resampledSource adapts a Source to another sample rate.
type resampledSource struct {
	src  Source
	rs   *Resampler
	in   []int16
	pend []int16
	eof  bool
}

// ResampleSource returns a Source producing src's audio at sampleRate. If
// the rates are equal, src itself is returned. The returned source
// implements io.Closer, closing src if src does.
func ResampleSource(src Source, sampleRate int) (Source, error) {
	if src.SampleRate() == sampleRate {
		return src, nil
	}
	rs, err := NewResampler(src.SampleRate(), sampleRate)
	if err != nil {
		return nil, err
	}
	return &resampledSource{src: src, rs: rs}, nil
}

func (r *resampledSource) SampleRate() int { return r.rs.OutRate() }

// Close closes the wrapped source if it has a Close method.
func (r *resampledSource) Close() error {
	if c, ok := r.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (r *resampledSource) ReadFrame(dst []int16) error {
	if len(dst) == 0 {
		return nil
	}
	for len(r.pend) < len(dst) && !r.eof {
		need := r.rs.InputFor(len(dst) - len(r.pend))
		if cap(r.in) < need {
			r.in = make([]int16, need)
		}
		in := r.in[:need]
		err := r.src.ReadFrame(in)
		switch {
		case err == io.EOF:
			r.eof = true
			r.pend = r.rs.Flush(r.pend)
		case err != nil:
			return err
		default:
			r.pend = r.rs.Process(r.pend, in)
		}
	}
	if len(r.pend) == 0 {
		return io.EOF
	}
	n := copy(dst, r.pend)
	clear(dst[n:])
	r.pend = r.pend[:copy(r.pend, r.pend[n:])]
	return nil
}
