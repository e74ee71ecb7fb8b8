//go:build cgo

package audio

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// DevicesSupported reports whether this build can open system audio
// devices. It is true in builds with cgo (the malgo/miniaudio backend).
func DevicesSupported() bool { return true }

// ListDevices returns the capture and playback devices of backend (see
// DeviceOptions.Backend; "" is the system's backends).
func ListDevices(backend string) ([]DeviceInfo, error) {
	ctx, err := initContext(backend)
	if err != nil {
		return nil, err
	}
	defer freeContext(ctx)
	devs, _, err := listDevices(ctx.Context)
	return devs, err
}

// ProbeDevice initialises the device of kind that opts selects without
// starting it, and releases it again: it returns the device that would be
// used, or why none can be (no backend, no match, the device cannot be
// opened), so a caller can fail before setting up a call.
func ProbeDevice(opts DeviceOptions, kind DeviceKind) (DeviceInfo, error) {
	var got DeviceInfo
	hw, err := openDevice(opts, kind, Rate8k, false, func(info DeviceInfo, _ int) (func(out, in []byte), error) {
		got = info
		return func(_, _ []byte) {}, nil
	})
	if err != nil {
		return DeviceInfo{}, err
	}
	hw.close()
	return got, nil
}

// OpenCaptureDevice opens and starts the capture device opts selects. Its
// frames come at sampleRate (8000 or 16000 for the codecs; 32000 and 48000
// work too), mono, resampled from the device's own rate when they differ.
// The caller must Close it.
func OpenCaptureDevice(opts DeviceOptions, sampleRate int) (*CaptureDevice, error) {
	var c *CaptureDevice
	hw, err := openDevice(opts, DeviceCapture, sampleRate, true, func(info DeviceInfo, devRate int) (func(out, in []byte), error) {
		var err error
		c, err = newCaptureDevice(info, sampleRate, devRate)
		if err != nil {
			return nil, err
		}
		return func(_, in []byte) { c.onData(asInt16(in)) }, nil
	})
	if err != nil {
		return nil, err
	}
	c.hw = hw
	return c, nil
}

// OpenPlaybackDevice opens and starts the playback device opts selects, for
// mono frames at sampleRate (resampled to the device's own rate when they
// differ). The caller must Close it.
func OpenPlaybackDevice(opts DeviceOptions, sampleRate int) (*PlaybackDevice, error) {
	var p *PlaybackDevice
	hw, err := openDevice(opts, DevicePlayback, sampleRate, true, func(info DeviceInfo, devRate int) (func(out, in []byte), error) {
		var err error
		p, err = newPlaybackDevice(info, sampleRate, devRate)
		if err != nil {
			return nil, err
		}
		return func(out, _ []byte) { p.onData(asInt16(out)) }, nil
	})
	if err != nil {
		return nil, err
	}
	p.hw = hw
	return p, nil
}

// asInt16 views a device buffer of native-endian S16 samples as []int16
// without copying or allocating.
func asInt16(b []byte) []int16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*int16)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/2)
}

// malgoDevice is an initialised miniaudio context and device.
type malgoDevice struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device
	pin runtime.Pinner // the device ID handed to miniaudio
}

// close stops the device (no callback runs after it returns) and frees it
// and its context.
func (m *malgoDevice) close() {
	if m.dev != nil {
		m.dev.Uninit()
		m.dev = nil
	}
	m.pin.Unpin()
	if m.ctx != nil {
		freeContext(m.ctx)
		m.ctx = nil
	}
}

// openDevice initialises the device of kind that opts selects (S16 mono at
// the device's native rate), lets build create the Go side for the device
// rate, and starts it if start is set.
func openDevice(opts DeviceOptions, kind DeviceKind, rate int, start bool,
	build func(info DeviceInfo, devRate int) (func(out, in []byte), error)) (*malgoDevice, error) {
	if err := checkRate(rate); err != nil {
		return nil, err
	}
	ctx, err := initContext(opts.Backend)
	if err != nil {
		return nil, err
	}
	m := &malgoDevice{ctx: ctx}
	devs, ids, err := listDevices(ctx.Context)
	if err != nil {
		m.close()
		return nil, err
	}
	info := DeviceInfo{Name: "default", Kind: kind}
	var id unsafe.Pointer
	if opts.Name != "" {
		i, err := matchDevice(devs, kind, opts.Name)
		if err != nil {
			m.close()
			return nil, err
		}
		info = devs[i]
		p := new(malgo.DeviceID)
		*p = ids[i]
		m.pin.Pin(p)
		id = unsafe.Pointer(p)
	} else {
		for _, d := range devs {
			if d.Kind == kind && d.Default {
				info = d
				break
			}
		}
	}
	typ := malgo.Capture
	if kind == DevicePlayback {
		typ = malgo.Playback
	}
	cfg := malgo.DefaultDeviceConfig(typ)
	cfg.SampleRate = 0 // the device's native rate; Resampler converts
	sub := &cfg.Capture
	if kind == DevicePlayback {
		sub = &cfg.Playback
	}
	sub.Format, sub.Channels, sub.DeviceID = malgo.FormatS16, 1, id
	var onData func(out, in []byte) // set before Start; the callback runs only after it
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(out, in []byte, _ uint32) { onData(out, in) },
	})
	if err != nil {
		m.close()
		return nil, fmt.Errorf("%w: open %s device %q: %v (%s)", ErrDevice, kind, info.Name, err, deviceList(devs, kind))
	}
	m.dev = dev
	if onData, err = build(info, int(dev.SampleRate())); err != nil {
		m.close()
		return nil, err
	}
	if !start {
		return m, nil
	}
	if err := dev.Start(); err != nil {
		m.close()
		return nil, fmt.Errorf("%w: start %s device %q: %v", ErrDevice, kind, info.Name, err)
	}
	return m, nil
}

// initContext initialises a miniaudio context on the backends name selects.
func initContext(name string) (*malgo.AllocatedContext, error) {
	ids, err := parseBackend(name)
	if err != nil {
		return nil, err
	}
	bs := make([]malgo.Backend, len(ids))
	for i, id := range ids {
		bs[i] = malgo.Backend(id)
	}
	ctx, err := malgo.InitContext(bs, malgo.ContextConfig{}, nil)
	if err != nil {
		which := "no system audio backend (PulseAudio, ALSA, JACK, ...) is usable"
		if name != "" {
			which = fmt.Sprintf("audio backend %q is unusable", name)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrDevice, which, err)
	}
	return ctx, nil
}

func freeContext(ctx *malgo.AllocatedContext) {
	_ = ctx.Uninit()
	ctx.Free()
}

// listDevices returns the context's capture then playback devices, with
// their backend IDs at the same index.
func listDevices(ctx malgo.Context) ([]DeviceInfo, []malgo.DeviceID, error) {
	var devs []DeviceInfo
	var ids []malgo.DeviceID
	for _, k := range []struct {
		typ  malgo.DeviceType
		kind DeviceKind
	}{{malgo.Capture, DeviceCapture}, {malgo.Playback, DevicePlayback}} {
		list, err := ctx.Devices(k.typ)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: list %s devices: %v", ErrDevice, k.kind, err)
		}
		for i := range list {
			d := &list[i]
			devs = append(devs, DeviceInfo{Name: d.Name(), Kind: k.kind, Default: d.IsDefault != 0, ID: d.ID.String()})
			ids = append(ids, d.ID)
		}
	}
	return devs, ids, nil
}
