//go:build cgo

package softphone

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/media/audio"
)

// These tests use miniaudio's null backend (Options.AudioBackend "null"):
// the real device path without a sound card. Its capture device produces
// silence; its playback device consumes audio in real time.

// unstartedPhone is a phone that was never started: enough for the checks
// Dial makes before it needs a registration.
func unstartedPhone(t *testing.T, backend string) *Phone {
	t.Helper()
	p, err := New(Account{Name: "a", User: "a", Domain: "example.com", Edge: "tls://127.0.0.1:1",
		RegisterExpires: time.Minute}, Options{DataDir: t.TempDir(), AudioBackend: backend})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestDeviceListing(t *testing.T) {
	if !AudioDevicesSupported() {
		t.Fatal("a cgo build reports no device support")
	}
	devs, err := AudioDevices("null")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[audio.DeviceKind]string{}
	for _, d := range devs {
		kinds[d.Kind] = d.Name
	}
	if kinds[DeviceCapture] != "NULL Capture Device" || kinds[DevicePlayback] != "NULL Playback Device" {
		t.Errorf("null backend devices %+v", devs)
	}
	if _, err := New(Account{User: "a", Edge: "tls://127.0.0.1:1"}, Options{DataDir: t.TempDir(), AudioBackend: "pulse"}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "pulseaudio") {
		t.Errorf("unknown audio backend: %v", err)
	}
}

// TestDeviceNameMatching: device:NAME is matched case-insensitively before
// any SIP is sent; a name that matches nothing fails with the list of devices.
func TestDeviceNameMatching(t *testing.T) {
	p := unstartedPhone(t, "null")
	ctx := testCtx(t, 5*time.Second)
	for _, mo := range []MediaOptions{
		{Play: "device"}, {Play: "DEVICE:null capture"}, {Record: "device:Playback"}, {Play: "device", Record: "device"},
	} {
		// The device checks pass; Dial then stops for want of a registration.
		if _, err := p.Dial(ctx, "bob", DialOptions{MediaOptions: mo}); !errors.Is(err, ErrNotRegistered) {
			t.Errorf("%+v: %v, want the device check to pass and ErrNotRegistered", mo, err)
		}
	}
	_, err := p.Dial(ctx, "bob", DialOptions{MediaOptions: MediaOptions{Play: "device:USB headset"}})
	if !errors.Is(err, ErrNoAudioDevice) || !strings.Contains(err.Error(), `available capture devices: "NULL Capture Device"`) ||
		!strings.Contains(err.Error(), "--play device:USB headset") {
		t.Errorf("no capture match: %v", err)
	}
	_, err = p.Dial(ctx, "bob", DialOptions{MediaOptions: MediaOptions{Record: "device:capture"}})
	if !errors.Is(err, ErrNoAudioDevice) || !strings.Contains(err.Error(), `available playback devices: "NULL Playback Device"`) {
		t.Errorf("no playback match: %v", err)
	}
	t.Logf("no-match error: %v", err)
	if _, err := p.Dial(ctx, "bob", DialOptions{MediaOptions: MediaOptions{Play: "device:"}}); !errors.Is(err, audio.ErrBadSpec) {
		t.Errorf("device without a name: %v", err)
	}
}

// mediaDevices returns the audio devices behind a media session's source or sink.
func mediaDevices(m *mediaSession) (*audio.CaptureDevice, *audio.PlaybackDevice) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, _ := m.src.(*audio.CaptureDevice)
	p, _ := m.sink.(*audio.PlaybackDevice)
	return c, p
}

// TestDeviceMediaSessions: two media sessions, one capturing from the null
// device and recording to a file, the other sending a tone and playing to
// the null device, at 16 kHz (G.722) and 8 kHz (PCMU).
func TestDeviceMediaSessions(t *testing.T) {
	for _, codec := range []string{"G722", "PCMU"} {
		t.Run(codec, func(t *testing.T) {
			a, b, na, nb := mediaPair(t, SRTPRequired, codec)
			a.audioBackend, b.audioBackend = "null", "null"
			rec := filepath.Join(t.TempDir(), "a.wav")
			if err := a.Start(na, MediaOptions{Play: "device", Record: rec}, nil); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(nb, MediaOptions{Play: "tone:440", Record: "device:null"}, nil); err != nil {
				a.Close()
				t.Fatal(err)
			}
			capDev, _ := mediaDevices(a)
			_, playDev := mediaDevices(b)
			if capDev == nil || playDev == nil {
				t.Fatal("media sessions did not open the devices")
			}
			time.Sleep(1500 * time.Millisecond)
			ps := playDev.Stats()
			sa, sb := a.Close(), b.Close()
			if sa.PacketsSent < 50 || sa.PacketsReceived < 50 || sb.PacketsSent < 50 || sb.PacketsReceived < 50 {
				t.Errorf("packets: a %+v, b %+v", sa, sb)
			}
			cs := capDev.Stats()
			t.Logf("capture %+v, playback %+v", cs, ps)
			if cs.Samples < 24000 {
				t.Errorf("the null capture device delivered %d samples in 1.5 s", cs.Samples)
			}
			// b's playback device consumed the audio it received (resampled to 48 kHz).
			if ps.Samples < 24000 || ps.Overruns != 0 {
				t.Errorf("the null playback device played %d samples in 1.5 s (overruns %d)", ps.Samples, ps.Overruns)
			}
			testpeers.AssertTone(t, rec, 440)
			// Closed with the call: the device callbacks stop.
			n := capDev.Stats().Callbacks
			time.Sleep(60 * time.Millisecond)
			if capDev.Stats().Callbacks != n || capDev.ReadFrame(make([]int16, 160)) == nil {
				t.Error("the capture device is still running after the call")
			}
		})
	}
}

// TestDeviceCallBetweenPhones: two engine phones registered at Kamailio;
// alice plays her capture device (null: silence) and records to a file, bob
// sends tone:440 and plays what he receives on his playback device.
func TestDeviceCallBetweenPhones(t *testing.T) {
	k := startKamailio(t, "alice", "bob")
	alice := startPhone(t, kamailioAccount(k, "tls", "alice"), Options{AudioBackend: "null"})
	bob := startPhone(t, kamailioAccount(k, "tcp", "bob"), Options{AudioBackend: "null"})
	bobEv := subscribe(t, bob)
	ctx := testCtx(t, 30*time.Second)
	rec := filepath.Join(t.TempDir(), "alice.wav")
	call, err := alice.Dial(ctx, "bob", DialOptions{MediaOptions: MediaOptions{Play: "device", Record: rec}})
	if err != nil {
		t.Fatal(err)
	}
	in := waitEvent(t, bobEv, EventIncoming, "", 10*time.Second)
	bc, err := bob.Call(in.Call)
	if err != nil {
		t.Fatal(err)
	}
	if err := bc.Answer(&MediaOptions{Play: "tone:440", Record: "device"}); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	bc.mu.Lock()
	bmed := bc.med
	bc.mu.Unlock()
	call.mu.Lock()
	amed := call.med
	call.mu.Unlock()
	capDev, _ := mediaDevices(amed)
	_, playDev := mediaDevices(bmed)
	if capDev == nil || playDev == nil {
		t.Fatalf("devices not in use: capture %v, playback %v", capDev, playDev)
	}
	played := playDev.Stats().Samples
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bobEv, EventEnded, bc.ID(), 5*time.Second)
	<-bc.Done()
	sa, sb := call.Stats(), bc.Stats()
	t.Logf("alice %+v\nbob %+v\ncapture %+v\nplayback %+v", sa, sb, capDev.Stats(), playDev.Stats())
	if sa.PacketsSent < 50 || sa.PacketsReceived < 50 || sb.PacketsSent < 50 || sb.PacketsReceived < 50 {
		t.Errorf("packets: alice sent %d received %d, bob sent %d received %d",
			sa.PacketsSent, sa.PacketsReceived, sb.PacketsSent, sb.PacketsReceived)
	}
	if capDev.Stats().Samples < 48000 || played < 48000 {
		t.Errorf("null devices: captured %d, played %d samples in 2 s", capDev.Stats().Samples, played)
	}
	testpeers.AssertTone(t, rec, 440)
	if capDev.ReadFrame(make([]int16, 160)) == nil {
		t.Error("alice's capture device is still open after the call")
	}
	if playDev.WriteFrame(make([]int16, 160)) == nil {
		t.Error("bob's playback device is still open after the call")
	}
}
