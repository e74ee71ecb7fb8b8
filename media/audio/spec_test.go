package audio

import (
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	good := map[string]Spec{
		"tone:440":       {Kind: SpecTone, FreqHz: 440},
		" tone:1000.5 ":  {Kind: SpecTone, FreqHz: 1000.5},
		"file:a b/c.wav": {Kind: SpecFile, Path: "a b/c.wav"},
		"file:C:x.wav":   {Kind: SpecFile, Path: "C:x.wav"},
		"silence":        {Kind: SpecSilence},
	}
	for in, want := range good {
		got, err := ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"tone:abc":   `frequency "abc" is not a number`,
		"tone:-5":    "must be above 0",
		"tone:0":     "must be above 0",
		"tone:NaN":   "not a number",
		"tone:Inf":   "not a number",
		"tone:1e9":   "at most",
		"tone":       "needs a frequency",
		"tone:":      "needs a frequency",
		"file:":      "needs a path",
		"file":       "needs a path",
		"silence:3":  "takes no argument",
		"":           "empty source",
		"mic":        `unknown source kind "mic"`,
		"noise:1":    `unknown source kind "noise"`,
		"TONE:440":   "unknown source kind",
		"null":       "unknown source kind",
		"http://x/y": "unknown source kind",
	}
	for in, msg := range bad {
		_, err := ParseSpec(in)
		if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseSpec(%q) = %v; want ErrBadSpec containing %q", in, err, msg)
		}
	}
}

func TestSpecStringRoundTrip(t *testing.T) {
	for _, in := range []string{"tone:440", "tone:1000.5", "file:x.wav", "silence"} {
		s, err := ParseSpec(in)
		if err != nil || s.String() != in {
			t.Errorf("%q -> %q, %v", in, s.String(), err)
		}
	}
}

func TestSpecOpenSource(t *testing.T) {
	s, _ := ParseSpec("tone:440")
	src, err := s.OpenSource(8000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := readAll(t, src, 160, 50)
	if f := DominantFrequency(pcm, 8000); math.Abs(f-440) > 1 {
		t.Errorf("dominant %g", f)
	}
	if lvl := ToneLevel(pcm, 8000, 440); math.Abs(lvl-DefaultToneAmplitude*32767) > 100 {
		t.Errorf("level %g", lvl)
	}
	hi, _ := ParseSpec("tone:5000")
	if _, err := hi.OpenSource(8000); !errors.Is(err, ErrBadParam) || !strings.Contains(err.Error(), "below 4000 Hz") {
		t.Errorf("5 kHz tone at 8 kHz: %v", err)
	}
	if _, err := hi.OpenSource(16000); err != nil {
		t.Errorf("5 kHz tone at 16 kHz: %v", err)
	}
	sil, _ := ParseSpec("silence")
	if src, err := sil.OpenSource(16000); err != nil || src.SampleRate() != 16000 {
		t.Errorf("silence: %v", err)
	}

	p := filepath.Join(t.TempDir(), "rec.wav")
	sinkSpec, err := ParseSinkSpec("file:" + p)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := sinkSpec.OpenSink(16000)
	if err != nil {
		t.Fatal(err)
	}
	_ = sink.WriteFrame(sine(1000, 16000, 3200, 7000))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	fs, _ := ParseSpec("file:" + p)
	src, err = fs.OpenSource(8000) // 16 kHz file played at 8 kHz
	if err != nil {
		t.Fatal(err)
	}
	defer src.(io.Closer).Close()
	pcm = readAll(t, src, 160, 10)
	if f := DominantFrequency(pcm, 8000); math.Abs(f-1000) > 5 {
		t.Errorf("file source dominant %g", f)
	}
	missing, _ := ParseSpec("file:" + filepath.Join(t.TempDir(), "nope.wav"))
	if _, err := missing.OpenSource(8000); err == nil || !strings.Contains(err.Error(), "nope.wav") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := (Spec{Kind: SpecNull}).OpenSource(8000); !errors.Is(err, ErrBadSpec) {
		t.Errorf("null as source: %v", err)
	}
}

func TestParseSinkSpec(t *testing.T) {
	if s, err := ParseSinkSpec("null"); err != nil || s.Kind != SpecNull {
		t.Fatal(err)
	}
	ns, _ := ParseSinkSpec("null")
	if sink, err := ns.OpenSink(8000); err != nil || sink.WriteFrame([]int16{1}) != nil {
		t.Fatal(err)
	}
	for in, msg := range map[string]string{
		"":         "empty sink",
		"file:":    "needs a path",
		"null:x":   "takes no argument",
		"speaker":  "unknown sink kind",
		"tone:440": "unknown sink kind",
	} {
		if _, err := ParseSinkSpec(in); !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseSinkSpec(%q) = %v", in, err)
		}
	}
	if _, err := (Spec{Kind: SpecTone, FreqHz: 1}).OpenSink(8000); !errors.Is(err, ErrBadSpec) {
		t.Errorf("tone as sink: %v", err)
	}
}
