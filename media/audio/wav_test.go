package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavBytes builds a WAV file by hand so the reader is tested against
// layouts this package does not write itself.
type wavOpts struct {
	tag, channels, bits uint16
	rate                uint32
	align               uint16
	extensible          bool
	extraChunk          bool // a LIST chunk (odd size) before "data"
	dataSize            int  // -1: exact, else the value written in the header
}

func wavBytes(o wavOpts, data []byte) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(0)) // RIFF size is not checked by readers
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	if o.align == 0 {
		o.align = o.channels * o.bits / 8
	}
	if o.extensible {
		le(uint32(40))
		le(uint16(wavFormatExtensible))
	} else {
		le(uint32(16))
		le(o.tag)
	}
	le(o.channels)
	le(o.rate)
	le(o.rate * uint32(o.align))
	le(o.align)
	le(o.bits)
	if o.extensible {
		le(uint16(22))
		le(o.bits)
		le(uint32(0))
		le(o.tag)
		b.Write([]byte{0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71})
	}
	if o.extraChunk {
		b.WriteString("LIST")
		le(uint32(5))
		b.WriteString("INFOx\x00") // 5 bytes + pad
	}
	b.WriteString("data")
	if o.dataSize < 0 {
		le(uint32(len(data)))
	} else {
		le(uint32(o.dataSize))
	}
	b.Write(data)
	return b.Bytes()
}

func pcmBytes(channels [][]int16) []byte {
	var b bytes.Buffer
	for i := range channels[0] {
		for _, ch := range channels {
			_ = binary.Write(&b, binary.LittleEndian, ch[i])
		}
	}
	return b.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWAVWriterRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.wav")
	w, err := CreateWAV(p, 16000)
	if err != nil {
		t.Fatal(err)
	}
	tone := sine(440, 16000, 16000, 9000)
	for i := 0; i < len(tone); i += 320 {
		if err := w.WriteFrame(tone[i : i+320]); err != nil {
			t.Fatal(err)
		}
	}
	if w.Samples() != 16000 || w.SampleRate() != 16000 {
		t.Fatalf("Samples %d", w.Samples())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.WriteFrame(tone[:10]); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	raw, _ := os.ReadFile(p)
	if len(raw) != 44+32000 {
		t.Fatalf("file size %d", len(raw))
	}
	if got := binary.LittleEndian.Uint32(raw[4:]); got != 36+32000 {
		t.Errorf("RIFF size %d", got)
	}
	if got := binary.LittleEndian.Uint32(raw[40:]); got != 32000 {
		t.Errorf("data size %d", got)
	}
	if string(raw[0:4]) != "RIFF" || string(raw[8:16]) != "WAVEfmt " || string(raw[36:40]) != "data" ||
		binary.LittleEndian.Uint32(raw[24:]) != 16000 || binary.LittleEndian.Uint16(raw[22:]) != 1 ||
		binary.LittleEndian.Uint16(raw[34:]) != 16 || binary.LittleEndian.Uint32(raw[28:]) != 32000 {
		t.Errorf("bad header % x", raw[:44])
	}
	pcm, rate, err := ReadWAV(p)
	if err != nil || rate != 16000 || len(pcm) != len(tone) {
		t.Fatalf("ReadWAV: %d samples at %d, %v", len(pcm), rate, err)
	}
	for i := range pcm {
		if pcm[i] != tone[i] {
			t.Fatalf("sample %d: %d != %d", i, pcm[i], tone[i])
		}
	}
}

func TestWAVWriterBadRate(t *testing.T) {
	if _, err := CreateWAV(filepath.Join(t.TempDir(), "x.wav"), 1234); !errors.Is(err, ErrBadRate) {
		t.Fatal(err)
	}
	if _, err := CreateWAV(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), 8000); err == nil {
		t.Fatal("no error for a bad path")
	}
}

func TestWAVSourceNative(t *testing.T) {
	tone := sine(1000, 8000, 1000, 5000) // 1000 samples: 6 frames + 40
	p := writeFile(t, "a.wav", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: -1}, pcmBytes([][]int16{tone})))
	s, err := OpenWAV(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SampleRate() != 8000 || s.FileRate() != 8000 || s.Channels() != 1 {
		t.Fatalf("rate %d file %d ch %d", s.SampleRate(), s.FileRate(), s.Channels())
	}
	buf := make([]int16, 160)
	var got []int16
	for {
		err := s.ReadFrame(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf...)
	}
	if len(got) != 1120 { // last frame padded with silence
		t.Fatalf("%d samples", len(got))
	}
	for i := range tone {
		if got[i] != tone[i] {
			t.Fatalf("sample %d", i)
		}
	}
	if RMS(got[1000:]) != 0 {
		t.Fatal("padding not silent")
	}
	if err := s.ReadFrame(buf); err != io.EOF {
		t.Fatalf("after EOF: %v", err)
	}
	_ = s.Close()
	if err := s.ReadFrame(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestWAVSourceStereo48kResampled(t *testing.T) {
	l := sine(1000, 48000, 48000, 8000)
	r := sine(1000, 48000, 48000, 4000)
	p := writeFile(t, "st.wav", wavBytes(wavOpts{tag: 1, channels: 2, bits: 16, rate: 48000, extraChunk: true, dataSize: -1},
		pcmBytes([][]int16{l, r})))
	for _, rate := range []int{8000, 16000} {
		s, err := OpenWAV(p, rate)
		if err != nil {
			t.Fatal(err)
		}
		pcm := readAll(t, s, rate/50, 45)
		s.Close()
		if f := DominantFrequency(pcm, rate); math.Abs(f-1000) > 1 {
			t.Errorf("%d Hz: dominant %g", rate, f)
		}
		// Downmix is the mean: peak 6000.
		if lvl := ToneLevel(pcm[rate/10:], rate, 1000); math.Abs(lvl-6000) > 60 {
			t.Errorf("%d Hz: level %g, want 6000", rate, lvl)
		}
	}
	pcm, rate, err := ReadWAV(p)
	if err != nil || rate != 48000 || len(pcm) != 48000 || pcm[100] != (l[100]+r[100])/2 {
		t.Fatalf("ReadWAV stereo: %d at %d, %v", len(pcm), rate, err)
	}
}

func TestWAVExtensibleAndUnknownSize(t *testing.T) {
	tone := sine(500, 16000, 1600, 3000)
	data := pcmBytes([][]int16{tone})
	for name, o := range map[string]wavOpts{
		"extensible":   {tag: 1, channels: 1, bits: 16, rate: 16000, extensible: true, dataSize: -1},
		"zero size":    {tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: 0},
		"ffffffff":     {tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: 0xFFFFFFFF},
		"size too big": {tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: 1 << 30},
	} {
		pcm, rate, err := ReadWAV(writeFile(t, "x.wav", wavBytes(o, data)))
		if err != nil || rate != 16000 || len(pcm) != len(tone) {
			t.Errorf("%s: %d samples at %d, %v", name, len(pcm), rate, err)
		}
	}
	// Data size smaller than the file: stop at the declared size.
	pcm, _, err := ReadWAV(writeFile(t, "x.wav", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: 200}, data)))
	if err != nil || len(pcm) != 100 {
		t.Errorf("short size: %d samples, %v", len(pcm), err)
	}
}

func TestWAVBadFormats(t *testing.T) {
	tone := pcmBytes([][]int16{sine(500, 8000, 800, 3000)})
	for _, tc := range []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"float", wavBytes(wavOpts{tag: 3, channels: 1, bits: 32, rate: 8000, dataSize: -1}, tone), ErrUnsupportedWAV, "IEEE float"},
		{"mulaw", wavBytes(wavOpts{tag: 7, channels: 1, bits: 8, rate: 8000, dataSize: -1}, tone), ErrUnsupportedWAV, "mu-law"},
		{"8bit", wavBytes(wavOpts{tag: 1, channels: 1, bits: 8, rate: 8000, dataSize: -1}, tone), ErrUnsupportedWAV, "8 bits per sample"},
		{"24bit", wavBytes(wavOpts{tag: 1, channels: 1, bits: 24, rate: 8000, dataSize: -1}, tone), ErrUnsupportedWAV, "24 bits"},
		{"6ch", wavBytes(wavOpts{tag: 1, channels: 6, bits: 16, rate: 8000, dataSize: -1}, tone), ErrUnsupportedWAV, "6 channels"},
		{"rate", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 12345, dataSize: -1}, tone), ErrUnsupportedWAV, "12345 Hz"},
		{"align", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, align: 3, dataSize: -1}, tone), ErrNotWAV, "block align"},
		{"ext float", wavBytes(wavOpts{tag: 3, channels: 1, bits: 16, rate: 8000, extensible: true, dataSize: -1}, tone), ErrUnsupportedWAV, "float"},
		{"not riff", []byte("ID3\x03 this is an mp3 file, honest"), ErrNotWAV, "RIFF"},
		{"empty", nil, ErrNotWAV, "too short"},
		{"no data", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: -1}, nil)[:36], ErrNotWAV, "no data chunk"},
		{"no fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd"), ErrNotWAV, "data chunk before fmt"},
		{"truncated fmt", []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"), ErrNotWAV, "truncated fmt"},
		{"huge chunk", []byte("RIFF\x00\x00\x00\x00WAVEJUNK\xff\xff\xff\x7f"), ErrNotWAV, "JUNK"},
	} {
		p := writeFile(t, "bad.wav", tc.data)
		_, _, err := ReadWAV(p)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: ReadWAV error %v, want %v containing %q", tc.name, err, tc.want, tc.msg)
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error does not name the file: %v", tc.name, err)
		}
		if _, err := OpenWAV(p, 8000); !errors.Is(err, tc.want) {
			t.Errorf("%s: OpenWAV error %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := ReadWAV(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := OpenWAV(filepath.Join(t.TempDir(), "missing.wav"), 8000); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWAVSourceBadTargetRate(t *testing.T) {
	p := writeFile(t, "a.wav", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: -1}, make([]byte, 320)))
	if _, err := OpenWAV(p, 12000); !errors.Is(err, ErrBadRate) {
		t.Fatal(err)
	}
}

func TestWAVSourceLoop(t *testing.T) {
	ramp := make([]int16, 250)
	for i := range ramp {
		ramp[i] = int16(i)
	}
	p := writeFile(t, "loop.wav", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: -1}, pcmBytes([][]int16{ramp})))
	s, err := OpenWAV(p, 8000)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetLoop(true)
	got := readAll(t, s, 160, 10)
	for i, v := range got {
		if int(v) != i%250 {
			t.Fatalf("sample %d = %d, want %d", i, v, i%250)
		}
	}
	empty := writeFile(t, "empty.wav", wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: -1}, nil))
	e, err := OpenWAV(empty, 8000)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.SetLoop(true)
	if err := e.ReadFrame(make([]int16, 160)); !errors.Is(err, ErrUnsupportedWAV) {
		t.Fatalf("looping an empty file: %v", err)
	}
}

func TestReadWAVTruncatedData(t *testing.T) {
	// Header says 1000 bytes, the file holds 301: read what is there,
	// ignoring the odd trailing byte.
	data := wavBytes(wavOpts{tag: 1, channels: 1, bits: 16, rate: 8000, dataSize: 1000}, make([]byte, 301))
	pcm, _, err := ReadWAV(writeFile(t, "t.wav", data))
	if err != nil || len(pcm) != 150 {
		t.Fatalf("%d samples, %v", len(pcm), err)
	}
}

func BenchmarkWAVWriterFrame(b *testing.B) {
	w, err := CreateWAV(filepath.Join(b.TempDir(), "b.wav"), 8000)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	frame := sine(440, 8000, 160, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteFrame(frame); err != nil {
			b.Fatal(err)
		}
	}
}
