package softphone

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sipedge/sipedge/media/audio"
)

// AudioDevice describes one of the system's audio devices: its name (what
// "device:NAME" matches), kind (capture or playback), whether it is the
// backend's default, and its backend ID.
type AudioDevice = audio.DeviceInfo

// Audio device kinds of AudioDevice.Kind.
const (
	DeviceCapture  = audio.DeviceCapture
	DevicePlayback = audio.DevicePlayback
)

// AudioDevicesSupported reports whether this build can use the system's
// audio devices (a build with cgo). Without it, "device" audio specs fail
// with ErrDeviceAudio; tones, files and silence still work.
func AudioDevicesSupported() bool { return audio.DevicesSupported() }

// AudioBackends lists the names Options.AudioBackend accepts ("" is the
// system's backends in priority order; "null" is miniaudio's null backend).
func AudioBackends() []string { return audio.DeviceBackends() }

// AudioDevices lists the capture and playback devices of the audio backend
// ("" for the system's backends, see Options.AudioBackend). A build without
// cgo returns ErrDeviceAudio.
func AudioDevices(backend string) ([]AudioDevice, error) {
	devs, err := audio.ListDevices(backend)
	return devs, deviceError(err)
}

// CheckAudio checks the device specs among play (a source) and record (a sink) on backend before any
// registration or call: no cgo, no device matching the name, or a device that does not open. Other specs
// are checked when the call starts.
func CheckAudio(play, record, backend string) error {
	if isDevice(play) {
		if err := checkDevice(play, audio.DeviceCapture, backend); err != nil {
			return fmt.Errorf("--play %s: %w", play, err)
		}
	}
	if isDevice(record) {
		if err := checkDevice(record, audio.DevicePlayback, backend); err != nil {
			return fmt.Errorf("--record %s: %w", record, err)
		}
	}
	return nil
}

// isDevice reports whether an audio spec names a system device ("device" or
// "device:NAME", any case).
func isDevice(s string) bool {
	s = strings.TrimSpace(strings.ToLower(s))
	return s == "device" || strings.HasPrefix(s, "device:")
}

// parseDeviceSpec parses "device" or "device:NAME"; a build without cgo
// refuses it with ErrDeviceAudio.
func parseDeviceSpec(s string) (audio.Spec, error) {
	if !audio.DevicesSupported() {
		return audio.Spec{}, ErrDeviceAudio
	}
	s = strings.TrimSpace(s)
	return audio.ParseSpec("device" + s[len("device"):]) // the kind in lower case
}

// checkDevice fails early (before any SIP is sent) when a device spec
// cannot be used: no cgo, no backend, no device matching the name, or a
// device that does not open.
func checkDevice(spec string, kind audio.DeviceKind, backend string) error {
	s, err := parseDeviceSpec(spec)
	if err != nil {
		return err
	}
	_, err = audio.ProbeDevice(audio.DeviceOptions{Backend: backend, Name: s.Device}, kind)
	return deviceError(err)
}

// openSource opens a parsed --play spec at rate; devices use backend.
func openSource(s audio.Spec, rate int, backend string) (audio.Source, error) {
	if s.Kind != audio.SpecDevice {
		return s.OpenSource(rate)
	}
	d, err := audio.OpenCaptureDevice(audio.DeviceOptions{Backend: backend, Name: s.Device}, rate)
	if err != nil {
		return nil, deviceError(err)
	}
	return d, nil
}

// openSink opens a parsed --record spec at rate; devices use backend.
func openSink(s audio.Spec, rate int, backend string) (audio.Sink, error) {
	if s.Kind != audio.SpecDevice {
		return s.OpenSink(rate)
	}
	d, err := audio.OpenPlaybackDevice(audio.DeviceOptions{Backend: backend, Name: s.Device}, rate)
	if err != nil {
		return nil, deviceError(err)
	}
	return d, nil
}

// deviceError maps the audio package's "no cgo" error to ErrDeviceAudio.
func deviceError(err error) error {
	if errors.Is(err, audio.ErrDevicesUnsupported) {
		return ErrDeviceAudio
	}
	return err
}

// validAudioBackend checks Options.AudioBackend.
func validAudioBackend(name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || slices.Contains(audio.DeviceBackends(), name) {
		return nil
	}
	return fmt.Errorf("%w: audio backend %q (want one of %s, or empty for the system's)",
		ErrConfig, name, strings.Join(audio.DeviceBackends(), ", "))
}
