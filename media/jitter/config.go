package jitter

import (
	"fmt"
	"time"
)

// Config tunes a Buffer. The zero value of every field selects its default
// (applied by New, in one place: withDefaults).
type Config struct {
	// ClockRate is the RTP timestamp clock rate. Default 8000 (also right
	// for G.722).
	ClockRate int
	// FrameDuration is the expected packet interval (SDP ptime). Default
	// 20 ms. The buffer learns the real interval from consecutive packets.
	FrameDuration time.Duration
	// MinDelay and MaxDelay bound the adaptive target delay. Defaults
	// 20 ms and 300 ms.
	MinDelay, MaxDelay time.Duration
	// InitialDelay is the delay used until enough packets have been seen to
	// measure jitter (the first WarmupPackets). Default 60 ms.
	InitialDelay time.Duration
	// Window is how many recent packets the jitter estimate looks at.
	// Default 250 (5 s at 20 ms).
	Window int
	// WarmupPackets is how many packets must be seen before the target
	// may fall below InitialDelay. Default 50.
	WarmupPackets int
	// Quantile of the delay spread the target covers: 0.95 means about 5%
	// of packets may arrive too late (and be concealed) in exchange for a
	// lower delay; 1 covers every packet in the window. Default 0.95.
	Quantile float64
	// ShrinkInterval is the minimum number of Pop calls between two frames
	// dropped to lower the delay. Default 5.
	ShrinkInterval int
	// Capacity is the most packets held. When full, the oldest is dropped.
	// Default 2*MaxDelay/FrameDuration + 16.
	Capacity int
	// MaxConceal is how long Pop reports lost frames with nothing
	// buffered before it decides the stream has stopped, returns empty
	// frames and waits for packets to prime again. Default 200 ms.
	MaxConceal time.Duration
	// MaxTimestampJump is the largest gap between a packet's timestamp and
	// the one expected from its sequence number that is still the same
	// timeline; a larger jump resynchronises the buffer. Default 2 s; it
	// must exceed MaxDelay.
	MaxTimestampJump time.Duration
}

const (
	defaultClockRate      = 8000
	defaultFrame          = 20 * time.Millisecond
	defaultMinDelay       = 20 * time.Millisecond
	defaultMaxDelay       = 300 * time.Millisecond
	defaultInitialDelay   = 60 * time.Millisecond
	defaultWindow         = 250
	defaultWarmup         = 50
	defaultQuantile       = 0.95
	defaultShrinkInterval = 5
	defaultMaxConceal     = 200 * time.Millisecond
	defaultMaxTSJump      = 2 * time.Second
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.ClockRate == 0 {
		c.ClockRate = defaultClockRate
	}
	if c.FrameDuration == 0 {
		c.FrameDuration = defaultFrame
	}
	if c.MinDelay == 0 {
		c.MinDelay = defaultMinDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = defaultMaxDelay
	}
	if c.InitialDelay == 0 {
		c.InitialDelay = min(max(defaultInitialDelay, c.MinDelay), c.MaxDelay)
	}
	if c.Window == 0 {
		c.Window = defaultWindow
	}
	if c.WarmupPackets == 0 {
		c.WarmupPackets = min(defaultWarmup, c.Window)
	}
	if c.Quantile == 0 {
		c.Quantile = defaultQuantile
	}
	if c.ShrinkInterval == 0 {
		c.ShrinkInterval = defaultShrinkInterval
	}
	if c.Capacity == 0 && c.FrameDuration > 0 {
		c.Capacity = int(2*c.MaxDelay/c.FrameDuration) + 16
	}
	if c.MaxConceal == 0 {
		c.MaxConceal = defaultMaxConceal
	}
	if c.MaxTimestampJump == 0 {
		c.MaxTimestampJump = max(defaultMaxTSJump, 2*c.MaxDelay)
	}
	return c
}

// Validate reports the first invalid field of c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.ClockRate < 1000 || c.ClockRate > 192000:
		return fmt.Errorf("%w: ClockRate %d must be in [1000, 192000]", ErrBadConfig, c.ClockRate)
	case c.FrameDuration < time.Millisecond || c.FrameDuration > 200*time.Millisecond:
		return fmt.Errorf("%w: FrameDuration %v must be in [1ms, 200ms]", ErrBadConfig, c.FrameDuration)
	case c.MinDelay < 0:
		return fmt.Errorf("%w: MinDelay %v is negative", ErrBadConfig, c.MinDelay)
	case c.MaxDelay < c.MinDelay:
		return fmt.Errorf("%w: MaxDelay %v is below MinDelay %v", ErrBadConfig, c.MaxDelay, c.MinDelay)
	case c.MaxDelay > 10*time.Second:
		return fmt.Errorf("%w: MaxDelay %v exceeds 10s", ErrBadConfig, c.MaxDelay)
	case c.InitialDelay < c.MinDelay || c.InitialDelay > c.MaxDelay:
		return fmt.Errorf("%w: InitialDelay %v must be within [MinDelay %v, MaxDelay %v]",
			ErrBadConfig, c.InitialDelay, c.MinDelay, c.MaxDelay)
	case c.Window < 2 || c.Window > 100000:
		return fmt.Errorf("%w: Window %d must be in [2, 100000]", ErrBadConfig, c.Window)
	case c.WarmupPackets < 1 || c.WarmupPackets > c.Window:
		return fmt.Errorf("%w: WarmupPackets %d must be in [1, Window %d]", ErrBadConfig, c.WarmupPackets, c.Window)
	case !(c.Quantile > 0 && c.Quantile <= 1):
		return fmt.Errorf("%w: Quantile %g must be in (0, 1]", ErrBadConfig, c.Quantile)
	case c.ShrinkInterval < 1:
		return fmt.Errorf("%w: ShrinkInterval %d must be at least 1", ErrBadConfig, c.ShrinkInterval)
	case c.Capacity < 2 || c.Capacity > 100000:
		return fmt.Errorf("%w: Capacity %d must be in [2, 100000]", ErrBadConfig, c.Capacity)
	case c.MaxConceal < 0:
		return fmt.Errorf("%w: MaxConceal %v is negative", ErrBadConfig, c.MaxConceal)
	case c.MaxTimestampJump <= c.MaxDelay:
		return fmt.Errorf("%w: MaxTimestampJump %v must exceed MaxDelay %v", ErrBadConfig, c.MaxTimestampJump, c.MaxDelay)
	}
	return nil
}
