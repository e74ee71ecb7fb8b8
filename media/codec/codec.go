// Package codec implements the audio codecs shared by the softphone and the
// media tests: G.711 μ-law (PCMU), G.711 A-law (PCMA) and G.722.
//
// Every codec works on 16-bit signed mono PCM at the codec's SampleRate.
// Encoders and decoders may keep state between calls (G.722 does), so a
// Codec instance belongs to one stream and one direction of use; New returns
// a fresh instance each time. Codec values are not safe for concurrent use.
//
// Encode and Decode follow the append convention of the standard library:
// they append to dst and return the extended slice, so a caller that passes
// buf[:0] with enough capacity encodes and decodes without allocating.
package codec

import (
	"fmt"
	"strings"
)

// Codec encodes and decodes one audio stream.
type Codec interface {
	// Name is the SDP encoding name (rtpmap), e.g. "PCMU".
	Name() string
	// PayloadType is the static RTP payload type (RFC 3551).
	PayloadType() uint8
	// ClockRate is the RTP timestamp clock rate. It is 8000 for G.722 too,
	// although G.722 samples at 16 kHz (RFC 3551 section 4.5.2).
	ClockRate() int
	// SampleRate is the PCM sample rate the codec consumes and produces.
	SampleRate() int
	// Encode appends the encoding of pcm to dst and returns the extended slice.
	Encode(dst []byte, pcm []int16) []byte
	// Decode appends the PCM decoded from payload to dst and returns the extended slice.
	Decode(dst []int16, payload []byte) []int16
}

// Info describes a codec without creating an encoder or decoder.
type Info struct {
	// Name is the SDP encoding name, e.g. "PCMU".
	Name string
	// PayloadType is the static RTP payload type.
	PayloadType uint8
	// ClockRate is the RTP timestamp clock rate.
	ClockRate int
	// SampleRate is the PCM sample rate.
	SampleRate int
	// BitsPerSample is the number of payload bits per PCM sample (8 for
	// G.711, 4 for G.722 at 64 kbit/s).
	BitsPerSample int
}

// SamplesPerFrame returns the number of PCM samples in a frame of ms milliseconds.
func (i Info) SamplesPerFrame(ms int) int { return i.SampleRate * ms / 1000 }

// PayloadBytes returns the payload size of a frame of ms milliseconds.
func (i Info) PayloadBytes(ms int) int { return i.SamplesPerFrame(ms) * i.BitsPerSample / 8 }

// TimestampIncrement returns the RTP timestamp increment of a frame of ms milliseconds.
func (i Info) TimestampIncrement(ms int) uint32 { return uint32(i.ClockRate * ms / 1000) }

// Names of the implemented codecs as used in SDP.
const (
	NamePCMU = "PCMU"
	NamePCMA = "PCMA"
	NameG722 = "G722"
)

var infos = []Info{
	{Name: NamePCMU, PayloadType: 0, ClockRate: 8000, SampleRate: 8000, BitsPerSample: 8},
	{Name: NamePCMA, PayloadType: 8, ClockRate: 8000, SampleRate: 8000, BitsPerSample: 8},
	{Name: NameG722, PayloadType: 9, ClockRate: 8000, SampleRate: 16000, BitsPerSample: 4},
}

// All returns the descriptions of every implemented codec, in preference
// order for an offer (G.722 first as the wideband codec).
func All() []Info {
	return []Info{infos[2], infos[0], infos[1]}
}

// Lookup returns the description of the codec with the given SDP encoding
// name. Matching is case-insensitive ("pcmu" finds PCMU).
func Lookup(name string) (Info, bool) {
	for _, in := range infos {
		if strings.EqualFold(in.Name, name) {
			return in, true
		}
	}
	return Info{}, false
}

// ByPayloadType returns the description of the codec with the given static
// RTP payload type.
func ByPayloadType(pt uint8) (Info, bool) {
	for _, in := range infos {
		if in.PayloadType == pt {
			return in, true
		}
	}
	return Info{}, false
}

// New returns a fresh encoder/decoder for the named codec (case-insensitive).
func New(name string) (Codec, error) {
	in, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q (supported: PCMU, PCMA, G722)", ErrUnknownCodec, name)
	}
	switch in.Name {
	case NamePCMU:
		return NewPCMU(), nil
	case NamePCMA:
		return NewPCMA(), nil
	default:
		return NewG722(), nil
	}
}

// NewByPayloadType returns a fresh encoder/decoder for a static payload type.
func NewByPayloadType(pt uint8) (Codec, error) {
	in, ok := ByPayloadType(pt)
	if !ok {
		return nil, fmt.Errorf("%w: %d (supported: 0 PCMU, 8 PCMA, 9 G722)", ErrUnknownPayloadType, pt)
	}
	return New(in.Name)
}
