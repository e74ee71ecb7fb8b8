//go:build !cgo

package audio

// DevicesSupported reports whether this build can open system audio
// devices. It is false in builds without cgo: tone, file and silence
// sources and file and null sinks still work.
func DevicesSupported() bool { return false }

// ListDevices returns ErrDevicesUnsupported in a build without cgo.
func ListDevices(backend string) ([]DeviceInfo, error) {
	if _, err := parseBackend(backend); err != nil {
		return nil, err
	}
	return nil, ErrDevicesUnsupported
}

// OpenCaptureDevice returns ErrDevicesUnsupported in a build without cgo.
func OpenCaptureDevice(opts DeviceOptions, sampleRate int) (*CaptureDevice, error) {
	return nil, ErrDevicesUnsupported
}

// OpenPlaybackDevice returns ErrDevicesUnsupported in a build without cgo.
func OpenPlaybackDevice(opts DeviceOptions, sampleRate int) (*PlaybackDevice, error) {
	return nil, ErrDevicesUnsupported
}

// ProbeDevice returns ErrDevicesUnsupported in a build without cgo.
func ProbeDevice(opts DeviceOptions, kind DeviceKind) (DeviceInfo, error) {
	return DeviceInfo{}, ErrDevicesUnsupported
}
