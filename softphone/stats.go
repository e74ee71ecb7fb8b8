package softphone

import (
	"encoding/json"
	"strconv"
	"time"
)

// Seconds is a duration that marshals to JSON as (fractional) seconds.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds with millisecond precision.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(s).Seconds(), 'f', 3, 64)), nil
}

// UnmarshalJSON reads seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}

// D returns the value as a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(s) }

// CallStats are a call's media statistics.
type CallStats struct {
	Duration Seconds `json:"duration_s"`
	Codec    string  `json:"codec,omitempty"`
	SRTP     string  `json:"srtp,omitempty"`
	// PacketsSent and PacketsReceived count RTP packets (audio and DTMF).
	PacketsSent     uint64 `json:"packets_sent"`
	PacketsReceived uint64 `json:"packets_received"`
	// PacketsLost is the receive-side loss (RFC 3550 cumulative lost); LossPercent its ratio.
	PacketsLost int64   `json:"packets_lost"`
	LossPercent float64 `json:"loss_percent"`
	// JitterMs is the receive interarrival jitter.
	JitterMs float64 `json:"jitter_ms"`
	// RTTMs is the round-trip time from RTCP (0 until measured).
	RTTMs float64 `json:"rtt_ms"`
	// RemoteLossPercent and RemoteJitterMs are what the peer reports about our stream (RTCP RR).
	RemoteLossPercent float64 `json:"remote_loss_percent"`
	RemoteJitterMs    float64 `json:"remote_jitter_ms"`
	// MOS is the estimated mean opinion score (1..4.5).
	MOS float64 `json:"mos"`
	// SRTPErrors counts packets from the peer's media address dropped for failed authentication or
	// replay (a key mismatch shows here).
	SRTPErrors uint64 `json:"srtp_errors,omitempty"`
	// StrayPackets counts packets from other addresses that failed authentication (someone else's
	// media, a scan, a forged packet) and were dropped.
	StrayPackets uint64 `json:"stray_packets,omitempty"`
	// Concealed counts 20 ms frames filled by packet-loss concealment.
	Concealed uint64 `json:"concealed_frames,omitempty"`
	// DTMFReceived lists the digits received.
	DTMFReceived string `json:"dtmf_received,omitempty"`
}
