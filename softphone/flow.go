package softphone

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// flow is the phone's connection to the edge (RFC 5626): a TCP or TLS
// connection the phone dialed, or its UDP socket. Every request leaves on it
// and the edge sends the phone's incoming requests back on it.
type flow struct {
	network string
	conn    *sip.TCPConnection // nil for UDP
	local   netip.AddrPort
	localS  string
	remote  string

	activity chan struct{} // signalled (non-blocking) whenever bytes arrive
	lastRecv atomic.Int64

	// UDP only: the edge's address and STUN keepalive state (keepalive.go).
	raddr    net.Addr
	stunResp chan netip.AddrPort // the mapped address of an answer to stunWant
	stunMu   sync.Mutex
	stunWant stunTxID
	stunOpen bool
	mapped   netip.AddrPort // where the edge sees us (last STUN answer)

	closeOnce sync.Once
}

// expectSTUN records the transaction id of the Binding request about to be sent.
func (f *flow) expectSTUN(id stunTxID) {
	f.stunMu.Lock()
	f.stunWant, f.stunOpen = id, true
	f.stunMu.Unlock()
	select { // drop a stale answer
	case <-f.stunResp:
	default:
	}
}

// stunAnswered passes the answer to the outstanding Binding request to supervise.
func (f *flow) stunAnswered(id stunTxID, mapped netip.AddrPort) {
	f.stunMu.Lock()
	ok := f.stunOpen && id == f.stunWant
	if ok {
		f.stunOpen = false
	}
	f.stunMu.Unlock()
	if ok {
		select {
		case f.stunResp <- mapped:
		default:
		}
	}
}

// setMapped records the mapped address and returns the previous one.
func (f *flow) setMapped(m netip.AddrPort) netip.AddrPort {
	f.stunMu.Lock()
	defer f.stunMu.Unlock()
	prev := f.mapped
	f.mapped = m
	return prev
}

// mappedAddr is where the edge last saw us on a UDP flow (invalid if unknown).
func (f *flow) mappedAddr() netip.AddrPort {
	f.stunMu.Lock()
	defer f.stunMu.Unlock()
	return f.mapped
}

// dialFlow opens a new flow to the edge. For TCP and TLS it opens the
// connection through sipgo's transport layer so sipgo reads and dispatches
// the messages arriving on it; the phone keeps one reference so the
// connection stays open while idle.
func (p *Phone) dialFlow(ctx context.Context) (*flow, error) {
	if p.target.Network == "UDP" {
		la := p.udp.LocalAddr().(*net.UDPAddr).AddrPort()
		la = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
		ra, err := netip.ParseAddrPort(p.dest)
		if err != nil {
			return nil, fmt.Errorf("softphone: edge address %q: %w", p.dest, err)
		}
		return &flow{network: "UDP", local: la, localS: p.udp.LocalAddr().String(), remote: p.dest,
			activity: make(chan struct{}, 1), raddr: net.UDPAddrFromAddrPort(ra), stunResp: make(chan netip.AddrPort, 1)}, nil
	}
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: p.target.Host, Port: p.target.Port})
	req.SetTransport(p.target.Network)
	req.SetDestination(p.dest)
	req.AppendHeader(&sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: p.target.Network, Params: sip.NewParams()})
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := p.ua.TransportLayer().ClientRequestConnection(dctx, req)
	if err != nil {
		var te *TLSError
		if errors.As(err, &te) {
			return nil, te
		}
		return nil, fmt.Errorf("connect to the edge %s://%s: %w", lower(p.target.Network), p.dest, err)
	}
	tc, ok := conn.(*sip.TCPConnection)
	if !ok {
		_, _ = conn.TryClose()
		return nil, fmt.Errorf("softphone: unexpected connection type %T", conn)
	}
	la, err := netip.ParseAddrPort(tc.LocalAddr().String())
	if err != nil {
		_ = tc.Close()
		return nil, fmt.Errorf("softphone: local address: %w", err)
	}
	f := &flow{
		network:  p.target.Network,
		conn:     tc,
		local:    netip.AddrPortFrom(la.Addr().Unmap(), la.Port()),
		localS:   tc.LocalAddr().String(),
		remote:   tc.RemoteAddr().String(),
		activity: make(chan struct{}, 1),
	}
	return f, nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// alive reports whether the connection is still open. sipgo drops the last
// reference (refcount 0) when its reader sees the connection close.
func (f *flow) alive() bool {
	if f.conn == nil {
		return true
	}
	return f.conn.Ref(0) > 0
}

// ping sends an RFC 5626 CRLF keepalive (double CRLF); the edge answers with a single CRLF.
func (f *flow) ping() error {
	if f.conn == nil {
		return nil
	}
	// Drain stale activity so only bytes after this ping count as the pong.
	select {
	case <-f.activity:
	default:
	}
	_, err := f.conn.Write([]byte("\r\n\r\n"))
	return err
}

// close tears the connection down (for a flow found dead by the keepalive).
func (f *flow) close() {
	if f.conn == nil {
		return
	}
	f.closeOnce.Do(func() { _ = f.conn.Close() })
}

// release drops the phone's reference and closes the connection.
func (f *flow) release() { f.close() }

// readFilter sees every read of the transport layer before parsing: it marks
// activity on the current flow (pong detection) and takes STUN answers on UDP
// away from the SIP parser. It never alters SIP data.
func (p *Phone) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	p.mu.Lock()
	f := p.flow
	p.mu.Unlock()
	ours := f != nil && props.LocalAddr != nil && props.LocalAddr.String() == f.localS
	if ours {
		f.lastRecv.Store(time.Now().UnixNano())
		select {
		case f.activity <- struct{}{}:
		default:
		}
	}
	if props.Transport == "UDP" && isSTUN(data) {
		if id, mapped, ok := parseBindingSuccess(data); ok && ours && f.stunResp != nil {
			f.stunAnswered(id, mapped)
		}
		return nil, nil // never SIP; nil data drops it (an error would end sipgo's UDP read loop)
	}
	return data, nil
}

// currentFlow returns the flow requests should use, or ErrNotRegistered.
func (p *Phone) currentFlow() (*flow, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.flow == nil || !p.flow.alive() {
		return nil, ErrNotRegistered
	}
	return p.flow, nil
}

// keepaliveDelay is the next ping delay: 80-100% of the interval (RFC 5626 section 4.4.1).
func keepaliveDelay(interval time.Duration) time.Duration {
	return time.Duration(float64(interval) * (0.8 + 0.2*rand.Float64()))
}

// backoff yields reconnect delays: none for the first retry, then doubling from 500 ms to 30 s.
type backoff struct{ n int }

func (b *backoff) next() time.Duration {
	b.n++
	if b.n == 1 {
		return 0
	}
	d := 500 * time.Millisecond << min(b.n-2, 6)
	return min(d, 30*time.Second)
}

func (b *backoff) reset() { b.n = 0 }

// maintain owns the flow and the registration: connect, register, supervise
// (refresh, keepalive, liveness), and on a broken flow reconnect at once and
// re-register. The first outcome is reported on first; a failed first
// attempt ends maintenance.
func (p *Phone) maintain(first chan<- error) {
	reported := false
	var bo backoff
	for {
		if p.ctx.Err() != nil {
			if !reported {
				first <- p.ctx.Err()
			}
			return
		}
		p.setRegState(RegRegistering, nil)
		f, err := p.dialFlow(p.ctx)
		var expires time.Duration
		if err == nil {
			p.mu.Lock()
			p.flow = f
			p.mu.Unlock()
			expires, err = p.register(p.ctx, f, p.acct.RegisterExpires)
			if err != nil {
				f.release()
			}
		}
		if err != nil {
			p.setRegState(RegFailed, err)
			if !reported {
				first <- err
				reported = true
				if !p.opts.KeepTrying {
					return
				}
			}
			d := bo.next()
			p.log.Warn("registration failed", "error", err, "retry_in", d)
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(d):
			}
			continue
		}
		bo.reset()
		p.setRegState(RegRegistered, nil)
		if !reported {
			first <- nil
			reported = true
		} else {
			// A new flow: tell the peers of our calls where we are now.
			p.refreshCalls()
		}
		broken := p.supervise(f, expires)
		if !broken {
			// Closing: remove the binding on the flow we still have.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = p.register(ctx, f, 0)
			cancel()
			p.setRegState(RegUnregistered, nil)
			f.release()
			return
		}
		f.release()
		p.setRegState(RegReconnecting, errors.New("flow to the edge broke"))
		p.log.Info("flow to the edge broke; reconnecting")
	}
}

// supervise keeps a registered flow alive until it breaks (returns true) or
// the phone closes (returns false).
func (p *Phone) supervise(f *flow, expires time.Duration) bool {
	refresh := time.NewTimer(refreshDelay(expires))
	defer refresh.Stop()
	check := time.NewTicker(200 * time.Millisecond)
	defer check.Stop()
	ka := p.newKeepalive(f)
	defer ka.stop()
	for {
		select {
		case <-p.ctx.Done():
			return false
		case <-check.C:
			if !f.alive() {
				return true
			}
		case <-refresh.C:
			exp, err := p.register(p.ctx, f, p.acct.RegisterExpires)
			switch {
			case err == nil:
				refresh.Reset(refreshDelay(exp))
				p.setRegState(RegRegistered, nil)
			case !f.alive():
				return true
			default:
				p.log.Warn("registration refresh failed", "error", err)
				p.setRegState(RegFailed, err)
				refresh.Reset(5 * time.Second)
			}
		case <-ka.nextC():
			if !ka.ping() {
				f.close()
				return true
			}
		case <-ka.resendC():
			ka.retransmit()
		case <-f.activity:
			ka.streamActivity()
		case m := <-f.stunResp:
			if !ka.stunAnswer(m) {
				return true
			}
		case <-ka.deadlineC():
			if ka.expired() {
				f.close()
				return true
			}
		}
	}
}

// refreshDelay is when to refresh a registration of the given lifetime: at half of it (at least 5 s).
func refreshDelay(expires time.Duration) time.Duration {
	return max(expires/2, 5*time.Second)
}

// UDPMaxMessage is the largest SIP message the phone sends over UDP (an
// INVITE with three crypto lines, Replaces and digest credentials is about
// 1.5 KB). sipgo refuses UDP messages over sip.UDPMTUSize-200 bytes (1300 by
// default), a process-wide setting the engine does not change: a program
// that uses udp:// accounts sets sip.UDPMTUSize = UDPMaxMessage+200 once in
// main, before any sipgo code runs (cmd/phone does). Otherwise such messages
// fail with a 513 Message Too Large StatusError, and a phone on UDP logs a
// warning at start.
const UDPMaxMessage = 4000
