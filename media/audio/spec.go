package audio

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SpecKind is the kind of a source or sink spec.
type SpecKind string

// Spec kinds accepted by ParseSpec and ParseSinkSpec.
const (
	SpecTone    SpecKind = "tone"
	SpecFile    SpecKind = "file"
	SpecSilence SpecKind = "silence"
	SpecNull    SpecKind = "null"
	// SpecDevice is a system audio device: "device" (the default one) or
	// "device:NAME" (the one whose name contains NAME, case-insensitive).
	SpecDevice SpecKind = "device"
)

// Spec is a parsed audio source or sink description from the command line.
type Spec struct {
	Kind SpecKind
	// FreqHz is the tone frequency (SpecTone).
	FreqHz float64
	// Path is the WAV file (SpecFile).
	Path string
	// Device is the device name to match (SpecDevice); empty is the default device.
	Device string
}

// maxToneHz is the highest frequency a "tone:" spec may name. Whether it
// fits the stream's sample rate is checked when the source is opened.
const maxToneHz = 23999

// ParseSpec parses a source spec from the command line:
//
//	tone:FREQ   a sine tone of FREQ Hz (e.g. tone:440, tone:1000.5)
//	file:PATH   a 16-bit PCM WAV file (e.g. file:prompt.wav)
//	silence     digital silence
//	device      the default capture device (microphone); device:NAME picks one by name
func ParseSpec(spec string) (Spec, error) {
	kind, arg, hasArg := strings.Cut(strings.TrimSpace(spec), ":")
	switch SpecKind(kind) {
	case SpecTone:
		if !hasArg || arg == "" {
			return Spec{}, fmt.Errorf("%w: %q: tone needs a frequency in Hz, e.g. tone:440", ErrBadSpec, spec)
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Spec{}, fmt.Errorf("%w: %q: tone frequency %q is not a number", ErrBadSpec, spec, arg)
		}
		if f <= 0 || f > maxToneHz {
			return Spec{}, fmt.Errorf("%w: %q: tone frequency %g Hz must be above 0 and at most %d Hz",
				ErrBadSpec, spec, f, maxToneHz)
		}
		return Spec{Kind: SpecTone, FreqHz: f}, nil
	case SpecFile:
		if !hasArg || strings.TrimSpace(arg) == "" {
			return Spec{}, fmt.Errorf("%w: %q: file needs a path, e.g. file:prompt.wav", ErrBadSpec, spec)
		}
		return Spec{Kind: SpecFile, Path: arg}, nil
	case SpecSilence:
		if hasArg {
			return Spec{}, fmt.Errorf("%w: %q: silence takes no argument", ErrBadSpec, spec)
		}
		return Spec{Kind: SpecSilence}, nil
	case SpecDevice:
		return parseDevice(spec, arg, hasArg)
	case "":
		return Spec{}, fmt.Errorf("%w: empty source (want tone:FREQ, file:PATH.wav, silence or device[:NAME])", ErrBadSpec)
	}
	return Spec{}, fmt.Errorf("%w: %q: unknown source kind %q (want tone:FREQ, file:PATH.wav, silence or device[:NAME])",
		ErrBadSpec, spec, kind)
}

// ParseSinkSpec parses a sink spec from the command line:
//
//	file:PATH   record to a WAV file
//	null        discard the audio
//	device      the default playback device (speaker); device:NAME picks one by name
func ParseSinkSpec(spec string) (Spec, error) {
	kind, arg, hasArg := strings.Cut(strings.TrimSpace(spec), ":")
	switch SpecKind(kind) {
	case SpecFile:
		if !hasArg || strings.TrimSpace(arg) == "" {
			return Spec{}, fmt.Errorf("%w: %q: file needs a path, e.g. file:received.wav", ErrBadSpec, spec)
		}
		return Spec{Kind: SpecFile, Path: arg}, nil
	case SpecNull:
		if hasArg {
			return Spec{}, fmt.Errorf("%w: %q: null takes no argument", ErrBadSpec, spec)
		}
		return Spec{Kind: SpecNull}, nil
	case SpecDevice:
		return parseDevice(spec, arg, hasArg)
	case "":
		return Spec{}, fmt.Errorf("%w: empty sink (want file:PATH.wav, null or device[:NAME])", ErrBadSpec)
	}
	return Spec{}, fmt.Errorf("%w: %q: unknown sink kind %q (want file:PATH.wav, null or device[:NAME])", ErrBadSpec, spec, kind)
}

func parseDevice(spec, arg string, hasArg bool) (Spec, error) {
	name := strings.TrimSpace(arg)
	if hasArg && name == "" {
		return Spec{}, fmt.Errorf("%w: %q: device:NAME needs a name (or use device for the default device)", ErrBadSpec, spec)
	}
	return Spec{Kind: SpecDevice, Device: name}, nil
}

// String returns the spec in the form ParseSpec accepts.
func (s Spec) String() string {
	switch s.Kind {
	case SpecTone:
		return "tone:" + strconv.FormatFloat(s.FreqHz, 'f', -1, 64)
	case SpecFile:
		return "file:" + s.Path
	case SpecDevice:
		if s.Device != "" {
			return "device:" + s.Device
		}
	}
	return string(s.Kind)
}

// OpenSource opens the source a spec describes, producing audio at
// sampleRate. A file source must be closed by the caller when done (it
// implements io.Closer), as must a device source (the system's default
// backends; OpenCaptureDevice chooses another); tone and silence hold no
// resources.
func (s Spec) OpenSource(sampleRate int) (Source, error) {
	switch s.Kind {
	case SpecTone:
		return NewToneSource(s.FreqHz, sampleRate, DefaultToneAmplitude)
	case SpecSilence:
		return NewSilenceSource(sampleRate)
	case SpecFile:
		return OpenWAV(s.Path, sampleRate)
	case SpecDevice:
		d, err := OpenCaptureDevice(DeviceOptions{Name: s.Device}, sampleRate)
		if err != nil {
			return nil, err // not a nil *CaptureDevice in a non-nil Source
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: %q is not a source", ErrBadSpec, s.Kind)
}

// OpenSink opens the sink a spec describes for audio at sampleRate. A
// device sink uses the system's default backends (OpenPlaybackDevice
// chooses another).
func (s Spec) OpenSink(sampleRate int) (Sink, error) {
	switch s.Kind {
	case SpecNull:
		return NullSink{}, nil
	case SpecFile:
		return CreateWAV(s.Path, sampleRate)
	case SpecDevice:
		d, err := OpenPlaybackDevice(DeviceOptions{Name: s.Device}, sampleRate)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: %q is not a sink", ErrBadSpec, s.Kind)
}
