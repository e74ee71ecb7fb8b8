package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/proxy/auth"
	"github.com/sipedge/sipedge/proxy/health"
	"github.com/sipedge/sipedge/proxy/registrar"
	"github.com/sipedge/sipedge/proxy/sipcheck"
	"github.com/sipedge/sipedge/secevent"
	"github.com/sipedge/sipedge/userdb"
)

// Socket is one bound listening socket handed to the proxy: Stream for tcp/tls, Packet for udp.
type Socket struct {
	Transport string // "tls", "tcp" or "udp"
	Stream    net.Listener
	Packet    net.PacketConn
}

// Config wires the proxy. Cfg must be defaulted and validated.
type Config struct {
	Cfg        *config.Config
	Log        *zap.Logger
	Sec        secevent.Emitter
	Registerer prometheus.Registerer
	TLS        *tls.Config // server config of the access TLS listeners (and of a tls:// core listener)
	CoreTLS    *tls.Config // client config toward tls:// PBX targets (verification of the PBX)
	Users      *userdb.DB  // users file (local auth, standalone registrar); may be nil in passthrough mode
	Hooks      Hooks       // policy plugs in here; nil funcs are no-ops
	Media      Media       // media anchoring (the relay); nil: SDP passes unchanged
	Now        func() time.Time
}

// Hooks let the policy and media layers take part in the request chain without the proxy importing
// them. Every hook is optional.
type Hooks struct {
	// Admit is asked before anything from an access-side source is read (new connection, UDP datagram).
	// Returning false drops it: this is where bans apply.
	Admit func(ip netip.Addr) bool
	// Connection is asked for every new TCP/TLS connection after Admit (new-connection rate limits).
	Connection func(ip netip.Addr) bool
	// Screen sees every access-side request after validation (flood and scanner checks). A *Rejection
	// answers the request (UDP requests may be dropped by returning Drop).
	Screen func(ctx context.Context, r *Request) *Rejection
	// Authorize sees every out-of-dialog access-side request other than REGISTER after the caller's
	// identity is known (RBAC, destinations, fraud limits).
	Authorize func(ctx context.Context, r *Request) *Rejection
	// Register sees every REGISTER from a phone before it is authenticated or forwarded (geo rules for
	// registrations).
	Register func(ctx context.Context, r *Request) *Rejection
	// AuthResult is told every authentication outcome (failed and successful).
	AuthResult func(e AuthEvent)
	// CallStarted and CallEnded follow answered calls (INVITE dialogs): concurrent-call and spend limits.
	CallStarted func(c CallInfo)
	CallEnded   func(c CallInfo)
}

// CallInfo describes an answered call for the policy hooks.
type CallInfo struct {
	CallID   string
	Session  string // media session (unique per dialog pass)
	Caller   string // user of the caller's access flow ("" when the caller is on the core side)
	Callee   string // user of the callee's access flow ("" when on the core side)
	Dialled  string // Request-URI user of the INVITE
	Started  time.Time
	EndedWhy string // CallEnded only
}

// Request is what hooks see of a request.
type Request struct {
	SIP       *sip.Request
	SrcIP     netip.Addr
	SrcPort   int
	Transport string
	User      string // authenticated user of the flow ("" before identification)
	FlowID    string
}

// Rejection is a hook's refusal: the status and reason sent, and a detail for logs.
type Rejection struct {
	Status int
	Reason string
	Detail string
	Drop   bool // send nothing (UDP floods)
}

// AuthEvent is one authentication outcome.
type AuthEvent struct {
	OK        bool
	User      string // as claimed
	SrcIP     netip.Addr
	SrcPort   int
	Transport string
	Method    string
	CallID    string
	UserAgent string
	Reason    string // why it failed (logs only)
}

// Proxy is the running SIP proxy.
type Proxy struct {
	cfg   *config.Config
	log   *zap.Logger
	sec   secevent.Emitter
	hooks Hooks
	media Media
	now   func() time.Time
	m     *metrics

	accessTP, coreTP   *sip.TransportLayer
	udpTP              *sip.TransportUDP // the access UDP transport (its source table: udpgen.go)
	accessTxl, coreTxl *sip.TransactionLayer
	coreEP             config.Endpoint // advertised core address (never 0.0.0.0)
	udpConns           map[string]net.PacketConn
	accessAddrs        []netip.AddrPort
	tlsConf            *tls.Config
	served             chan struct{}
	accessParser       *sip.Parser
	accessH, coreH     handler // the request chains, built once
	listeners          []*admitListener
	packetSocks        []net.PacketConn

	flows   *flowTable
	dialogs *dialogTable
	auth    *auth.Server
	reg     *registrar.Registrar
	health  *health.Checker
	targets []health.Target
	users   *userdb.DB

	tlsUsers sync.Map // remote addr -> user named by a verified client certificate
	framers  sync.Map // flow key -> *framer of a stream connection

	draining   bool
	forwarding atomic.Int64 // proxied transactions in progress
	mediaMu    sync.Mutex
	mediaGen   map[string]int // media session -> number of initial offers made (see endFailedOffer)
	mu         sync.Mutex
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	inflight   sync.WaitGroup
	closeOnce  sync.Once
}

// New builds the proxy; nothing is served until Serve.
func New(c Config) (*Proxy, error) {
	if c.Cfg == nil || c.Log == nil {
		return nil, fmt.Errorf("%w: Cfg and Log are required", ErrConfig)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Sec == nil {
		c.Sec = discardEmitter{}
	}
	p := &Proxy{cfg: c.Cfg, log: c.Log, sec: c.Sec, hooks: c.Hooks, media: c.Media, now: c.Now, users: c.Users,
		udpConns: map[string]net.PacketConn{}, mediaGen: map[string]int{}}
	p.tlsConf = c.TLS
	p.accessH, p.coreH = p.accessChain(), p.coreChain()
	p.served = make(chan struct{})
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.flows = newFlowTable(c.Now)
	p.dialogs = newDialogTable()
	var err error
	if p.m, err = newMetrics(c.Registerer, p); err != nil {
		return nil, err
	}
	if c.Cfg.Auth.Mode == "local" {
		if c.Users == nil {
			return nil, fmt.Errorf("%w: auth.mode local needs the users file", ErrConfig)
		}
		p.auth = auth.New(auth.Config{Realm: c.Cfg.Auth.Realm, NonceTTL: c.Cfg.Auth.NonceTTL.D(), Lookup: c.Users.Lookup, Now: c.Now})
	}
	if c.Cfg.Standalone() {
		if p.reg, err = registrar.New(registrar.Config{Now: c.Now}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	for i, t := range c.Cfg.PBX.Targets {
		ep, err := config.ParseEndpoint(t, false, "udp", "tcp", "tls")
		if err != nil {
			return nil, fmt.Errorf("%w: pbx.targets[%d]: %v", ErrConfig, i, err)
		}
		p.targets = append(p.targets, health.Target{Name: ep.Addr(),
			URI: "sip:" + ep.Addr() + ";transport=" + ep.Transport})
	}
	if len(p.targets) > 0 {
		p.health, err = health.New(health.Config{Targets: p.targets, Interval: c.Cfg.PBX.ProbeInterval.D(),
			Timeout: c.Cfg.PBX.ProbeTimeout.D(), Probe: p.probe, Registerer: c.Registerer,
			OnChange: func(t health.Target, up bool) {
				p.log.Warn("PBX target health changed", zap.String("target", t.Name), zap.Bool("healthy", up))
			}})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	slog := NewSlog(p.log.Named("sipgo"))
	// The access side parses strictly (RFC 4475: unquoted display names with commas and the like are
	// refused) and limits message size.
	accessParser := sipcheck.NewParser()
	accessParser.MaxMessageLength = c.Cfg.Limits.MaxMessageSize
	p.accessParser = accessParser
	noDial := func(net.Addr) net.Dialer { // the edge never dials a phone (RFC 5626: 430 instead)
		return net.Dialer{Timeout: time.Millisecond, ControlContext: refuseDial}
	}
	rt := c.Cfg.Limits.ReadTimeout.D()
	p.udpTP = &sip.TransportUDP{}
	p.accessTP = sip.NewTransportLayer(net.DefaultResolver, accessParser, c.TLS,
		sip.WithTransportLayerLogger(slog),
		sip.WithTransportLayerReadFilter(p.accessReadFilter),
		sip.WithTransportLayerTransports(sip.TransportsConfig{
			UDP: p.udpTP,
			TCP: &sip.TransportTCP{ReadTimeout: rt, WriteTimeout: 10 * time.Second, DialerCreate: noDial},
			TLS: &sip.TransportTLS{TransportTCP: &sip.TransportTCP{ReadTimeout: rt, WriteTimeout: 10 * time.Second, DialerCreate: noDial}},
		}))
	coreParser := sip.NewParser()
	coreParser.MaxMessageLength = 65535
	coreTLS := c.CoreTLS
	if coreTLS == nil {
		coreTLS = &tls.Config{MinVersion: tls.VersionTLS12} // system roots, the target's name
	}
	p.coreTP = sip.NewTransportLayer(net.DefaultResolver, coreParser, coreTLS, sip.WithTransportLayerLogger(slog))
	p.accessTxl = sip.NewTransactionLayer(p.accessTP, sip.WithTransactionLayerLogger(slog),
		sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) { p.strayResponse(sideAccess, r) }))
	// A PBX connection that closes (the PBX died after our request was written) fails its pending
	// transactions at once (503, target marked down) instead of after timer F's 32 s.
	p.coreTxl = sip.NewTransactionLayer(p.coreTP, sip.WithTransactionLayerLogger(slog), sip.WithTransactionLayerTerminateOnConnClose(),
		sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) { p.strayResponse(sideCore, r) }))
	p.accessTxl.OnRequest(func(r *sip.Request, tx *sip.ServerTx) { p.onRequest(sideAccess, r, tx) })
	p.coreTxl.OnRequest(func(r *sip.Request, tx *sip.ServerTx) { p.onRequest(sideCore, r, tx) })
	return p, nil
}

func refuseDial(context.Context, string, string, syscall.RawConn) error {
	return ErrFlowGone
}

// Serve starts serving the access sockets and the core socket. It returns at once; Close stops.
func (p *Proxy) Serve(access []Socket, core Socket) error {
	cfg := p.cfg
	var starts []func() func() error // run in order once every address is known (handlers read them)
	for _, s := range access {
		var a net.Addr
		if s.Packet != nil {
			a = s.Packet.LocalAddr()
		} else {
			a = s.Stream.Addr()
		}
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			p.accessAddrs = append(p.accessAddrs, ap)
		}
		switch s.Transport {
		case "udp":
			p.udpConns[s.Packet.LocalAddr().String()] = s.Packet
			p.packetSocks = append(p.packetSocks, s.Packet)
			pc := s.Packet
			g := &udpGenerations{pc: pc, serve: p.accessTP.ServeUDP, onReset: p.m.udpResets.Inc, limit: udpSourcesPerGeneration}
			starts = append(starts, func() func() error { return g.run })
		case "tcp", "tls":
			o := admitOptions{handshake: cfg.Limits.TLSHandshakeTimeout.D(), maxPerIP: cfg.Limits.MaxConnectionsPerIP,
				admit: p.admitConn, onRefuse: p.connRefused}
			tr := strings.ToUpper(s.Transport)
			o.onClose = func(remote string) { p.connClosed(tr, remote) }
			if s.Transport == "tls" {
				if p.tlsConf == nil {
					return fmt.Errorf("%w: tls listener without TLS config", ErrConfig)
				}
				o.tlsConf = p.tlsConf
				o.onTLS = p.tlsAccepted
			}
			stream, tls := s.Stream, s.Transport == "tls"
			starts = append(starts, func() func() error {
				// Created (and registered for Close) before any goroutine runs: a Close right after
				// Serve must find every listener.
				al := newAdmitListener(stream, o)
				p.mu.Lock()
				p.listeners = append(p.listeners, al)
				p.mu.Unlock()
				if tls {
					return func() error { return p.accessTP.ServeTLS(al) }
				}
				return func() error { return p.accessTP.ServeTCP(al) }
			})
		default:
			return fmt.Errorf("%w: access transport %q", ErrConfig, s.Transport)
		}
	}
	ep, err := config.ParseEndpoint(cfg.Listen.Core, true, "udp", "tcp", "tls")
	if err != nil {
		return fmt.Errorf("%w: listen.core: %v", ErrConfig, err)
	}
	if ep.Transport == "tls" && p.tlsConf == nil {
		return fmt.Errorf("%w: tls core listener without TLS config", ErrConfig)
	}
	var port int
	if core.Packet != nil {
		port = core.Packet.LocalAddr().(*net.UDPAddr).Port
		p.packetSocks = append(p.packetSocks, core.Packet)
		starts = append(starts, func() func() error { return func() error { return p.coreTP.ServeUDP(core.Packet) } })
	} else {
		port = core.Stream.Addr().(*net.TCPAddr).Port
		coreTLS := ep.Transport == "tls"
		starts = append(starts, func() func() error {
			o := admitOptions{}
			if coreTLS { // the PBX connects with TLS and is handed the edge's certificate
				sc := p.tlsConf.Clone()
				sc.ClientAuth, sc.ClientCAs = tls.NoClientCert, nil // phones' client CA is not the PBX's
				o.tlsConf, o.handshake = sc, cfg.Limits.TLSHandshakeTimeout.D()
			}
			l := newAdmitListener(core.Stream, o)
			p.mu.Lock()
			p.listeners = append(p.listeners, l)
			p.mu.Unlock()
			if coreTLS {
				return func() error { return p.coreTP.ServeTLS(l) }
			}
			return func() error { return p.coreTP.ServeTCP(l) }
		})
	}
	host := ep.Host
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = cfg.Media.CoreIP
	}
	p.coreEP = config.Endpoint{Transport: ep.Transport, Host: host, Port: port}
	for _, mk := range starts {
		p.goServe(mk())
	}
	if p.health != nil {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.health.Run(p.ctx) }()
	}
	p.wg.Add(1)
	go p.janitor()
	close(p.served)
	return nil
}

// Served is closed once Serve has started every listener.
func (p *Proxy) Served() <-chan struct{} { return p.served }

// admitConn decides on a new access connection before anything is read from it.
func (p *Proxy) admitConn(ip netip.Addr) bool {
	if p.hooks.Admit != nil && !p.hooks.Admit(ip) {
		return false
	}
	return p.hooks.Connection == nil || p.hooks.Connection(ip)
}

func (p *Proxy) goServe(f func() error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := f(); err != nil && p.ctx.Err() == nil {
			p.log.Debug("listener stopped", zap.Error(err))
		}
	}()
}

// janitor sweeps expired flows, registrations and dialogs.
func (p *Proxy) janitor() {
	defer p.wg.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			for _, f := range p.flows.sweep(2 * time.Minute) {
				p.flowGone(f)
			}
			if p.reg != nil {
				p.reg.Sweep()
			}
			p.dialogs.sweep(p.now())
		}
	}
}

// Ready reports whether the proxy can take new calls: not draining and (with PBX targets) at least one
// target healthy. It is the admin /readyz check.
func (p *Proxy) Ready(context.Context) error {
	p.mu.Lock()
	d := p.draining
	p.mu.Unlock()
	if d {
		return fmt.Errorf("draining")
	}
	if p.health != nil {
		if _, ok := p.health.Pick(); !ok {
			return ErrNoTarget
		}
	}
	return nil
}

// Drain stops taking new dialogs and REGISTERs (503) and waits until no call is up or ctx ends.
func (p *Proxy) Drain(ctx context.Context) {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for p.dialogs.calls() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Proxy) isDraining() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.draining
}

// Close stops every listener and goroutine the proxy owns.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		p.mu.Lock()
		ls := p.listeners
		p.mu.Unlock()
		for _, l := range ls {
			l.Close()
		}
		for _, c := range p.packetSocks {
			c.Close()
		}
		p.accessTP.Close()
		p.coreTP.Close()
		p.wg.Wait()
		p.inflight.Wait()
	})
	return nil
}

// CoreAddr is the advertised core-side address (host:port).
func (p *Proxy) CoreAddr() string { return p.coreEP.Addr() }

func hostPort(hp string) (string, int) {
	h, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	port, _ := strconv.Atoi(ps)
	return h, port
}

type discardEmitter struct{}

func (discardEmitter) Emit(secevent.Event) error { return nil }
