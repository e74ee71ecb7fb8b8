package audio

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

var testDevices = []DeviceInfo{
	{Name: "Built-in Audio Analog Stereo", Kind: DeviceCapture, Default: true},
	{Name: "USB Headset Mono", Kind: DeviceCapture},
	{Name: "usb", Kind: DeviceCapture},
	{Name: "Built-in Audio Analog Stereo", Kind: DevicePlayback, Default: true},
	{Name: "USB Headset Stereo", Kind: DevicePlayback},
}

func TestMatchDevice(t *testing.T) {
	for _, tc := range []struct {
		kind DeviceKind
		name string
		want int
	}{
		{DeviceCapture, "headset", 1},        // substring, case-insensitive
		{DeviceCapture, "USB", 2},            // an exact match wins over an earlier partial one
		{DeviceCapture, " built-in ", 0},     // trimmed
		{DevicePlayback, "usb headset", 4},   // only devices of the kind
		{DevicePlayback, "ANALOG STEREO", 3}, // case-insensitive
	} {
		got, err := matchDevice(testDevices, tc.kind, tc.name)
		if err != nil || got != tc.want {
			t.Errorf("matchDevice(%s, %q) = %d, %v; want %d", tc.kind, tc.name, got, err, tc.want)
		}
	}
	_, err := matchDevice(testDevices, DevicePlayback, "Mono")
	if !errors.Is(err, ErrNoSuchDevice) {
		t.Fatalf("no match: %v", err)
	}
	for _, s := range []string{`no playback device name contains "Mono"`,
		`available playback devices: "Built-in Audio Analog Stereo", "USB Headset Stereo"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("no-match error %q lacks %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "USB Headset Mono") {
		t.Errorf("no-match error for playback lists a capture device: %v", err)
	}
	if _, err := matchDevice(nil, DeviceCapture, "x"); !errors.Is(err, ErrNoSuchDevice) ||
		!strings.Contains(err.Error(), "there are no capture devices") {
		t.Errorf("no devices: %v", err)
	}
}

func TestParseBackend(t *testing.T) {
	all, err := parseBackend("")
	if err != nil || slices.Contains(all, backendNull) || slices.Contains(all, backendCustom) || len(all) != len(backendNames)-2 {
		t.Fatalf("default backends %v, %v: want every real backend, never null or custom", all, err)
	}
	if b, err := parseBackend(" NULL "); err != nil || len(b) != 1 || b[0] != backendNull {
		t.Fatalf("null: %v %v", b, err)
	}
	if b, err := parseBackend("alsa"); err != nil || len(b) != 1 || backendNames[b[0]] != "alsa" {
		t.Fatalf("alsa: %v %v", b, err)
	}
	for _, bad := range []string{"custom", "sdl", "pulse"} {
		if _, err := parseBackend(bad); !errors.Is(err, ErrBadParam) || !strings.Contains(err.Error(), "pulseaudio") {
			t.Errorf("parseBackend(%q) = %v; want ErrBadParam listing the backends", bad, err)
		}
	}
	if slices.Contains(DeviceBackends(), "custom") || !slices.Contains(DeviceBackends(), "null") {
		t.Errorf("DeviceBackends() = %v", DeviceBackends())
	}
}

func TestParseDeviceSpec(t *testing.T) {
	for in, want := range map[string]Spec{
		"device":               {Kind: SpecDevice},
		"device:USB Headset":   {Kind: SpecDevice, Device: "USB Headset"},
		" device: headset ":    {Kind: SpecDevice, Device: "headset"},
		"device:hw:CARD=PCH,0": {Kind: SpecDevice, Device: "hw:CARD=PCH,0"},
	} {
		src, err := ParseSpec(in)
		if err != nil || src != want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", in, src, err, want)
		}
		sink, err := ParseSinkSpec(in)
		if err != nil || sink != want {
			t.Errorf("ParseSinkSpec(%q) = %+v, %v; want %+v", in, sink, err, want)
		}
		if back, _ := ParseSpec(src.String()); back != want {
			t.Errorf("%q -> %q does not round-trip", in, src.String())
		}
	}
	if _, err := ParseSpec("device:"); !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), "needs a name") {
		t.Errorf("device: %v", err)
	}
	if _, err := ParseSpec("mic"); err == nil || !strings.Contains(err.Error(), "device[:NAME]") {
		t.Errorf("unknown kind error should mention device: %v", err)
	}
}

// TestCaptureDeviceBuffering drives a capture device's callback side by
// hand: the audio comes out resampled, missing audio is silence, and a
// backlog is trimmed by dropping the oldest audio.
func TestCaptureDeviceBuffering(t *testing.T) {
	c, err := newCaptureDevice(DeviceInfo{Name: "test"}, Rate8k, Rate48k)
	if err != nil {
		t.Fatal(err)
	}
	tone, _ := NewToneSource(1000, Rate48k, 0.5)
	period := make([]int16, 480) // 10 ms device periods
	frame := make([]int16, 160)
	var out []int16
	for range 50 { // 1 s: two device periods per 20 ms frame
		for range 2 {
			_ = tone.ReadFrame(period)
			c.onData(period)
		}
		if err := c.ReadFrame(frame); err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	if f := DominantFrequency(out[800:], Rate8k); math.Abs(f-1000) > 10 {
		t.Errorf("captured 1000 Hz came out at %.1f Hz", f)
	}
	st := c.Stats()
	if st.DeviceRate != Rate48k || st.Callbacks != 100 || st.Samples != 48000 || st.Dropped != 0 || st.Overruns != 0 {
		t.Errorf("steady state stats %+v", st)
	}
	underruns := st.Underruns

	// The device stops delivering: frames are silence, counted as underruns.
	for range 10 {
		_ = c.ReadFrame(frame)
	}
	if RMS(frame) != 0 {
		t.Errorf("underrun frame is not silence (RMS %.1f)", RMS(frame))
	}
	if got := c.Stats().Underruns - underruns; got < 9 {
		t.Errorf("%d underruns counted for 10 empty reads", got)
	}

	// 300 ms arrive at once (the media side stalled): the oldest is dropped
	// so latency stays near the keep level.
	for range 30 {
		c.onData(period)
	}
	_ = c.ReadFrame(frame)
	st = c.Stats()
	if st.Dropped == 0 || c.q.Len() > c.keep {
		t.Errorf("backlog not trimmed: dropped %d, %d samples left (keep %d)", st.Dropped, c.q.Len(), c.keep)
	}

	// A ring overflow (consumer gone for > ringMs) counts overruns.
	for range 2 * ringMs / 10 {
		c.onData(period)
	}
	if c.Stats().Overruns == 0 {
		t.Error("overflowing the ring counted no overruns")
	}
	if err := c.Close(); err != nil || !errors.Is(c.ReadFrame(frame), ErrClosed) {
		t.Errorf("read after close: %v", c.ReadFrame(frame))
	}
}

// TestPlaybackDeviceBuffering drives a playback device's callback side by
// hand: it waits for the prebuffer, plays the audio resampled, pads an
// underrun with silence and waits again, and drops the oldest of a backlog.
func TestPlaybackDeviceBuffering(t *testing.T) {
	p, err := newPlaybackDevice(DeviceInfo{Name: "test"}, Rate16k, Rate48k)
	if err != nil {
		t.Fatal(err)
	}
	tone, _ := NewToneSource(440, Rate16k, 0.5)
	frame := make([]int16, 320) // 20 ms at 16 kHz
	period := make([]int16, 480)
	write := func() {
		_ = tone.ReadFrame(frame)
		if err := p.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	write() // 20 ms queued, below the 40 ms prebuffer
	period[0] = 1
	p.onData(period)
	if RMS(period) != 0 || p.Stats().Samples != 0 {
		t.Fatal("played before the prebuffer filled")
	}
	var played []int16
	write()
	for range 50 { // 1 s: one frame in, two periods out
		write()
		for range 2 {
			p.onData(period)
			played = append(played, period...)
		}
	}
	if f := DominantFrequency(played[4800:], Rate48k); math.Abs(f-440) > 5 {
		t.Errorf("played 440 Hz came out at %.1f Hz", f)
	}
	st := p.Stats()
	if st.Underruns != 0 || st.Dropped != 0 || st.Samples != 48000 {
		t.Errorf("steady state stats %+v", st)
	}
	// The media side stops writing: the ring drains, then silence.
	for range 10 {
		p.onData(period)
	}
	if RMS(period) != 0 || p.Stats().Underruns != 1 || p.primed.Load() {
		t.Errorf("drained: RMS %.1f, %d underruns, primed %v; want silence, one underrun, waiting for prebuffer",
			RMS(period), p.Stats().Underruns, p.primed.Load())
	}
	// A 400 ms burst: the callback drops the oldest down to the keep level.
	for range 20 {
		write()
	}
	p.onData(period)
	if st := p.Stats(); st.Dropped == 0 || p.q.Len() > p.keep {
		t.Errorf("backlog not trimmed: %+v, %d queued (keep %d)", st, p.q.Len(), p.keep)
	}
	if err := p.Close(); err != nil || !errors.Is(p.WriteFrame(frame), ErrClosed) {
		t.Error("write after close accepted")
	}
}

// TestDeviceCallbacksDoNotAllocate: the work done on the device's thread
// allocates nothing, and neither does the media side in steady state.
func TestDeviceCallbacksDoNotAllocate(t *testing.T) {
	c, _ := newCaptureDevice(DeviceInfo{}, Rate8k, Rate48k)
	p, _ := newPlaybackDevice(DeviceInfo{}, Rate8k, Rate48k)
	period, frame := make([]int16, 480), make([]int16, 160)
	for range 5 { // grow the scratch buffers once
		c.onData(period)
		c.onData(period)
		_ = c.ReadFrame(frame)
		_ = p.WriteFrame(frame)
		p.onData(period)
		p.onData(period)
	}
	if a := testing.AllocsPerRun(200, func() { c.onData(period); p.onData(period) }); a != 0 {
		t.Errorf("device callbacks: %v allocations per call", a)
	}
	if a := testing.AllocsPerRun(200, func() {
		c.onData(period)
		c.onData(period)
		_ = c.ReadFrame(frame)
		_ = p.WriteFrame(frame)
	}); a != 0 {
		t.Errorf("ReadFrame/WriteFrame: %v allocations per frame", a)
	}
}

// TestDeviceRates: a tone keeps its frequency through a device at any
// common native rate, in both directions, for both codec rates.
func TestDeviceRates(t *testing.T) {
	for _, devRate := range []int{8000, 16000, 44100, 48000} {
		for _, rate := range []int{Rate8k, Rate16k} {
			c, err := newCaptureDevice(DeviceInfo{}, rate, devRate)
			if err != nil {
				t.Fatal(err)
			}
			p, err := newPlaybackDevice(DeviceInfo{}, rate, devRate)
			if err != nil {
				t.Fatal(err)
			}
			mic, _ := NewToneSource(1000, 48000, 0.5)
			mic48 := make([]int16, devRate/50)
			micSrc, _ := ResampleSource(mic, devRate)
			voice, _ := NewToneSource(440, rate, 0.5)
			frame := make([]int16, rate/50)
			var captured, played []int16
			for range 50 {
				_ = micSrc.ReadFrame(mic48)
				c.onData(mic48)
				_ = c.ReadFrame(frame)
				captured = append(captured, frame...)
				_ = voice.ReadFrame(frame)
				_ = p.WriteFrame(frame)
				out := make([]int16, devRate/50)
				p.onData(out)
				played = append(played, out...)
			}
			if f := DominantFrequency(captured[len(captured)/2:], rate); math.Abs(f-1000) > 10 {
				t.Errorf("capture %d -> %d Hz: 1000 Hz came out at %.1f Hz", devRate, rate, f)
			}
			if f := DominantFrequency(played[len(played)/2:], devRate); math.Abs(f-440) > 5 {
				t.Errorf("playback %d -> %d Hz: 440 Hz came out at %.1f Hz", rate, devRate, f)
			}
		}
	}
}
