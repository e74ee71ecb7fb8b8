package codec_test

import (
	"testing"

	"github.com/sipedge/sipedge/media/codec"
)

func benchEncode(b *testing.B, name string) {
	c, _ := codec.New(name)
	pcm := tone(1000, c.SampleRate(), c.SampleRate()/50, 8000) // one 20 ms frame
	payload := make([]byte, 0, 160)
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		payload = c.Encode(payload[:0], pcm)
	}
}

func benchDecode(b *testing.B, name string) {
	c, _ := codec.New(name)
	pcm := tone(1000, c.SampleRate(), c.SampleRate()/50, 8000)
	payload := c.Encode(nil, pcm)
	out := make([]int16, 0, len(pcm))
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		out = c.Decode(out[:0], payload)
	}
}

func BenchmarkEncodePCMU(b *testing.B) { benchEncode(b, "PCMU") }
func BenchmarkDecodePCMU(b *testing.B) { benchDecode(b, "PCMU") }
func BenchmarkEncodePCMA(b *testing.B) { benchEncode(b, "PCMA") }
func BenchmarkDecodePCMA(b *testing.B) { benchDecode(b, "PCMA") }
func BenchmarkEncodeG722(b *testing.B) { benchEncode(b, "G722") }
func BenchmarkDecodeG722(b *testing.B) { benchDecode(b, "G722") }
