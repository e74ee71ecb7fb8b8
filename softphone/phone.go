package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/internal/buildinfo"
)

// Options are the collaborators of a Phone. The zero value works.
type Options struct {
	// DataDir holds the instance id (default DataDir()).
	DataDir string
	// Logger receives diagnostics (default: discard).
	Logger *slog.Logger
	// Contacts resolves names on dial and on incoming calls (optional).
	Contacts *Contacts
	// History records finished calls (optional).
	History *History
	// QualityInterval is the period of quality events during calls (default 5s).
	QualityInterval time.Duration
	// RegisterTimeout bounds one registration attempt (default 10s).
	RegisterTimeout time.Duration
	// KeepTrying keeps the phone connecting and registering (with backoff)
	// after a failed first registration; Start still reports that failure.
	// The daemon uses it; one-shot commands do not.
	KeepTrying bool
	// PongTimeout is how long to wait for the answer to a keepalive ping (default 10s, RFC 5626).
	PongTimeout time.Duration
	// AudioBackend selects the audio backend of "device" sources and sinks:
	// "" is the system's backends in priority order (PulseAudio, ALSA, JACK,
	// ... on Linux), a name from AudioBackends forces one, and "null" is
	// miniaudio's null backend (silent capture, real-time playback that
	// goes nowhere) for tests and headless machines.
	AudioBackend string
}

// Phone is one registered SIP account with its calls.
type Phone struct {
	acct     Account
	target   Target
	opts     Options
	log      *slog.Logger
	instance string
	localIP  netip.Addr
	dest     string // resolved edge ip:port, destination of every request

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	udp net.PacketConn

	events bus
	// stunAnswered: the edge has answered a STUN keepalive, so an unanswered
	// one means a failed flow; stunSilent: it never did (warned once).
	stunAnswered, stunSilent atomic.Bool
	strays                   strayDialogs // ACKs of ended dialogs, for retransmitted 2xx (fork.go)

	mu         sync.Mutex
	closed     bool
	flow       *flow
	reg        regState
	serviceRts []sip.Uri
	calls      map[string]*Call
	nextCall   int

	ctx    context.Context
	cancel context.CancelFunc
	mwg    sync.WaitGroup // the maintain goroutine
	wg     sync.WaitGroup // other goroutines (UDP server, transfers)
}

// New prepares a phone for an account. It binds nothing on the edge yet; call
// Start to connect and register.
func New(acct Account, opts Options) (*Phone, error) {
	acct.ApplyDefaults()
	if err := acct.Validate(); err != nil {
		return nil, err
	}
	target, err := ParseEdge(acct.Edge)
	if err != nil {
		return nil, fmt.Errorf("%w: edge: %v", ErrConfig, err)
	}
	if err := validAudioBackend(opts.AudioBackend); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.QualityInterval <= 0 {
		opts.QualityInterval = 5 * time.Second
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = DefaultPongTimeout
	}
	if opts.RegisterTimeout <= 0 {
		opts.RegisterTimeout = 10 * time.Second
	}
	if opts.DataDir == "" {
		if opts.DataDir, err = DataDir(); err != nil {
			return nil, err
		}
	}
	instance, err := InstanceID(opts.DataDir, acct.Name)
	if err != nil {
		return nil, err
	}
	p := &Phone{
		acct:     acct,
		target:   target,
		opts:     opts,
		log:      opts.Logger.With("account", acct.Name),
		instance: instance,
		calls:    map[string]*Call{},
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

// Account returns the phone's account (with defaults applied).
func (p *Phone) Account() Account { return p.acct }

// Events subscribes to the event stream. The returned function unsubscribes.
// Events are dropped for a subscriber whose buffer is full.
func (p *Phone) Events(buffer int) (<-chan Event, func()) {
	if buffer <= 0 {
		buffer = 256
	}
	return p.events.subscribe(buffer)
}

func (p *Phone) emit(e Event) {
	e.Account = p.acct.Name
	p.events.publish(e)
}

// Start resolves the edge, connects, and registers, returning the outcome of
// the first registration. On success the phone keeps the registration alive
// (refreshes, keepalives, reconnects) until Close.
func (p *Phone) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if p.ua != nil {
		p.mu.Unlock()
		return errors.New("softphone: already started")
	}
	p.mu.Unlock()
	if err := p.setupUA(ctx); err != nil {
		return err
	}
	first := make(chan error, 1)
	p.mwg.Add(1)
	go func() {
		defer p.mwg.Done()
		p.maintain(first)
	}()
	select {
	case err := <-first:
		if err != nil && !p.opts.KeepTrying {
			p.Close()
		}
		return err
	case <-ctx.Done():
		if !p.opts.KeepTrying {
			p.Close()
		}
		return ctx.Err()
	}
}

func (p *Phone) setupUA(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", p.target.Host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("resolve edge host %q: %w", p.target.Host, err)
	}
	edgeIP := ips[0].Unmap()
	if p.acct.LocalIP != "" {
		p.localIP = netip.MustParseAddr(p.acct.LocalIP).Unmap()
		for _, ip := range ips { // a dual-stack edge: the address of local_ip's family
			if ip.Unmap().Is4() == p.localIP.Is4() {
				edgeIP = ip.Unmap()
				break
			}
		}
		if edgeIP.Is4() != p.localIP.Is4() {
			fam := map[bool]string{true: "IPv4", false: "IPv6"}
			return fmt.Errorf("local_ip %s is %s but the edge %s has no %s address (%v): media could not flow",
				p.localIP, fam[p.localIP.Is4()], p.target.Host, fam[p.localIP.Is4()], ips)
		}
	} else {
		p.localIP, err = routeLocalIP(edgeIP)
		if err != nil {
			return err
		}
	}
	p.dest = netip.AddrPortFrom(edgeIP, uint16(p.target.Port)).String()

	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent("sipedge-phone/" + buildinfo.Version),
		sipgo.WithUserAgentHostname(p.acct.Domain),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(p.log),
			sip.WithTransportLayerReadFilter(p.readFilter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(p.log),
			sip.WithTransactionLayerTerminateOnConnClose(),
			sip.WithTransactionLayerUnhandledResponseHandler(p.unhandledResponse),
		),
	}
	if p.target.Network == "TLS" {
		tc, err := TLSConfig(p.acct, p.target.Host)
		if err != nil {
			return err
		}
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(tc))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return fmt.Errorf("softphone: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		ua.Close()
		return fmt.Errorf("softphone: server: %w", err)
	}
	cliOpts := []sipgo.ClientOption{sipgo.WithClientLogger(p.log), sipgo.WithClientNAT()}
	if p.target.Network == "UDP" {
		pc, err := net.ListenPacket("udp", netip.AddrPortFrom(p.localIP, 0).String())
		if err != nil {
			ua.Close()
			return fmt.Errorf("softphone: bind SIP UDP socket on %s: %w", p.localIP, err)
		}
		p.udp = pc
		cliOpts = append(cliOpts, sipgo.WithClientConnectionAddr(pc.LocalAddr().String()))
		if limit := sip.UDPMTUSize - 200; limit < UDPMaxMessage {
			p.log.Warn("sipgo refuses UDP messages over the process-wide limit; INVITEs with SRTP offers can exceed it (see softphone.UDPMaxMessage)",
				"limit_bytes", limit, "want_bytes", UDPMaxMessage)
		}
	}
	cli, err := sipgo.NewClient(ua, cliOpts...)
	if err != nil {
		ua.Close()
		if p.udp != nil {
			p.udp.Close()
		}
		return fmt.Errorf("softphone: client: %w", err)
	}
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnCancel(p.onCancel)
	srv.OnOptions(p.onOptions)
	srv.OnRefer(p.onRefer)
	srv.OnNotify(p.onNotify)
	srv.OnInfo(p.onInfo)
	srv.OnUpdate(p.onUpdate)
	srv.OnMessage(p.onMessage)

	p.mu.Lock()
	p.ua, p.srv, p.cli = ua, srv, cli
	p.mu.Unlock()
	if p.udp != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			_ = srv.ServeUDP(p.udp)
		}()
		// sipgo registers the listener in its pool from the serving goroutine;
		// wait for it, or the first request would try to bind the port again.
		addr := p.udp.LocalAddr().String()
		for i := 0; ; i++ {
			if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
				c.Ref(-1)
				break
			}
			if i == 200 {
				return fmt.Errorf("softphone: SIP UDP socket %s did not start", addr)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// routeLocalIP returns the local address the system would use to reach dst.
func routeLocalIP(dst netip.Addr) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("softphone: no route to the edge %s: %w", dst, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// Close hangs up every call, unregisters (bounded to a few seconds) and
// releases sockets and goroutines. It is safe to call more than once.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	ua := p.ua
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Hangup(ctx)
		}()
	}
	wg.Wait()
	p.cancel() // stops maintain, which unregisters before returning
	p.mwg.Wait()
	for _, c := range calls {
		c.wait()
	}
	if ua != nil {
		_ = ua.Close()
	}
	if p.udp != nil {
		_ = p.udp.Close()
	}
	p.wg.Wait()
	p.events.closeAll()
	return nil
}

// unhandledResponse sees responses whose client transaction is gone. A 2xx
// to an INVITE is answered: with the ACK again when it is a retransmission for
// a call we have (or had), else with ACK and BYE (a fork answered after the
// INVITE transaction ended, RFC 3261 section 13.2.2.4).
func (p *Phone) unhandledResponse(res *sip.Response) {
	if res.IsSuccess() && res.CSeq() != nil && res.CSeq().MethodName == sip.INVITE {
		if c := p.callByResponse(res); c != nil {
			c.resendAck()
			return
		}
		p.goBackground(func() { p.dropDialog(res) })
		return
	}
	p.log.Debug("unhandled response", "status", res.StatusCode)
}

func (p *Phone) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	_ = tx.Respond(res)
}

func (p *Phone) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

const allowHeader = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE, MESSAGE"
