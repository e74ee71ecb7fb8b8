//go:build !cgo

package audio

import (
	"errors"
	"strings"
	"testing"
)

// TestDevicesUnsupportedWithoutCgo: a build without cgo parses device specs
// but refuses to open them with a clear error.
func TestDevicesUnsupportedWithoutCgo(t *testing.T) {
	if DevicesSupported() {
		t.Fatal("DevicesSupported in a build without cgo")
	}
	if _, err := ListDevices(""); !errors.Is(err, ErrDevicesUnsupported) || !strings.Contains(err.Error(), "without cgo") {
		t.Errorf("ListDevices: %v", err)
	}
	src, _ := ParseSpec("device")
	if _, err := src.OpenSource(Rate8k); !errors.Is(err, ErrDevicesUnsupported) {
		t.Errorf("device source: %v", err)
	}
	sink, _ := ParseSinkSpec("device:usb")
	if _, err := sink.OpenSink(Rate8k); !errors.Is(err, ErrDevicesUnsupported) {
		t.Errorf("device sink: %v", err)
	}
	if _, err := ProbeDevice(DeviceOptions{}, DeviceCapture); !errors.Is(err, ErrDevicesUnsupported) {
		t.Errorf("probe: %v", err)
	}
}
