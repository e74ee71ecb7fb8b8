package codec

import (
	"slices"

	"github.com/gotranspile/g722"
)

// G722 is ITU-T G.722 at 64 kbit/s (mode 1) on 16 kHz PCM, using the pure
// Go port github.com/gotranspile/g722. The encoder and decoder are
// stateful (ADPCM predictors and the QMF filter bank), so one G722 value
// serves one stream. Each payload byte carries two PCM samples.
//
// The encoder consumes samples in pairs. An odd trailing sample is kept
// and encoded with the first sample of the next Encode call, so a stream
// cut into odd-sized frames still encodes every sample exactly once.
type G722 struct {
	enc     *g722.Encoder
	dec     *g722.Decoder
	pending int16
	hasPend bool
	pair    [2]int16
}

// NewG722 returns a G.722 codec with fresh encoder and decoder state.
func NewG722() *G722 {
	return &G722{
		enc: g722.NewEncoder(g722.Rate64000, 0),
		dec: g722.NewDecoder(g722.Rate64000, 0),
	}
}

// Reset returns the encoder and decoder to their initial state, for a
// new stream (for example after an SSRC change).
func (c *G722) Reset() {
	c.enc = g722.NewEncoder(g722.Rate64000, 0)
	c.dec = g722.NewDecoder(g722.Rate64000, 0)
	c.hasPend = false
}

// Name implements Codec.
func (*G722) Name() string { return NameG722 }

// PayloadType implements Codec.
func (*G722) PayloadType() uint8 { return 9 }

// ClockRate implements Codec. The RTP clock of G.722 is 8000 (RFC 3551).
func (*G722) ClockRate() int { return 8000 }

// SampleRate implements Codec.
func (*G722) SampleRate() int { return 16000 }

// Encode implements Codec: one byte per two samples.
func (c *G722) Encode(dst []byte, pcm []int16) []byte {
	if c.hasPend && len(pcm) > 0 {
		c.pair = [2]int16{c.pending, pcm[0]}
		pcm = pcm[1:]
		c.hasPend = false
		dst = c.encodeEven(dst, c.pair[:])
	}
	if len(pcm)%2 == 1 {
		c.pending = pcm[len(pcm)-1]
		c.hasPend = true
		pcm = pcm[:len(pcm)-1]
	}
	return c.encodeEven(dst, pcm)
}

func (c *G722) encodeEven(dst []byte, pcm []int16) []byte {
	if len(pcm) == 0 {
		return dst
	}
	n := len(dst)
	want := len(pcm) / 2
	dst = slices.Grow(dst, want)[:n+want]
	got := c.enc.Encode(dst[n:], pcm)
	return dst[:n+got]
}

// Decode implements Codec: two samples per byte.
func (c *G722) Decode(dst []int16, payload []byte) []int16 {
	if len(payload) == 0 {
		return dst
	}
	n := len(dst)
	want := 2 * len(payload)
	dst = slices.Grow(dst, want)[:n+want]
	got := c.dec.Decode(dst[n:], payload)
	return dst[:n+got]
}
