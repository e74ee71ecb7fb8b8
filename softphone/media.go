package softphone

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/sipedge/sipedge/media"
	"github.com/sipedge/sipedge/media/audio"
	"github.com/sipedge/sipedge/media/codec"
	"github.com/sipedge/sipedge/media/dtmf"
)

const (
	frameDur     = 20 * time.Millisecond
	rtcpInterval = 5 * time.Second
	maxPacket    = 1500
)

// mediaSession is the RTP engine of one call: an RTP socket on an even port of
// the phone's address and an RTCP socket on the next port (used when the peer
// does not accept rtcp-mux), a 20 ms sender (audio source -> codec
// -> SRTP), a receiver (SRTP -> jitter buffer / DTMF), a 20 ms player
// (jitter buffer -> codec or concealment -> sink), RTCP reports every 5 s and
// statistics.
type mediaSession struct {
	log      *slog.Logger
	conn     *net.UDPConn
	rtcpConn *net.UDPConn // RTP port + 1 (RFC 3550; nil if that pair could not be bound: rtcp-mux only)
	local    netip.AddrPort

	mu         sync.Mutex
	started    bool
	closed     bool
	neg        Negotiated
	enc        *media.Encryptor
	dec        *media.Decryptor
	remote     netip.AddrPort
	remoteRTCP netip.AddrPort
	muted      bool
	src        audio.Source
	sink       audio.Sink
	sinkRate   int              // rate the sink was opened at
	sinkRS     *audio.Resampler // codec rate -> sink rate after a codec change
	sinkBuf    []int16
	encoder    codec.Codec
	decoder    codec.Codec
	playout    *playout
	dtmfTx     *dtmfQueue
	dtmfRx     *dtmf.Receiver
	onDTMF     func(digit string)

	ssrc      uint32
	seq       uint16
	ts        uint32
	sent      uint64
	sentBytes uint64
	rstats    *media.RTPStats
	rtt       time.Duration
	remLoss   float64
	remJitter float64
	srtpErrs  uint64
	strays    uint64
	concealed uint64

	lastSeq   uint16 // last audio packet received, to place DTMF packets on the audio timeline in the stats
	lastTS    uint32
	haveLast  bool
	rtcpEvery time.Duration // RTCP report interval (rtcpInterval; tests shorten it)
	// audioBackend is the backend of "device" sources and sinks (Options.AudioBackend).
	audioBackend string

	quit chan struct{}
	wg   sync.WaitGroup
}

// newMediaSession binds the call's RTP and RTCP sockets on ip (a random even port and the next one).
func newMediaSession(ip netip.Addr, log *slog.Logger) (*mediaSession, error) {
	conn, rtcpConn, err := bindRTPPair(ip)
	if err != nil {
		return nil, fmt.Errorf("softphone: bind RTP socket on %s: %w", ip, err)
	}
	la := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	m := &mediaSession{
		log:       log,
		conn:      conn,
		rtcpConn:  rtcpConn,
		local:     netip.AddrPortFrom(la.Addr().Unmap(), la.Port()),
		rstats:    media.NewRTPStats(8000),
		rtcpEvery: rtcpInterval,
		quit:      make(chan struct{}),
		ssrc:      randUint32(),
		seq:       uint16(randUint32()),
		ts:        randUint32(),
	}
	return m, nil
}

// bindRTPPair binds an even RTP port and the RTCP port after it. An SDP without a=rtcp names port+1
// for RTCP (RFC 3605), which is where a peer that refuses rtcp-mux sends it. If no pair is free after a
// few tries, RTP is bound alone (RTCP then needs rtcp-mux).
func bindRTPPair(ip netip.Addr) (*net.UDPConn, *net.UDPConn, error) {
	for range 32 {
		rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, nil, err
		}
		port := rtp.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 && port < 65535 {
			if rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1)))); err == nil {
				return rtp, rtcp, nil
			}
		}
		rtp.Close()
	}
	rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	return rtp, nil, err
}

func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// isStarted reports whether Start succeeded.
func (m *mediaSession) isStarted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started
}

// LocalAddr is the RTP address put in our SDP.
func (m *mediaSession) LocalAddr() netip.AddrPort { return m.local }

// parseSourceSpec parses a --play value ("" means silence).
func parseSourceSpec(s string) (audio.Spec, error) {
	if strings.TrimSpace(s) == "" {
		return audio.Spec{Kind: audio.SpecSilence}, nil
	}
	if isDevice(s) {
		return parseDeviceSpec(s)
	}
	return audio.ParseSpec(s)
}

// parseSinkSpec parses a --record value: a WAV path, file:PATH, null, device
// or device:NAME ("" means null).
func parseSinkSpec(s string) (audio.Spec, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return audio.Spec{Kind: audio.SpecNull}, nil
	case isDevice(s):
		return parseDeviceSpec(s)
	case strings.HasPrefix(s, "file:") || s == "null":
		return audio.ParseSinkSpec(s)
	}
	return audio.Spec{Kind: audio.SpecFile, Path: s}, nil
}

// Start begins media with the negotiated parameters and the call's audio options.
func (m *mediaSession) Start(neg Negotiated, mo MediaOptions, onDTMF func(string)) error {
	srcSpec, err := parseSourceSpec(mo.Play)
	if err != nil {
		return err
	}
	sinkSpec, err := parseSinkSpec(mo.Record)
	if err != nil {
		return err
	}
	rate := neg.Codec.SampleRate
	src, err := openSource(srcSpec, rate, m.audioBackend)
	if err != nil {
		return fmt.Errorf("audio source %s: %w", srcSpec, err)
	}
	sink, err := openSink(sinkSpec, rate, m.audioBackend)
	if err != nil {
		if c, ok := src.(io.Closer); ok {
			c.Close()
		}
		return fmt.Errorf("audio sink %s: %w", sinkSpec, err)
	}
	m.mu.Lock()
	if m.closed || m.started {
		m.mu.Unlock()
		sink.Close()
		if c, ok := src.(io.Closer); ok {
			c.Close()
		}
		return fmt.Errorf("%w: media already started or closed", ErrCallState)
	}
	m.src, m.sink, m.sinkRate, m.onDTMF = src, sink, rate, onDTMF
	if err := m.applyLocked(neg); err != nil {
		m.mu.Unlock()
		return err
	}
	m.started = true
	m.mu.Unlock()
	m.wg.Add(2)
	go m.readLoop(m.conn, false)
	go m.tickLoop()
	if m.rtcpConn != nil {
		m.wg.Add(1)
		go m.readLoop(m.rtcpConn, true)
	}
	return nil
}

// Update applies a renegotiation (hold, resume, new address or keys).
func (m *mediaSession) Update(neg Negotiated) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	if !m.started {
		m.neg = neg
		return nil
	}
	return m.applyLocked(neg)
}

func (m *mediaSession) applyLocked(neg Negotiated) error {
	old := m.neg
	if neg.SRTP {
		if m.enc == nil || !sameKey(old.TxKey, neg.TxKey) {
			enc, err := media.NewEncryptor(neg.TxKey)
			if err != nil {
				return fmt.Errorf("SRTP encryptor: %w", err)
			}
			m.enc = enc
		}
		if m.dec == nil || !sameKey(old.RxKey, neg.RxKey) {
			dec, err := media.NewDecryptor(neg.RxKey)
			if err != nil {
				return fmt.Errorf("SRTP decryptor: %w", err)
			}
			m.dec = dec
		}
	} else {
		m.enc, m.dec = nil, nil
	}
	var err error
	if m.encoder == nil || old.Codec.Name != neg.Codec.Name {
		if m.encoder, err = codec.New(neg.Codec.Name); err != nil {
			return err
		}
		if m.decoder, err = codec.New(neg.Codec.Name); err != nil {
			return err
		}
		m.rstats.SetClockRate(uint32(neg.Codec.ClockRate))
		if err := m.adaptRatesLocked(neg.Codec.SampleRate); err != nil {
			return err
		}
		if m.playout, err = newPlayout(neg.Codec); err != nil {
			return err
		}
	}
	if m.dtmfTx == nil {
		q, err := newDTMFQueue()
		if err != nil {
			return err
		}
		m.dtmfTx, m.dtmfRx = q, dtmf.NewReceiver()
	}
	m.remote, m.remoteRTCP = neg.Remote, neg.RemoteRTCP
	if neg.RTCPMux {
		m.remoteRTCP = neg.Remote
	}
	m.neg = neg
	return nil
}

// adaptRatesLocked keeps the audio source and sink (opened at the first
// codec's rate) working after a re-INVITE changed the codec's sample rate.
func (m *mediaSession) adaptRatesLocked(rate int) error {
	if m.src != nil && m.src.SampleRate() != rate {
		src, err := audio.ResampleSource(m.src, rate)
		if err != nil {
			return err
		}
		m.src = src
	}
	m.sinkRS = nil
	if m.sink != nil && m.sinkRate != rate {
		rs, err := audio.NewResampler(rate, m.sinkRate)
		if err != nil {
			return err
		}
		m.sinkRS = rs
	}
	return nil
}

func sameKey(a, b media.CryptoAttr) bool {
	return a.Suite == b.Suite && string(a.Key) == string(b.Key) && string(a.Salt) == string(b.Salt)
}

// SetMute replaces our audio with silence (RTP keeps flowing).
func (m *mediaSession) SetMute(on bool) {
	m.mu.Lock()
	m.muted = on
	m.mu.Unlock()
}

// SendDTMF queues digits to send as RFC 4733 events.
func (m *mediaSession) SendDTMF(digits string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started || m.dtmfTx == nil {
		return fmt.Errorf("%w: media not started", ErrCallState)
	}
	if !m.neg.DTMF {
		return errNoTelephoneEvent
	}
	return m.dtmfTx.queue(digits)
}

var errNoTelephoneEvent = errors.New("the peer did not accept telephone-event")

// Stats returns current statistics.
func (m *mediaSession) Stats() CallStats {
	snap := m.rstats.Snapshot()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := CallStats{
		PacketsSent:       m.sent,
		PacketsReceived:   snap.Packets,
		PacketsLost:       max(snap.Lost, 0),
		LossPercent:       snap.LossFraction * 100,
		JitterMs:          snap.JitterMs,
		RTTMs:             float64(m.rtt) / float64(time.Millisecond),
		RemoteLossPercent: m.remLoss * 100,
		RemoteJitterMs:    m.remJitter,
		SRTPErrors:        m.srtpErrs,
		StrayPackets:      m.strays,
		Concealed:         m.concealed,
	}
	if snap.Packets > 0 {
		s.MOS = round2(media.EstimateMOS(snap.LossFraction, snap.JitterMs, s.RTTMs, m.neg.Codec.Name))
	}
	s.LossPercent = round2(s.LossPercent)
	s.JitterMs = round2(s.JitterMs)
	s.RTTMs = round2(s.RTTMs)
	return s
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Close stops media, sends an RTCP BYE, flushes the sink and returns the final statistics.
func (m *mediaSession) Close() CallStats {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return m.Stats()
	}
	m.closed = true
	started := m.started
	m.mu.Unlock()
	if started {
		close(m.quit)
		m.sendRTCP(true)
	}
	_ = m.conn.Close()
	if m.rtcpConn != nil {
		_ = m.rtcpConn.Close()
	}
	m.wg.Wait()
	s := m.Stats()
	m.mu.Lock()
	if m.sink != nil {
		_ = m.sink.Close()
	}
	if c, ok := m.src.(io.Closer); ok {
		_ = c.Close()
	}
	m.mu.Unlock()
	return s
}

// tickLoop paces sending and playout at 20 ms and sends RTCP every 5 s.
func (m *mediaSession) tickLoop() {
	defer m.wg.Done()
	t := time.NewTicker(frameDur)
	defer t.Stop()
	lastRTCP := time.Now().Add(-m.rtcpEvery / 2) // the first report after half the interval (RFC 3550 §6.2)
	sc := newSendScratch()
	dec := make([]int16, 0, 640)
	for {
		select {
		case <-m.quit:
			return
		case now := <-t.C:
			m.sendFrame(sc)
			m.playFrame(&dec)
			if now.Sub(lastRTCP) >= m.rtcpEvery {
				lastRTCP = now
				m.sendRTCP(false)
			}
		}
	}
}

// sendScratch holds the sender's reusable buffers (owned by tickLoop).
type sendScratch struct {
	pcm     []int16
	bufs    [][]byte // plain RTP packets of this tick
	payload []int    // payload bytes of each
	out     []byte   // SRTP output
}

func newSendScratch() *sendScratch {
	return &sendScratch{pcm: make([]int16, 0, 960), out: make([]byte, 0, maxPacket)}
}

// packet returns the i-th packet buffer of this tick, allocating it once.
func (sc *sendScratch) packet(i int) []byte {
	for len(sc.bufs) <= i {
		sc.bufs = append(sc.bufs, make([]byte, 0, maxPacket))
		sc.payload = append(sc.payload, 0)
	}
	return sc.bufs[i][:0]
}

// sendFrame sends this tick's RTP: one audio packet, or the DTMF event
// packets due now (audio pauses while a DTMF batch plays). Packets are built
// in reusable buffers; steady-state sending does not allocate.
func (m *mediaSession) sendFrame(sc *sendScratch) {
	m.mu.Lock()
	inc := m.neg.Codec.TimestampIncrement(20)
	if !m.neg.Send || !m.remote.IsValid() || m.remote.Addr().IsUnspecified() {
		// Keep the timestamp running so a resumed stream continues in time.
		m.ts += inc
		m.mu.Unlock()
		return
	}
	n := 0
	build := func(h rtp.Header) []byte {
		h.Version, h.SSRC, h.SequenceNumber = 2, m.ssrc, m.seq
		m.seq++
		buf := sc.packet(n)
		hl := h.MarshalSize()
		buf = buf[:hl]
		if _, err := h.MarshalTo(buf); err != nil {
			return nil
		}
		return buf
	}
	if m.dtmfTx.active() {
		for _, dp := range m.dtmfTx.due(m.ts) {
			buf := build(rtp.Header{Marker: dp.Marker, Timestamp: dp.Timestamp, PayloadType: m.neg.DTMFPT})
			hl := len(buf)
			var err error
			if buf, err = dp.Payload.Marshal(buf); err != nil || hl == 0 {
				continue
			}
			sc.bufs[n], sc.payload[n] = buf, len(buf)-hl
			n++
		}
	} else {
		sc.pcm = sc.pcm[:m.neg.Codec.SamplesPerFrame(20)]
		if err := m.src.ReadFrame(sc.pcm); err != nil || m.muted {
			clear(sc.pcm)
		}
		if buf := build(rtp.Header{Timestamp: m.ts, PayloadType: m.neg.PT}); buf != nil {
			hl := len(buf)
			buf = m.encoder.Encode(buf, sc.pcm)
			sc.bufs[n], sc.payload[n] = buf, len(buf)-hl
			n++
		}
	}
	m.ts += inc
	enc, remote := m.enc, m.remote
	m.mu.Unlock()

	var sent, bytes uint64
	for i := 0; i < n; i++ {
		wire := sc.bufs[i]
		if enc != nil {
			var err error
			if wire, err = enc.EncryptRTP(sc.out[:0], wire); err != nil {
				continue
			}
		}
		if _, err := m.conn.WriteToUDPAddrPort(wire, remote); err == nil {
			sent++
			bytes += uint64(sc.payload[i])
		}
	}
	if sent > 0 {
		m.mu.Lock()
		m.sent += sent
		m.sentBytes += bytes
		m.mu.Unlock()
	}
}

// playFrame writes one 20 ms frame to the sink: decoded audio, concealment, or silence.
func (m *mediaSession) playFrame(dec *[]int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.playout == nil || m.sink == nil {
		return
	}
	frame, status := m.playout.next(m.decoder, dec, time.Now())
	switch status {
	case playNotStarted:
		return
	case playConcealed:
		m.concealed++
	}
	if m.sinkRS != nil {
		m.sinkBuf = m.sinkRS.Process(m.sinkBuf[:0], frame)
		frame = m.sinkBuf
	}
	_ = m.sink.WriteFrame(frame)
}
