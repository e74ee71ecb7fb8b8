package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"time"
)

// LoadSpec is the media load for one relay: the same for the sipedge relay and the anchor.
type LoadSpec struct {
	Mode     string // ModeRTP, ModeRTPtoSRTP or ModeSRTPtoRTP
	Sessions int    // concurrent sessions (calls), one stream each
	// FloodPackets is the number of packets of the throughput phase, spread evenly over the sessions
	// and sent as fast as the relay returns them, with at most Window packets in flight.
	FloodPackets, Window int
	// Paced is the length of the real-time phase: every session sends one packet every 20 ms (the
	// sessions spread over the 20 ms), which gives the latency figures.
	Paced time.Duration
}

// LoadResult is what one relay did with a LoadSpec.
type LoadResult struct {
	FloodSent, FloodRecv int
	FloodWall, FloodCPU  time.Duration
	PacedSent, PacedRecv int
	PacedCPU             time.Duration
	Latencies            []time.Duration // paced phase, per packet
	VerifyFailures       int             // warm-up packets that arrived altered or undecryptable
	Stalls               int             // flood windows refilled after a loss
}

// Add accumulates o into r (several benchmark iterations).
func (r *LoadResult) Add(o LoadResult) {
	r.FloodSent += o.FloodSent
	r.FloodRecv += o.FloodRecv
	r.FloodWall += o.FloodWall
	r.FloodCPU += o.FloodCPU
	r.PacedSent += o.PacedSent
	r.PacedRecv += o.PacedRecv
	r.PacedCPU += o.PacedCPU
	r.Latencies = append(r.Latencies, o.Latencies...)
	r.VerifyFailures += o.VerifyFailures
	r.Stalls += o.Stalls
}

// PacketsPerSecond is the flood-phase throughput (packets forwarded per second).
func (r LoadResult) PacketsPerSecond() float64 {
	if r.FloodWall <= 0 {
		return 0
	}
	return float64(r.FloodRecv) / r.FloodWall.Seconds()
}

// CPUPerPacket is the relay process's CPU time per forwarded packet in the flood phase (ns).
func (r LoadResult) CPUPerPacket() float64 { return perPacket(r.FloodCPU, r.FloodRecv) }

// PacedCPUPerPacket is the relay process's CPU time per forwarded packet at real-time pace (ns).
func (r LoadResult) PacedCPUPerPacket() float64 { return perPacket(r.PacedCPU, r.PacedRecv) }

// Loss is the fraction of packets (both phases) that did not come back.
func (r LoadResult) Loss() float64 {
	sent := r.FloodSent + r.PacedSent
	if sent == 0 {
		return 0
	}
	return float64(sent-r.FloodRecv-r.PacedRecv) / float64(sent)
}

// Percentile returns the p-th percentile (0..100) of the paced-phase latencies.
func (r LoadResult) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))

	return s[i]
}

func perPacket(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / float64(n)
}

const (
	warmupPackets = 3
	ptime         = 20 * time.Millisecond
)

// RunLoad opens spec.Sessions sessions on rt, checks with a few warm-up packets per session that each
// one relays (and that what arrives is the packet sent, or decrypts with the key the relay announced),
// then runs the flood and paced phases and deletes the sessions. run makes call-ids unique.
func RunLoad(rt *RelayUnderTest, spec LoadSpec, run string) (LoadResult, error) {
	var res LoadResult
	phone, err := listenLoopback()
	if err != nil {
		return res, err
	}
	defer phone.Close()
	pbx, err := listenLoopback()
	if err != nil {
		return res, err
	}
	defer pbx.Close()
	perFlood := max(spec.FloodPackets/spec.Sessions, 1)
	perPaced := int(spec.Paced / ptime)
	perSession := warmupPackets + perFlood + perPaced
	ss, err := setupSessions(rt, spec.Mode, spec.Sessions, perSession,
		phone.LocalAddr().(*net.UDPAddr).AddrPort(), pbx.LocalAddr().(*net.UDPAddr).AddrPort(), run)
	defer func() { deleteSessions(rt, ss) }()
	if err != nil {
		return res, err
	}
	send, recvConn := phone, pbx
	if spec.Mode == ModeRTPtoSRTP {
		send, recvConn = pbx, phone
	}
	primed := 0
	for _, s := range ss { // rtp-srtp: the phone speaks first, as phones do
		if s.prime != nil {
			if _, err := phone.WriteToUDPAddrPort(s.prime, s.access); err != nil {
				return res, err
			}
			primed++
		}
	}
	if primed > 0 { // the relay has taken them once they come out on the PBX side
		_ = pbx.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 1500)
		for ; primed > 0; primed-- {
			if _, _, err := pbx.ReadFromUDPAddrPort(b); err != nil {
				break
			}
		}
		_ = pbx.SetReadDeadline(time.Time{})
	}
	rc := newReceiver(recvConn, ss, perSession, spec.Window)
	go rc.run()
	defer func() { _ = recvConn.SetReadDeadline(time.Now()); <-rc.done }()
	buf := make([]byte, 0, 256)

	// Warm-up: every session must relay, unaltered (or decryptable).
	rc.verify.Store(true)
	for range warmupPackets {
		for _, s := range ss {
			if err := rc.sendOne(send, s, buf); err != nil {
				return res, err
			}
		}
	}
	rc.drain(2 * time.Second)
	rc.verify.Store(false)
	if silent := rc.silentSessions(); len(silent) > 0 {
		return res, fmt.Errorf("%w: %s relayed nothing for %d of %d sessions (first: %s)", ErrProcess, rt.Name, len(silent), len(ss), silent[0])
	}
	res.VerifyFailures = int(rc.badPackets.Load())

	// Flood: as fast as the relay forwards, Window packets in flight.
	cpu0, err := rt.Proc.CPUTime()
	if err != nil {
		return res, err
	}
	recv0, sent0 := rc.received.Load(), rc.sent.Load()
	start := time.Now()
	wait := time.NewTimer(time.Hour)
	for k := range perFlood * len(ss) {
		select {
		case <-rc.tokens:
		default:
			wait.Reset(100 * time.Millisecond)
			select {
			case <-rc.tokens:
			case <-wait.C:
				res.Stalls++
				rc.refill()
			}
		}
		if err := rc.sendOne(send, ss[k%len(ss)], buf); err != nil {
			return res, err
		}
	}
	rc.drain(time.Second)
	res.FloodWall = time.Since(start)
	cpu1, err := rt.Proc.CPUTime()
	if err != nil {
		return res, err
	}
	res.FloodCPU = cpu1 - cpu0
	res.FloodSent, res.FloodRecv = int(rc.sent.Load()-sent0), int(rc.received.Load()-recv0)

	// Paced: one packet per session every 20 ms, spread evenly; latency recorded.
	recv0, sent0 = rc.received.Load(), rc.sent.Load()
	rc.latency.Store(true)
	total := perPaced * len(ss)
	start = time.Now()
	for k := 0; k < total; {
		due := min(int(time.Since(start)*time.Duration(len(ss))/ptime), total)
		for ; k < due; k++ {
			if err := rc.sendOne(send, ss[k%len(ss)], buf); err != nil {
				return res, err
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	rc.drain(time.Second)
	rc.latency.Store(false)
	cpu2, err := rt.Proc.CPUTime()
	if err != nil {
		return res, err
	}
	res.PacedCPU = cpu2 - cpu1
	res.PacedSent, res.PacedRecv = int(rc.sent.Load()-sent0), int(rc.received.Load()-recv0)
	_ = recvConn.SetReadDeadline(time.Now())
	<-rc.done
	res.Latencies = rc.lat

	return res, nil
}

// receiver reads what the relay forwards, counts it, returns flood tokens, records latency in the
// paced phase and checks packets in the warm-up.
type receiver struct {
	conn     *net.UDPConn
	ss       []*rtpSession
	base     time.Time
	sentAt   [][]atomic.Int64 // per session, by sequence number: ns since base
	got      []atomic.Int64
	tokens   chan struct{}
	sent     atomic.Int64
	received atomic.Int64
	verify   atomic.Bool
	latency  atomic.Bool

	badPackets atomic.Int64
	lat        []time.Duration // written by run only
	done       chan struct{}
}

func newReceiver(conn *net.UDPConn, ss []*rtpSession, perSession, window int) *receiver {
	rc := &receiver{conn: conn, ss: ss, base: time.Now(), sentAt: make([][]atomic.Int64, len(ss)),
		got: make([]atomic.Int64, len(ss)), tokens: make(chan struct{}, window), done: make(chan struct{})}
	for i := range rc.sentAt {
		rc.sentAt[i] = make([]atomic.Int64, perSession+1)
	}
	rc.refill()

	return rc
}

func (rc *receiver) refill() {
	for {
		select {
		case rc.tokens <- struct{}{}:
		default:
			return
		}
	}
}

// sendOne sends the session's next packet and records when.
func (rc *receiver) sendOne(c *net.UDPConn, s *rtpSession, buf []byte) error {
	pkt, seq := s.next(buf)
	idx := int(s.ssrc - ssrcBase)
	if int(seq) < len(rc.sentAt[idx]) {
		rc.sentAt[idx][seq].Store(int64(time.Since(rc.base)))
	}
	rc.sent.Add(1)
	if _, err := c.WriteToUDPAddrPort(pkt, s.dst); err != nil {
		return fmt.Errorf("send to %s: %w", s.dst, err)
	}

	return nil
}

// drain waits until everything sent came back or nothing arrived for quiet.
func (rc *receiver) drain(quiet time.Duration) {
	last, lastChange := rc.received.Load(), time.Now()
	for rc.received.Load() < rc.sent.Load() && time.Since(lastChange) < quiet {
		time.Sleep(time.Millisecond)
		if n := rc.received.Load(); n != last {
			last, lastChange = n, time.Now()
		}
	}
}

func (rc *receiver) silentSessions() []string {
	var out []string
	for i := range rc.got {
		if rc.got[i].Load() == 0 {
			out = append(out, rc.ss[i].callID)
		}
	}
	return out
}

func (rc *receiver) run() {
	defer close(rc.done)
	buf := make([]byte, 2048)
	plainBuf := make([]byte, 0, 2048)
	want := bytes.Repeat([]byte{0xd5}, rtpPayloadLen)
	for {
		n, _, err := rc.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := int64(time.Since(rc.base))
		pkt := buf[:n]
		if n < 12 {
			rc.badPackets.Add(1)
			continue
		}
		idx := int(uint32(pkt[8])<<24|uint32(pkt[9])<<16|uint32(pkt[10])<<8|uint32(pkt[11])) - ssrcBase
		if idx < 0 || idx >= len(rc.ss) {
			rc.badPackets.Add(1)
			continue
		}
		seq := int(pkt[2])<<8 | int(pkt[3])
		rc.got[idx].Add(1)
		rc.received.Add(1)
		select {
		case rc.tokens <- struct{}{}:
		default:
		}
		if rc.latency.Load() && seq < len(rc.sentAt[idx]) {
			rc.lat = append(rc.lat, time.Duration(now-rc.sentAt[idx][seq].Load()))
		}
		if rc.verify.Load() && !rc.intact(rc.ss[idx], pkt, plainBuf, want) {
			rc.badPackets.Add(1)
		}
	}
}

// intact checks a warm-up packet: the payload the sender put in, decrypted first on rtp-srtp.
func (rc *receiver) intact(s *rtpSession, pkt, plainBuf, want []byte) bool {
	if s.dec != nil {
		var err error
		if pkt, err = s.dec.DecryptRTP(plainBuf[:0], pkt); err != nil {
			return false
		}
	}

	return len(pkt) == 12+rtpPayloadLen && bytes.Equal(pkt[12:], want)
}
