package jitter

import (
	"fmt"
	"math"
)

// PLC conceals lost frames of decoded PCM by pitch-based waveform
// substitution, a simplified form of ITU-T G.711 Appendix I:
//
//   - Every good frame is passed to Good, which keeps the last 48 ms of
//     output as history.
//   - At the first lost frame the pitch period is estimated by normalised
//     autocorrelation of the last 20 ms of history over lags of 2.5-15 ms
//     (66-400 Hz). Conceal then repeats the last pitch period of the
//     history, continuing it phase-aligned frame after frame.
//   - The first 10 ms of a loss are played at full level; after that the
//     level falls linearly by 20% per 10 ms, reaching silence after 60 ms, so
//     a long loss fades out instead of buzzing.
//   - The first good frame after a loss is cross-faded with the continued
//     substitution over 4 ms (plus 1 ms per 10 ms lost, at most the frame),
//     so there is no click when real audio resumes.
//
// With no usable history (the stream starts with a loss, or the history is
// silent) Conceal produces silence. A PLC is not safe for concurrent use;
// use one per stream.
type PLC struct {
	rate     int
	hist     []int16 // last histLen samples of output
	histLen  int
	minPitch int
	maxPitch int
	corrLen  int
	unit     int // samples in 10 ms

	lost  int // samples concealed in the current loss (0: not in a loss)
	pitch int
	pos   int       // position within the repeated period
	per   []float64 // the repeated pitch period
	syn   []int16   // scratch for the cross-fade
}

// NewPLC returns a concealer for PCM at sampleRate (8000, 16000, 32000 or 48000 Hz).
func NewPLC(sampleRate int) (*PLC, error) {
	switch sampleRate {
	case 8000, 16000, 32000, 48000:
	default:
		return nil, fmt.Errorf("%w: %d Hz (want 8000, 16000, 32000 or 48000)", ErrBadRate, sampleRate)
	}
	ms := sampleRate / 1000
	p := &PLC{
		rate:     sampleRate,
		histLen:  48 * ms,
		minPitch: ms * 5 / 2,
		maxPitch: 15 * ms,
		corrLen:  20 * ms,
		unit:     10 * ms,
	}
	p.hist = make([]int16, 0, p.histLen)
	p.per = make([]float64, 0, p.maxPitch)
	return p, nil
}

// SampleRate is the rate given to NewPLC.
func (p *PLC) SampleRate() int { return p.rate }

// Good records a correctly decoded frame. If it ends a loss, frame is
// cross-faded in place with the concealment so playback stays smooth.
func (p *PLC) Good(frame []int16) {
	if p.lost > 0 && len(p.per) > 0 {
		n := min(len(frame), 4*p.rate/1000+p.lost/p.unit*p.rate/1000)
		if cap(p.syn) < n {
			p.syn = make([]int16, n)
		}
		syn := p.syn[:n]
		p.synth(syn)
		for i := range n {
			w := float64(i+1) / float64(n+1)
			frame[i] = clip(w*float64(frame[i]) + (1-w)*float64(syn[i]))
		}
	}
	p.lost = 0
	p.remember(frame)
}

// Conceal fills dst with a substitute for a lost frame.
func (p *PLC) Conceal(dst []int16) {
	if p.lost == 0 {
		p.startLoss()
	}
	if len(p.per) == 0 {
		clear(dst)
	} else {
		p.synth(dst)
	}
	p.remember(dst)
}

// Reset forgets the history, for a new stream.
func (p *PLC) Reset() {
	p.hist = p.hist[:0]
	p.lost = 0
	p.per = p.per[:0]
}

// remember appends samples to the history, keeping the last histLen.
func (p *PLC) remember(s []int16) {
	if len(s) >= p.histLen {
		p.hist = append(p.hist[:0], s[len(s)-p.histLen:]...)
		return
	}
	if over := len(p.hist) + len(s) - p.histLen; over > 0 {
		p.hist = p.hist[:copy(p.hist, p.hist[over:])]
	}
	p.hist = append(p.hist, s...)
}

// startLoss estimates the pitch and captures the period to repeat.
func (p *PLC) startLoss() {
	p.per = p.per[:0]
	p.pos = 0
	h := p.hist
	if len(h) < p.corrLen+p.minPitch {
		return
	}
	energy := 0.0
	for _, v := range h[len(h)-p.corrLen:] {
		energy += float64(v) * float64(v)
	}
	if energy/float64(p.corrLen) < 1 { // silent history: conceal with silence
		return
	}
	p.pitch = p.estimatePitch()
	for _, v := range h[len(h)-p.pitch:] {
		p.per = append(p.per, float64(v))
	}
}

// estimatePitch returns the lag in [minPitch, maxPitch] with the highest
// normalised autocorrelation between the last corrLen samples and the
// same span lag samples earlier.
func (p *PLC) estimatePitch() int {
	h := p.hist
	n := len(h)
	maxLag := min(p.maxPitch, n-p.corrLen)
	best, bestScore := p.minPitch, math.Inf(-1)
	ref := h[n-p.corrLen:]
	for lag := p.minPitch; lag <= maxLag; lag++ {
		cand := h[n-p.corrLen-lag : n-lag]
		var xy, yy float64
		for i, x := range ref {
			y := float64(cand[i])
			xy += float64(x) * y
			yy += y * y
		}
		if yy == 0 {
			continue
		}
		// Prefer the shortest lag among near-equal scores (multiples of
		// the period correlate as well as the period itself).
		if score := xy / math.Sqrt(yy); score > bestScore*1.0001 || bestScore == math.Inf(-1) {
			best, bestScore = lag, score
		}
	}
	return best
}

// synth writes the next concealment samples, advancing the loss.
func (p *PLC) synth(dst []int16) {
	for i := range dst {
		g := p.gain(p.lost)
		dst[i] = clip(g * p.per[p.pos])
		p.pos++
		if p.pos == len(p.per) {
			p.pos = 0
		}
		p.lost++
	}
}

// gain is the attenuation after n concealed samples: 1 for the first
// 10 ms, then 20% less per 10 ms, 0 from 60 ms on.
func (p *PLC) gain(n int) float64 {
	if n < p.unit {
		return 1
	}
	return max(0, 1-0.2*float64(n-p.unit)/float64(p.unit))
}

func clip(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
