//go:build !cgo

package softphone

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestDeviceAudioUnavailable: a build without cgo refuses device audio with
// ErrDeviceAudio, whose message says why and what to use instead; tones,
// files and silence still work.
func TestDeviceAudioUnavailable(t *testing.T) {
	if AudioDevicesSupported() {
		t.Fatal("a build without cgo reports device support")
	}
	if _, err := AudioDevices(""); !errors.Is(err, ErrDeviceAudio) {
		t.Errorf("AudioDevices: %v", err)
	}
	p, err := New(Account{Name: "a", User: "a", Domain: "example.com", Edge: "tls://127.0.0.1:1",
		RegisterExpires: time.Minute}, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testCtx(t, 5*time.Second)
	for _, mo := range []MediaOptions{{Play: "device"}, {Play: "Device:USB"}, {Record: "device"}, {Play: "tone:440", Record: "device:x"}} {
		_, err := p.Dial(ctx, "bob", DialOptions{MediaOptions: mo})
		if !errors.Is(err, ErrDeviceAudio) || !strings.Contains(err.Error(), "without cgo") ||
			!strings.Contains(err.Error(), "use tone:FREQ, file:PATH.wav or silence") {
			t.Errorf("%+v: %v, want ErrDeviceAudio", mo, err)
		}
	}
	t.Logf("device audio error: %v", ErrDeviceAudio)
	// Other sources pass the check (Dial then stops for want of a registration).
	if _, err := p.Dial(ctx, "bob", DialOptions{MediaOptions: MediaOptions{Play: "tone:440"}}); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("tone source: %v", err)
	}
	// The media session refuses a device too (an answer with device options).
	m, err := newMediaSession(netip.MustParseAddr("127.0.0.1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(Negotiated{}, MediaOptions{Record: "device"}, nil); !errors.Is(err, ErrDeviceAudio) {
		t.Errorf("media start with a device: %v", err)
	}
}
