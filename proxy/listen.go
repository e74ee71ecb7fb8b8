package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// admitListener wraps a raw TCP listener of the access side. It applies the admission checks before any
// byte is parsed (the policy's ban check and the per-IP connection cap), performs the TLS handshake with
// its own deadline in a goroutine per connection (a slow client cannot stall other accepts), and reports
// every connection's close so the flow table learns at once that a flow is gone.
type admitListener struct {
	admitOptions
	inner net.Listener

	ready   chan net.Conn
	done    chan struct{}
	stopped chan struct{} // the accept loop ended
	wg      sync.WaitGroup
	mu      sync.Mutex
	perIP   map[netip.Addr]int
	closed  bool
}

// admitOptions configure an admitListener.
type admitOptions struct {
	tlsConf   *tls.Config // nil: plain TCP
	handshake time.Duration
	maxPerIP  int
	admit     func(ip netip.Addr) bool // false: refuse (banned)
	onRefuse  func(ip netip.Addr, reason string)
	onClose   func(remote string)
	onTLS     func(remote string, st tls.ConnectionState)
}

func newAdmitListener(inner net.Listener, o admitOptions) *admitListener {
	a := &admitListener{admitOptions: o, inner: inner, ready: make(chan net.Conn), done: make(chan struct{}), stopped: make(chan struct{}),
		perIP: map[netip.Addr]int{}}
	a.wg.Add(1)
	go a.acceptLoop()
	return a
}

func (l *admitListener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.inner.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) { // EMFILE and the like: back off, keep serving
				select {
				case <-l.done:
				case <-time.After(50 * time.Millisecond):
					continue
				}
			}
			close(l.stopped) // never close ready: handshake goroutines may still deliver
			return
		}
		ip := remoteIP(c.RemoteAddr())
		if l.admit != nil && !l.admit(ip) {
			c.Close()
			l.refuse(ip, "banned")
			continue
		}
		if !l.take(ip) {
			c.Close()
			l.refuse(ip, "too many connections from this address")
			continue
		}
		cc := &countedConn{Conn: c, release: func() { l.release(ip); l.closed1(c.RemoteAddr().String()) }}
		if l.tlsConf == nil {
			if !l.deliver(cc) {
				cc.Close()
			}
			continue
		}
		l.wg.Add(1)
		go l.handshakeAndDeliver(cc)
	}
}

func (l *admitListener) handshakeAndDeliver(c *countedConn) {
	defer l.wg.Done()
	tc := tls.Server(c, l.tlsConf)
	ctx, cancel := context.WithTimeout(context.Background(), l.handshake)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { // also ends the handshake when the listener closes
		c.SetDeadline(time.Now())
	})
	go func() {
		select {
		case <-l.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := tc.HandshakeContext(ctx)
	stop()
	if err != nil {
		l.refuse(remoteIP(c.RemoteAddr()), "TLS handshake failed: "+err.Error())
		tc.Close()
		return
	}
	c.SetDeadline(time.Time{})
	if l.onTLS != nil {
		l.onTLS(c.RemoteAddr().String(), tc.ConnectionState())
	}
	if !l.deliver(tc) {
		tc.Close()
	}
}

func (l *admitListener) deliver(c net.Conn) bool {
	select {
	case l.ready <- c:
		return true
	case <-l.done:
		return false
	case <-l.stopped:
		return false
	}
}

func (l *admitListener) refuse(ip netip.Addr, reason string) {
	if l.onRefuse != nil {
		l.onRefuse(ip, reason)
	}
}

func (l *admitListener) closed1(remote string) {
	if l.onClose != nil {
		l.onClose(remote)
	}
}

func (l *admitListener) take(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxPerIP > 0 && l.perIP[ip] >= l.maxPerIP {
		return false
	}
	l.perIP[ip]++
	return true
}

func (l *admitListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

// Accept returns the next admitted (and, for TLS, handshaken) connection.
func (l *admitListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.stopped:
		return nil, net.ErrClosed
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and waits for pending handshakes to give up.
func (l *admitListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.done)
	err := l.inner.Close()
	l.wg.Wait()
	return err
}

func (l *admitListener) Addr() net.Addr { return l.inner.Addr() }

// countedConn releases its slot exactly once when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func remoteIP(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
