package audio

import (
	"bytes"
	"io"
	"testing"
)

// FuzzWAV feeds arbitrary bytes to the WAV reader: it must return an error
// or samples, never panic or allocate beyond the input's size.
func FuzzWAV(f *testing.F) {
	f.Add(wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: -1}, make([]byte, 64)))
	f.Add(wavBytes(wavOpts{tag: 1, channels: 2, bits: 16, rate: 48000, extraChunk: true, dataSize: 7}, make([]byte, 9)))
	f.Add(wavBytes(wavOpts{tag: 3, channels: 1, bits: 16, rate: 8000, extensible: true, dataSize: -1}, nil))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wr, err := newWAVReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		buf := make([]int16, 100)
		total := 0
		for {
			n, err := wr.read(buf)
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if total > len(data) {
				t.Fatalf("read %d samples from %d bytes", total, len(data))
			}
		}
	})
}

// FuzzParseSpec: any string parses or fails cleanly, and what parses
// round-trips through String.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"tone:440", "file:x.wav", "silence", "tone:-1", "tone:1e400", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again != sp {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, sp, sp.String(), again, err)
		}
	})
}
