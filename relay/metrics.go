package relay

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Packet results, the "result" label of sipedge_media_packets_total.
type result int

const (
	resForwarded     result = iota // accepted and sent to the other party
	resAuthFailed                  // SRTP/SRTCP tag did not verify, or unauthenticated junk
	resReplay                      // SRTP/SRTCP index already seen
	resUnknownSource               // source address not allowed for this leg
	resMalformed                   // not an RTP/RTCP packet, or clear-text RTCP on an SRTP leg
	resDropped                     // accepted but not forwarded: no destination yet, send error
	numResults
)

var resultNames = [numResults]string{"forwarded", "auth_failed", "replay", "unknown_source", "malformed", "dropped"}

// metrics holds pre-resolved collectors so the packet path only does atomic adds.
type metrics struct {
	packets       [2][numResults]prometheus.Counter // [side][result]
	bytes         [2]prometheus.Counter             // forwarded bytes received from side
	sessions      prometheus.Gauge
	ended         map[string]prometheus.Counter // by reason label
	latchMoves    prometheus.Counter
	portExhausted prometheus.Counter
	duration      prometheus.Histogram
	loss          [2]prometheus.Observer
	jitter        [2]prometheus.Observer
	mos           [2]prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	packets := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipedge_media_packets_total",
		Help: "Media packets received by the relay, by side they came from and what happened to them.",
	}, []string{"side", "result"})
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipedge_media_bytes_total",
		Help: "Bytes of media packets forwarded, by side they came from (as received).",
	}, []string{"side"})
	sessions := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sipedge_media_sessions", Help: "Open media sessions.",
	})
	ended := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipedge_media_sessions_ended_total",
		Help: "Media sessions ended (one per end-of-call record), by reason.",
	}, []string{"reason"})
	latch := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sipedge_media_latch_changes_total",
		Help: "Times an access-side leg moved to a new phone address after an authenticated packet.",
	})
	exhausted := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sipedge_media_port_exhausted_total",
		Help: "Streams that could not get a free RTP/RTCP port pair.",
	})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "sipedge_media_session_duration_seconds",
		Help:    "Length of media sessions, observed at their end.",
		Buckets: []float64{1, 10, 30, 60, 180, 600, 1800, 3600, 4 * 3600},
	})
	loss := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sipedge_media_leg_loss_ratio",
		Help:    "RTP packet loss of a leg over its whole call (packets from that side), at session end.",
		Buckets: []float64{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5},
	}, []string{"side"})
	jitter := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sipedge_media_leg_jitter_seconds",
		Help:    "RFC 3550 interarrival jitter of a leg at session end.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32},
	}, []string{"side"})
	mos := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sipedge_media_leg_mos",
		Help:    "Estimated MOS (E-model, loss and jitter only) of a leg at session end.",
		Buckets: []float64{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4},
	}, []string{"side"})

	var err error
	reg2 := func(c prometheus.Collector) prometheus.Collector {
		if reg == nil || err != nil {
			return c
		}
		if e := reg.Register(c); e != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(e, &are) {
				return are.ExistingCollector // a second Relay on the same registry shares them
			}
			err = e
		}

		return c
	}
	packets = reg2(packets).(*prometheus.CounterVec)
	bytes = reg2(bytes).(*prometheus.CounterVec)
	sessions = reg2(sessions).(prometheus.Gauge)
	ended = reg2(ended).(*prometheus.CounterVec)
	latch = reg2(latch).(prometheus.Counter)
	exhausted = reg2(exhausted).(prometheus.Counter)
	duration = reg2(duration).(prometheus.Histogram)
	loss = reg2(loss).(*prometheus.HistogramVec)
	jitter = reg2(jitter).(*prometheus.HistogramVec)
	mos = reg2(mos).(*prometheus.HistogramVec)
	if err != nil {
		return nil, err
	}

	m := &metrics{
		sessions: sessions, latchMoves: latch, portExhausted: exhausted, duration: duration,
		ended: make(map[string]prometheus.Counter, len(knownReasons)+1),
	}
	for _, side := range [...]Side{Access, Core} {
		for res := range numResults {
			m.packets[side][res] = packets.WithLabelValues(side.String(), resultNames[res])
		}
		m.bytes[side] = bytes.WithLabelValues(side.String())
		m.loss[side] = loss.WithLabelValues(side.String())
		m.jitter[side] = jitter.WithLabelValues(side.String())
		m.mos[side] = mos.WithLabelValues(side.String())
	}
	for _, r := range knownReasons {
		m.ended[r] = ended.WithLabelValues(r)
	}
	m.ended["other"] = ended.WithLabelValues("other")

	return m, nil
}

// endedCounter returns the counter for reason, "other" for unknown text.
func (m *metrics) endedCounter(reason string) prometheus.Counter {
	if c, ok := m.ended[reason]; ok {
		return c
	}

	return m.ended["other"]
}
