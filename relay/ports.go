package relay

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// pairsIn counts the even RTP ports p in [lo, hi] with p+1 <= hi.
func pairsIn(lo, hi int) int {
	first := lo + lo%2
	if first+1 > hi {
		return 0
	}

	return (hi-first-1)/2 + 1
}

// portPool hands out RTP/RTCP port pairs (even RTP port, RTCP = RTP+1) in FIFO order,
// so that a pair released by one call is reused as late as possible (stray packets for
// the old call do not reach a new one). One pool serves both sides: a pair is bound on
// one address only, which keeps the accounting simple when AccessIP == CoreIP.
type portPool struct {
	mu    sync.Mutex
	queue []int // free RTP ports, ring buffer
	head  int
	n     int // free count
}

func newPortPool(lo, hi int) *portPool {
	total := pairsIn(lo, hi)
	p := &portPool{queue: make([]int, total), n: total}
	first := lo + lo%2
	for i := range p.queue {
		p.queue[i] = first + 2*i
	}

	return p
}

func (p *portPool) get() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return 0, false
	}
	port := p.queue[p.head]
	p.head = (p.head + 1) % len(p.queue)
	p.n--

	return port, true
}

func (p *portPool) put(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue[(p.head+p.n)%len(p.queue)] = port
	p.n++
}

func (p *portPool) free() int {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.n
}

// bindPair takes pairs from the pool until both ports of one bind on ip. Pairs that fail
// to bind (used by another program) go back to the end of the queue.
func (r *Relay) bindPair(ip netip.Addr) (port int, rtpConn, rtcpConn net.PacketConn, err error) {
	tries := len(r.ports.queue)
	var lastErr error
	for range tries {
		p, ok := r.ports.get()
		if !ok {
			break
		}
		a, errA := r.cfg.ListenUDP(ip, p)
		if errA == nil {
			b, errB := r.cfg.ListenUDP(ip, p+1)
			if errB == nil {
				return p, a, b, nil
			}
			_ = a.Close()
			errA = errB
		}
		lastErr = errA
		r.ports.put(p)
	}
	r.met.portExhausted.Inc()
	if lastErr != nil {
		return 0, nil, nil, fmt.Errorf("%w on %s: %w", ErrNoPorts, ip, lastErr)
	}

	return 0, nil, nil, fmt.Errorf("%w on %s", ErrNoPorts, ip)
}

// closeConns closes the sockets and ignores "already closed".
func closeConns(cs ...net.PacketConn) {
	for _, c := range cs {
		if c != nil {
			_ = c.Close() // the port goes back to the pool whatever Close says
		}
	}
}
