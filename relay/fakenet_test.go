package relay

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// fakeNet is an in-memory UDP network built on channels, so that tests can run the
// relay inside a testing/synctest bubble (real sockets are not durably blocking).
type fakeNet struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*fakeConn
}

type fakeDatagram struct {
	b   []byte
	src netip.AddrPort
}

func newFakeNet() *fakeNet { return &fakeNet{conns: map[netip.AddrPort]*fakeConn{}} }

func (n *fakeNet) listen(ip netip.Addr, port int) (net.PacketConn, error) {
	ap := netip.AddrPortFrom(ip, uint16(port))
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.conns[ap]; ok {
		return nil, fmt.Errorf("fakenet: %s in use", ap)
	}
	c := &fakeConn{n: n, addr: ap, in: make(chan fakeDatagram, 64), done: make(chan struct{})}
	n.conns[ap] = c

	return c, nil
}

type fakeConn struct {
	n      *fakeNet
	addr   netip.AddrPort
	in     chan fakeDatagram
	done   chan struct{}
	closer sync.Once
}

func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), net.UDPAddrFromAddrPort(d.src), nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
}

func (c *fakeConn) WriteTo(b []byte, to net.Addr) (int, error) {
	ap := to.(*net.UDPAddr).AddrPort()
	c.n.mu.Lock()
	dst := c.n.conns[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]
	c.n.mu.Unlock()
	if dst != nil {
		select {
		case dst.in <- fakeDatagram{b: append([]byte(nil), b...), src: c.addr}:
		default: // full: dropped, like UDP
		}
	}

	return len(b), nil
}

func (c *fakeConn) Close() error {
	c.closer.Do(func() {
		close(c.done)
		c.n.mu.Lock()
		delete(c.n.conns, c.addr)
		c.n.mu.Unlock()
	})

	return nil
}

func (c *fakeConn) LocalAddr() net.Addr              { return net.UDPAddrFromAddrPort(c.addr) }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

func netUDP(ap netip.AddrPort) net.Addr { return net.UDPAddrFromAddrPort(ap) }
