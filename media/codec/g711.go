package codec

import "slices"

// G.711 (ITU-T G.711) μ-law and A-law, table driven. The tables are built
// once at package init from the reference algorithm (ITU-T G.191 g711.c;
// the widespread Sun Microsystems g711.c takes the μ-law magnitude of
// negative samples one 14-bit step higher, which changes a code only next to
// a decision threshold: -1..-4 code as 0x7E there, as negative zero 0x7F
// here), so
// encoding is one table lookup per sample: μ-law depends only on the top
// 14 bits of the sample and A-law on the top 13 bits.

var (
	ulawEncode [1 << 14]uint8
	alawEncode [1 << 13]uint8
	ulawDecode [256]int16
	alawDecode [256]int16
)

func init() {
	for i := range ulawEncode {
		ulawEncode[i] = linearToULaw(int16(uint16(i) << 2))
	}
	for i := range alawEncode {
		alawEncode[i] = linearToALaw(int16(uint16(i) << 3))
	}
	for i := range 256 {
		ulawDecode[i] = uLawToLinear(uint8(i))
		alawDecode[i] = aLawToLinear(uint8(i))
	}
}

const (
	ulawBias = 0x84
	ulawClip = 8159 // in 14-bit units
)

var (
	ulawSegEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	alawSegEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

func segment(v int, ends *[8]int) int {
	for i, e := range ends {
		if v <= e {
			return i
		}
	}
	return 8
}

func linearToULaw(pcm int16) uint8 {
	// Magnitude as in ITU-T G.191 ulaw_compress: one's complement for
	// negative samples, so -1..-4 code as negative zero (0x7F).
	v := int(pcm)
	mask := 0xFF
	if v < 0 {
		v = ^v
		mask = 0x7F
	}
	v >>= 2
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias >> 2
	seg := segment(v, &ulawSegEnd)
	if seg >= 8 {
		return uint8(0x7F ^ mask)
	}
	return uint8((seg<<4 | (v>>(seg+1))&0x0F) ^ mask)
}

func uLawToLinear(u uint8) int16 {
	u = ^u
	t := (int(u)&0x0F)<<3 + ulawBias
	t <<= (int(u) & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

func linearToALaw(pcm int16) uint8 {
	v := int(pcm) >> 3
	mask := 0xD5
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, &alawSegEnd)
	if seg >= 8 {
		return uint8(0x7F ^ mask)
	}
	a := seg << 4
	if seg < 2 {
		a |= (v >> 1) & 0x0F
	} else {
		a |= (v >> seg) & 0x0F
	}
	return uint8(a ^ mask)
}

func aLawToLinear(a uint8) int16 {
	a ^= 0x55
	t := (int(a) & 0x0F) << 4
	switch seg := (int(a) & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// ULawEncode returns the μ-law code of one linear sample.
func ULawEncode(pcm int16) uint8 { return ulawEncode[uint16(pcm)>>2] }

// ULawDecode returns the linear sample of one μ-law code.
func ULawDecode(u uint8) int16 { return ulawDecode[u] }

// ALawEncode returns the A-law code of one linear sample.
func ALawEncode(pcm int16) uint8 { return alawEncode[uint16(pcm)>>3] }

// ALawDecode returns the linear sample of one A-law code.
func ALawDecode(a uint8) int16 { return alawDecode[a] }

// PCMU is G.711 μ-law. It is stateless; the zero value is ready to use.
type PCMU struct{}

// NewPCMU returns a G.711 μ-law codec.
func NewPCMU() *PCMU { return &PCMU{} }

// Name implements Codec.
func (*PCMU) Name() string { return NamePCMU }

// PayloadType implements Codec.
func (*PCMU) PayloadType() uint8 { return 0 }

// ClockRate implements Codec.
func (*PCMU) ClockRate() int { return 8000 }

// SampleRate implements Codec.
func (*PCMU) SampleRate() int { return 8000 }

// Encode implements Codec: one byte per sample.
func (*PCMU) Encode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	for i, s := range pcm {
		out[i] = ulawEncode[uint16(s)>>2]
	}
	return dst
}

// Decode implements Codec: one sample per byte.
func (*PCMU) Decode(dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(payload))[:n+len(payload)]
	out := dst[n:]
	for i, b := range payload {
		out[i] = ulawDecode[b]
	}
	return dst
}

// PCMA is G.711 A-law. It is stateless; the zero value is ready to use.
type PCMA struct{}

// NewPCMA returns a G.711 A-law codec.
func NewPCMA() *PCMA { return &PCMA{} }

// Name implements Codec.
func (*PCMA) Name() string { return NamePCMA }

// PayloadType implements Codec.
func (*PCMA) PayloadType() uint8 { return 8 }

// ClockRate implements Codec.
func (*PCMA) ClockRate() int { return 8000 }

// SampleRate implements Codec.
func (*PCMA) SampleRate() int { return 8000 }

// Encode implements Codec: one byte per sample.
func (*PCMA) Encode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	for i, s := range pcm {
		out[i] = alawEncode[uint16(s)>>3]
	}
	return dst
}

// Decode implements Codec: one sample per byte.
func (*PCMA) Decode(dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(payload))[:n+len(payload)]
	out := dst[n:]
	for i, b := range payload {
		out[i] = alawDecode[b]
	}
	return dst
}
