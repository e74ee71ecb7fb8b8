package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// sipgo's UDP listener loop remembers every source address it ever read from, in two maps (its
// connection pool and the loop's own list), until the listener stops. A peer that sends from a new port
// each time (or spoofs sources) would grow them without bound on an internet-facing UDP port. The maps
// are released when the loop ends, so the edge serves a UDP socket in generations: after
// udpSourcesPerGeneration distinct sources the current loop is ended and a fresh one takes over the same
// socket. Nothing is lost:
//   - the next generation is serving (its pool entry for the listener registered) before the old one
//     ends, and it gets the datagram that triggered the switch;
//   - responses use the connection their server transaction captured, which writes to the same socket;
//   - requests toward UDP phones leave from the listener itself (bindUDPListener), not from a per-address
//     pool entry that may have been forgotten.

// udpSourcesPerGeneration bounds the source addresses one generation tracks (a variable for tests).
var udpSourcesPerGeneration = 16384

// errGenerationEnded ends a generation's sipgo read loop quietly (sipgo logs net.ErrClosed at debug level).
var errGenerationEnded = fmt.Errorf("UDP source table reset: %w", net.ErrClosed)

// udpGenerations serves one UDP socket through successive sipgo read loops.
type udpGenerations struct {
	pc      net.PacketConn
	serve   func(net.PacketConn) error // the transport layer's ServeUDP
	onReset func()                     // counts resets (metrics)
	limit   int

	wg      sync.WaitGroup
	mu      sync.Mutex
	lastErr error
}

// run serves pc until it is closed and every generation has returned.
func (g *udpGenerations) run() error {
	g.start(g.newGen(nil, nil))
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastErr
}

func (g *udpGenerations) newGen(first []byte, from net.Addr) *udpGen {
	return &udpGen{PacketConn: g.pc, g: g, seen: make(map[netip.AddrPort]struct{}), first: first, firstFrom: from,
		started: make(chan struct{})}
}

func (g *udpGenerations) start(gen *udpGen) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		err := g.serve(gen)
		gen.startOnce.Do(func() { close(gen.started) }) // never leave the previous generation waiting
		if err != nil && gen.ended {
			return // a reset, not the socket's end
		}
		g.mu.Lock()
		g.lastErr = err
		g.mu.Unlock()
	}()
}

// udpGen is the socket as one generation's read loop sees it. ReadFrom is called by that loop only.
type udpGen struct {
	net.PacketConn
	g         *udpGenerations
	seen      map[netip.AddrPort]struct{}
	first     []byte   // the datagram that ended the previous generation
	firstFrom net.Addr // its source
	startOnce sync.Once
	started   chan struct{} // closed at the first ReadFrom: sipgo has registered this generation
	ended     bool
}

func (w *udpGen) ReadFrom(b []byte) (int, net.Addr, error) {
	w.startOnce.Do(func() { close(w.started) })
	if w.first != nil {
		n, from := copy(b, w.first), w.firstFrom
		w.first, w.firstFrom = nil, nil
		w.note(from)
		return n, from, nil
	}
	n, from, err := w.PacketConn.ReadFrom(b)
	if err != nil {
		return n, from, err
	}
	if !w.note(from) {
		next := w.g.newGen(append([]byte(nil), b[:n]...), from)
		w.g.start(next)
		<-next.started
		w.ended = true
		if w.g.onReset != nil {
			w.g.onReset()
		}
		return 0, nil, errGenerationEnded
	}
	return n, from, nil
}

// note records a source; false means the generation is full and from is new.
func (w *udpGen) note(from net.Addr) bool {
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return true
	}
	k := ua.AddrPort()
	if _, ok := w.seen[k]; ok {
		return true
	}
	if len(w.seen) >= w.g.limit {
		return false
	}
	w.seen[k] = struct{}{}
	return true
}

// Close leaves the socket open: it belongs to the proxy (Proxy.Close closes it), not to a generation.
func (w *udpGen) Close() error { return nil }

// bindUDPListener makes a request toward a UDP flow leave from the access UDP listener (sipgo finds the
// listener by its local address). Without it sipgo looks the phone's address up in its pool, which a
// generation reset empties, and on a miss it would open a new socket whose packets a NAT drops.
func (p *Proxy) bindUDPListener(req *sip.Request, f *Flow) {
	if f.Transport != "UDP" {
		return
	}
	if ap, err := netip.ParseAddrPort(f.Listener); err == nil {
		req.Laddr = sip.Addr{IP: ap.Addr().AsSlice(), Port: int(ap.Port())}
	}
}
