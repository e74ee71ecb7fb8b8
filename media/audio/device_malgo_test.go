//go:build cgo

package audio

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The tests below use miniaudio's null backend: the real malgo path
// (context, device, callbacks on miniaudio's thread) without a sound card.
// A null capture device produces silence; a null playback device consumes
// audio in real time.

func TestListDevicesNullBackend(t *testing.T) {
	defer goleak.VerifyNone(t)
	devs, err := ListDevices("null")
	if err != nil {
		t.Fatal(err)
	}
	var capture, playback bool
	for _, d := range devs {
		t.Logf("%+v", d)
		capture = capture || d.Kind == DeviceCapture && d.Name == "NULL Capture Device"
		playback = playback || d.Kind == DevicePlayback && d.Name == "NULL Playback Device"
	}
	if !capture || !playback {
		t.Fatalf("null backend devices %+v: want NULL Capture Device and NULL Playback Device", devs)
	}
	if _, err := ListDevices("nonesuch"); !errors.Is(err, ErrBadParam) {
		t.Errorf("unknown backend: %v", err)
	}
	// The system's backends on this machine (no sound card in CI): either
	// some devices or a clear error, never the null backend's devices.
	devs, err = ListDevices("")
	t.Logf("system backends: %d devices, err %v", len(devs), err)
	for _, d := range devs {
		if strings.HasPrefix(d.Name, "NULL ") {
			t.Errorf("the default backends include the null backend: %+v", d)
		}
	}
}

func TestOpenDeviceNoMatch(t *testing.T) {
	defer goleak.VerifyNone(t)
	_, err := OpenCaptureDevice(DeviceOptions{Backend: "null", Name: "headset"}, Rate8k)
	if !errors.Is(err, ErrNoSuchDevice) || !strings.Contains(err.Error(), `available capture devices: "NULL Capture Device"`) {
		t.Fatalf("capture no match: %v", err)
	}
	_, err = OpenPlaybackDevice(DeviceOptions{Backend: "null", Name: "capture"}, Rate8k)
	if !errors.Is(err, ErrNoSuchDevice) || !strings.Contains(err.Error(), `available playback devices: "NULL Playback Device"`) {
		t.Fatalf("playback no match: %v", err)
	}
	if _, err := OpenCaptureDevice(DeviceOptions{Backend: "null"}, 44100); !errors.Is(err, ErrBadRate) {
		t.Errorf("bad rate: %v", err)
	}
	if _, err := ProbeDevice(DeviceOptions{Backend: "null", Name: "usb"}, DevicePlayback); !errors.Is(err, ErrNoSuchDevice) {
		t.Errorf("probe no match: %v", err)
	}
	info, err := ProbeDevice(DeviceOptions{Backend: "null", Name: "PLAYBACK"}, DevicePlayback)
	if err != nil || info.Name != "NULL Playback Device" || info.Kind != DevicePlayback {
		t.Errorf("probe null playback: %+v, %v", info, err)
	}
	if info, err := ProbeDevice(DeviceOptions{Backend: "null"}, DeviceCapture); err != nil || info.Name != "NULL Capture Device" {
		t.Errorf("probe default null capture: %+v, %v", info, err)
	}
	// The system's default devices: present on a desktop, a clear error on a
	// headless machine.
	info, err = ProbeDevice(DeviceOptions{}, DeviceCapture)
	t.Logf("system default capture device: %+v, %v", info, err)
	if err != nil && !errors.Is(err, ErrDevice) && !errors.Is(err, ErrNoSuchDevice) {
		t.Errorf("probe system default: unexpected error kind %v", err)
	}
}

// TestNullCaptureDevice: the null capture device (48 kHz) feeds the ring
// from miniaudio's thread; ReadFrame at 8 kHz returns its silence.
func TestNullCaptureDevice(t *testing.T) {
	defer goleak.VerifyNone(t)
	c, err := OpenCaptureDevice(DeviceOptions{Backend: "null", Name: "null capture"}, Rate8k)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Info().Name != "NULL Capture Device" || c.SampleRate() != Rate8k {
		t.Fatalf("info %+v rate %d", c.Info(), c.SampleRate())
	}
	frame := make([]int16, 160)
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range 25 {
		<-tick.C
		frame[0] = 1
		if err := c.ReadFrame(frame); err != nil {
			t.Fatal(err)
		}
		if RMS(frame) != 0 {
			t.Fatalf("null capture produced non-silence (RMS %.1f)", RMS(frame))
		}
	}
	el := time.Since(start)
	st := c.Stats()
	t.Logf("%v: %+v", el, st)
	if st.DeviceRate != Rate48k {
		t.Errorf("device rate %d, want the null backend's 48000", st.DeviceRate)
	}
	// The device delivers in real time: at least half of the elapsed time.
	if want := uint64(el.Seconds() * Rate48k / 2); st.Callbacks == 0 || st.Samples < want {
		t.Errorf("null capture delivered %d samples in %v (want >= %d)", st.Samples, el, want)
	}
	if err := c.Close(); err != nil || !errors.Is(c.ReadFrame(frame), ErrClosed) {
		t.Error("capture device readable after Close")
	}
	after := c.Stats().Callbacks
	time.Sleep(50 * time.Millisecond)
	if c.Stats().Callbacks != after {
		t.Error("callbacks continued after Close")
	}
}

// TestNullPlaybackDevice: audio written at 16 kHz is consumed by the null
// playback device in real time (resampled to its 48 kHz).
func TestNullPlaybackDevice(t *testing.T) {
	defer goleak.VerifyNone(t)
	p, err := OpenPlaybackDevice(DeviceOptions{Backend: "null"}, Rate16k)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tone, _ := NewToneSource(440, Rate16k, 0.5)
	frame := make([]int16, 320)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	const frames = 25
	for range frames {
		<-tick.C
		_ = tone.ReadFrame(frame)
		if err := p.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(start)
	st := p.Stats()
	t.Logf("%v: %+v, %d queued", el, st, p.q.Len())
	written := uint64(frames * 960)
	// Played from the ring: everything written except what is still queued
	// (bounded by the latency limit) or was dropped.
	if st.Samples+uint64(p.q.Len())+st.Dropped != written {
		t.Errorf("played %d + queued %d + dropped %d != written %d", st.Samples, p.q.Len(), st.Dropped, written)
	}
	if st.Samples < written/2 {
		t.Errorf("null playback consumed %d of %d samples in %v", st.Samples, written, el)
	}
	if st.Overruns != 0 {
		t.Errorf("%d overruns", st.Overruns)
	}
}
