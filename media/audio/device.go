package audio

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// DeviceKind says whether a system audio device records or plays.
type DeviceKind string

// Device kinds.
const (
	DeviceCapture  DeviceKind = "capture"
	DevicePlayback DeviceKind = "playback"
)

// DeviceInfo describes one system audio device (ListDevices).
type DeviceInfo struct {
	// Name is the backend's name for the device; "device:NAME" matches it.
	Name string `json:"name"`
	// Kind is capture (microphone) or playback (speaker).
	Kind DeviceKind `json:"kind"`
	// Default is set for the device the backend uses by default (not every
	// backend reports one).
	Default bool `json:"default,omitempty"`
	// ID is the backend's device identifier, hex encoded.
	ID string `json:"id"`
}

// DeviceOptions select a system audio device.
type DeviceOptions struct {
	// Backend is "" for the system's audio backends in miniaudio's priority
	// order (PulseAudio, ALSA, JACK, ... on Linux; Core Audio on macOS;
	// WASAPI on Windows), never the null backend; or one backend by name
	// (see DeviceBackends). "null" is miniaudio's null backend: a capture
	// device producing silence and a playback device consuming audio in real
	// time, for tests and headless machines.
	Backend string
	// Name selects the device whose name contains Name, case-insensitively
	// (an exact match wins over a partial one; otherwise the first in the
	// backend's order). Empty selects the backend's default device.
	Name string
}

// backendNames are miniaudio's backends in its ma_backend order (the
// position is the enum value). malgo's own BackendNull constant is 13,
// which is ma_backend_custom in the miniaudio it bundles: use these.
var backendNames = []string{"wasapi", "dsound", "winmm", "coreaudio", "sndio", "audio4", "oss",
	"pulseaudio", "alsa", "jack", "aaudio", "opensl", "webaudio", "custom", "null"}

const (
	backendCustom = 13
	backendNull   = 14
)

// DeviceBackends lists the backend names DeviceOptions.Backend accepts.
func DeviceBackends() []string {
	out := slices.Clone(backendNames)
	return slices.DeleteFunc(out, func(s string) bool { return s == "custom" })
}

// parseBackend returns the miniaudio backend enum values to try for name.
func parseBackend(name string) ([]uint32, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		var all []uint32
		for i := range backendNames {
			if i != backendCustom && i != backendNull {
				all = append(all, uint32(i))
			}
		}
		return all, nil
	}
	i := slices.Index(backendNames, name)
	if i < 0 || i == backendCustom {
		return nil, fmt.Errorf("%w: unknown audio backend %q (want one of %s)",
			ErrBadParam, name, strings.Join(DeviceBackends(), ", "))
	}
	return []uint32{uint32(i)}, nil
}

// matchDevice returns the index in devs of the device of kind whose name
// contains name (case-insensitive; an exact match first), or an error
// wrapping ErrNoSuchDevice that lists the devices of that kind.
func matchDevice(devs []DeviceInfo, kind DeviceKind, name string) (int, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	sub := -1
	for i, d := range devs {
		if d.Kind != kind {
			continue
		}
		got := strings.ToLower(d.Name)
		if got == want {
			return i, nil
		}
		if sub < 0 && strings.Contains(got, want) {
			sub = i
		}
	}
	if sub >= 0 {
		return sub, nil
	}
	return -1, fmt.Errorf("%w: no %s device name contains %q; %s",
		ErrNoSuchDevice, kind, name, deviceList(devs, kind))
}

// deviceList names the devices of kind for an error message.
func deviceList(devs []DeviceInfo, kind DeviceKind) string {
	var names []string
	for _, d := range devs {
		if d.Kind == kind {
			names = append(names, strconv.Quote(d.Name))
		}
	}
	if len(names) == 0 {
		return fmt.Sprintf("there are no %s devices", kind)
	}
	return fmt.Sprintf("available %s devices: %s", kind, strings.Join(names, ", "))
}

// Device buffering, in milliseconds of audio at the device rate. The ring
// between the device callback and the media goroutine holds ringMs; the
// consumer keeps the latency bounded by dropping the oldest audio when more
// than maxLagMs is buffered (down to keepLagMs). Playback waits for
// prebufferMs before it starts (and again after each underrun), so the
// 20 ms media ticks and the device periods do not rub against each other.
const (
	ringMs           = 500
	captureMaxLagMs  = 100
	captureKeepLagMs = 40
	playMaxLagMs     = 120
	playKeepLagMs    = 60
	prebufferMs      = 40
)

func msSamples(rate, ms int) int { return rate * ms / 1000 }

// DeviceStats counts what happened between a device and its ring buffer.
type DeviceStats struct {
	// DeviceRate is the rate the device runs at (audio is resampled to and
	// from the stream rate when they differ).
	DeviceRate int `json:"device_rate"`
	// Callbacks is the number of device callbacks so far.
	Callbacks uint64 `json:"callbacks"`
	// Samples is the audio moved at the device rate: captured by the device,
	// or played from the ring (silence padding not counted).
	Samples uint64 `json:"samples"`
	// Underruns counts reads that found too little audio and padded with silence.
	Underruns uint64 `json:"underruns"`
	// Overruns is the number of samples lost because the ring was full
	// (the consumer stalled for longer than the ring holds).
	Overruns uint64 `json:"overruns"`
	// Dropped is the number of oldest samples discarded to bound latency.
	Dropped uint64 `json:"dropped"`
}

type deviceCounters struct {
	callbacks, samples, underruns, overruns, dropped atomic.Uint64
}

func (c *deviceCounters) stats(rate int) DeviceStats {
	return DeviceStats{DeviceRate: rate, Callbacks: c.callbacks.Load(), Samples: c.samples.Load(),
		Underruns: c.underruns.Load(), Overruns: c.overruns.Load(), Dropped: c.dropped.Load()}
}

// deviceHandle is the backend's open device (device_malgo.go).
type deviceHandle interface{ close() }

// CaptureDevice is a Source reading a system capture device (microphone).
// The device callback only copies into a ring buffer; ReadFrame never
// blocks: it returns silence for audio the device has not delivered yet
// (underrun) and drops the oldest audio when the media side fell behind.
// ReadFrame and Close must not be called concurrently; Stats may be.
type CaptureDevice struct {
	info          DeviceInfo
	rate, devRate int
	q             *ring
	rs            *Resampler // device rate -> rate, nil when equal
	in, pend      []int16
	maxLag, keep  int
	hw            deviceHandle
	closed        bool
	cnt           deviceCounters
}

func newCaptureDevice(info DeviceInfo, rate, devRate int) (*CaptureDevice, error) {
	c := &CaptureDevice{info: info, rate: rate, devRate: devRate, q: newRing(msSamples(devRate, ringMs)),
		maxLag: msSamples(devRate, captureMaxLagMs), keep: msSamples(devRate, captureKeepLagMs)}
	if devRate != rate {
		rs, err := NewResampler(devRate, rate)
		if err != nil {
			return nil, err
		}
		c.rs = rs
	}
	return c, nil
}

// onData is the device callback's work: copy the captured samples into the
// ring. It neither blocks nor allocates.
func (c *CaptureDevice) onData(in []int16) {
	c.cnt.callbacks.Add(1)
	c.cnt.samples.Add(uint64(len(in)))
	if n := c.q.Write(in); n < len(in) {
		c.cnt.overruns.Add(uint64(len(in) - n))
	}
}

// pull fills p from the ring at the device rate: the oldest audio beyond
// the latency bound is dropped, missing audio is silence.
func (c *CaptureDevice) pull(p []int16) {
	if avail := c.q.Len(); avail > len(p)+c.maxLag {
		c.cnt.dropped.Add(uint64(c.q.Discard(avail - len(p) - c.keep)))
	}
	if n := c.q.Read(p); n < len(p) {
		clear(p[n:])
		c.cnt.underruns.Add(1)
	}
}

// ReadFrame implements Source. It fills dst with the next captured audio at
// SampleRate, padding with silence when the device is behind; it returns
// ErrClosed after Close.
func (c *CaptureDevice) ReadFrame(dst []int16) error {
	if c.closed {
		return ErrClosed
	}
	if c.rs == nil {
		c.pull(dst)
		return nil
	}
	for len(c.pend) < len(dst) {
		need := c.rs.InputFor(len(dst) - len(c.pend))
		if cap(c.in) < need {
			c.in = make([]int16, need)
		}
		in := c.in[:need]
		c.pull(in)
		c.pend = c.rs.Process(c.pend, in)
	}
	n := copy(dst, c.pend)
	c.pend = c.pend[:copy(c.pend, c.pend[n:])]
	return nil
}

// SampleRate implements Source.
func (c *CaptureDevice) SampleRate() int { return c.rate }

// Info describes the device.
func (c *CaptureDevice) Info() DeviceInfo { return c.info }

// Stats returns the device's counters. Safe for concurrent use.
func (c *CaptureDevice) Stats() DeviceStats { return c.cnt.stats(c.devRate) }

// Close stops the device and releases it. Further reads return ErrClosed.
func (c *CaptureDevice) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.hw != nil {
		c.hw.close()
	}
	return nil
}

// PlaybackDevice is a Sink playing to a system playback device (speaker).
// WriteFrame only copies into a ring buffer and never blocks; the device
// callback plays silence when the ring runs dry (underrun) and drops the
// oldest audio when too much is queued. WriteFrame and Close must not be
// called concurrently; Stats may be.
type PlaybackDevice struct {
	info          DeviceInfo
	rate, devRate int
	q             *ring
	rs            *Resampler // rate -> device rate, nil when equal
	buf           []int16
	prebuf        int
	maxLag, keep  int
	primed        atomic.Bool // callback side: playing (false: waiting for prebuf)
	hw            deviceHandle
	closed        bool
	cnt           deviceCounters
}

func newPlaybackDevice(info DeviceInfo, rate, devRate int) (*PlaybackDevice, error) {
	p := &PlaybackDevice{info: info, rate: rate, devRate: devRate, q: newRing(msSamples(devRate, ringMs)),
		prebuf: msSamples(devRate, prebufferMs),
		maxLag: msSamples(devRate, playMaxLagMs), keep: msSamples(devRate, playKeepLagMs)}
	if devRate != rate {
		rs, err := NewResampler(rate, devRate)
		if err != nil {
			return nil, err
		}
		p.rs = rs
	}
	return p, nil
}

// onData is the device callback's work: fill out from the ring. It neither
// blocks nor allocates.
func (p *PlaybackDevice) onData(out []int16) {
	p.cnt.callbacks.Add(1)
	avail := p.q.Len()
	if !p.primed.Load() {
		if avail < p.prebuf {
			clear(out)
			return
		}
		p.primed.Store(true)
	}
	if avail > p.maxLag {
		p.cnt.dropped.Add(uint64(p.q.Discard(avail - p.keep)))
	}
	n := p.q.Read(out)
	p.cnt.samples.Add(uint64(n))
	if n < len(out) {
		clear(out[n:])
		p.cnt.underruns.Add(1)
		p.primed.Store(false)
	}
}

// WriteFrame implements Sink: it queues pcm (at SampleRate) for the device.
// If the device has stopped consuming and the ring is full, the frame's
// excess is dropped (counted in Stats().Overruns).
func (p *PlaybackDevice) WriteFrame(pcm []int16) error {
	if p.closed {
		return ErrClosed
	}
	if p.rs != nil {
		p.buf = p.rs.Process(p.buf[:0], pcm)
		pcm = p.buf
	}
	if n := p.q.Write(pcm); n < len(pcm) {
		p.cnt.overruns.Add(uint64(len(pcm) - n))
	}
	return nil
}

// SampleRate is the rate WriteFrame expects.
func (p *PlaybackDevice) SampleRate() int { return p.rate }

// Info describes the device.
func (p *PlaybackDevice) Info() DeviceInfo { return p.info }

// Stats returns the device's counters. Safe for concurrent use.
func (p *PlaybackDevice) Stats() DeviceStats { return p.cnt.stats(p.devRate) }

// Close implements Sink: it stops the device (audio still queued is not
// played) and releases it.
func (p *PlaybackDevice) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	if p.hw != nil {
		p.hw.close()
	}
	return nil
}
