// Package edgeapp wires the edge together from its configuration: logging, the security log, metrics,
// TLS, sockets, the admin server and the SIP proxy. cmd/edge only parses flags and signals and calls it.
package edgeapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/admin"
	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/buildinfo"
	"github.com/sipedge/sipedge/logging"
	"github.com/sipedge/sipedge/policy"
	"github.com/sipedge/sipedge/proxy"
	"github.com/sipedge/sipedge/relay"
	"github.com/sipedge/sipedge/secevent"
	"github.com/sipedge/sipedge/tlsutil"
	"github.com/sipedge/sipedge/userdb"
)

// Socket is one opened SIP listening socket: a stream listener (tcp, tls) or a packet conn (udp).
type Socket struct {
	Endpoint config.Endpoint
	Stream   net.Listener   // raw TCP listener; TLS is layered by the proxy after admission checks
	Packet   net.PacketConn // for udp
}

// Addr returns the bound address (useful with port 0).
func (s Socket) Addr() net.Addr {
	if s.Packet != nil {
		return s.Packet.LocalAddr()
	}
	return s.Stream.Addr()
}

// URL returns the bound address as TRANSPORT://IP:PORT.
func (s Socket) URL() string { return s.Endpoint.Transport + "://" + s.Addr().String() }

// Close closes the socket.
func (s Socket) Close() error {
	if s.Packet != nil {
		return s.Packet.Close()
	}
	return s.Stream.Close()
}

// App is a running edge.
type App struct {
	Cfg         *config.Config
	Log         *zap.Logger
	Level       zap.AtomicLevel
	Sec         *secevent.Log
	Registry    *prometheus.Registry
	TLS         *tls.Config // server side: access listeners (and a tls:// core listener)
	CoreTLS     *tls.Config // client side: connections to tls:// PBX targets
	Fingerprint string
	Access      []Socket
	Core        Socket
	Admin       *admin.Server
	Proxy       *proxy.Proxy
	Policy      *policy.Policy
	Relay       *relay.Relay
	Users       *userdb.DB

	adminLn net.Listener
	geoPath string
	out     io.Writer
	closers []func() error
	mu      sync.Mutex
}

// New builds the edge from cfg (already defaulted and validated): it creates the data dir, opens the logs,
// loads or generates the certificate and binds every socket. Nothing is served until Run.
func New(cfg *config.Config, stdout, logOut io.Writer) (a *App, err error) {
	a = &App{Cfg: cfg, out: stdout}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	a.Log, a.Level, err = logging.New(logOut, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return nil, err
	}
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bi := buildinfo.Get()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sipedge_build_info",
		Help: "Build of the running edge (always 1)."}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	a.Registry.MustRegister(build)

	a.Sec, err = secevent.Open(cfg.Path(cfg.SecurityLog.File), a.Log.Named("security"), a.Registry)
	if err != nil {
		return nil, fmt.Errorf("security_log.file: %w", err)
	}
	a.closers = append(a.closers, a.Sec.Close)

	if err := a.loadTLS(); err != nil {
		return nil, err
	}
	if err := a.openSockets(); err != nil {
		return nil, err
	}
	a.Admin = admin.New(a.Registry)
	if f := cfg.Admin.TokenFile; f != "" {
		tok, err := os.ReadFile(cfg.Path(f))
		if err != nil {
			return nil, fmt.Errorf("admin.token_file: %w", err)
		}
		a.Admin.SetToken(strings.TrimSpace(string(tok)))
	}
	a.adminLn, err = net.Listen("tcp", cfg.Admin.Listen)
	if err != nil {
		return nil, fmt.Errorf("admin.listen: %w", err)
	}
	if ap, err := netip.ParseAddrPort(a.adminLn.Addr().String()); err == nil && !ap.Addr().IsLoopback() && cfg.Admin.TokenFile == "" {
		a.Log.Warn("the admin server listens beyond loopback without admin.token_file: anyone who reaches it can list and end calls and lift bans",
			zap.String("listen", a.adminLn.Addr().String()))
	}
	a.closers = append(a.closers, a.adminLn.Close)
	if err := a.newProxy(); err != nil {
		return nil, err
	}
	return a, nil
}

var processOnce sync.Once

// SetupProcess makes sipgo's process-wide settings for an edge, once per process; call it at program start
// (cmd/edge's main, test binaries' init), before any sipgo code runs, never while transports may read them:
//   - sipgo's transports created with custom settings log through its default logger: route it to the
//     edge's log format on logOut (at debug level);
//   - sipgo refuses UDP messages over UDPMTUSize-200 bytes (1300) instead of sending them, and an INVITE
//     with SDES crypto lines for a UDP phone exceeds that. Phones on UDP cannot be moved to TCP by the edge,
//     so it sends up to maxMessage bytes over UDP (IP fragmentation), as other SBCs do.
func SetupProcess(cfg *config.Config, logOut io.Writer) {
	processOnce.Do(func() {
		if log, _, err := logging.New(logOut, cfg.Log.Level, cfg.Log.Format); err == nil {
			sip.SetDefaultLogger(proxy.NewSlog(log.Named("sipgo")))
		}
		if need := cfg.Limits.MaxMessageSize + 200; sip.UDPMTUSize < need {
			sip.UDPMTUSize = need
		}
	})
}

// newProxy builds the SIP proxy on the opened sockets.
func (a *App) newProxy() error {
	cfg := a.Cfg
	if cfg.Auth.Mode == "local" || cfg.Standalone() {
		var err error
		if a.Users, err = userdb.Open(cfg.Path(cfg.Auth.UsersFile)); err != nil {
			return fmt.Errorf("auth.users_file: %w", err)
		}
	}
	if err := a.newPolicy(); err != nil {
		return err
	}
	if err := a.newRelay(); err != nil {
		return err
	}
	p, err := proxy.New(proxy.Config{Cfg: cfg, Log: a.Log.Named("sip"), Sec: countryEmitter{a.Sec, a.Policy}, Registerer: a.Registry,
		TLS: a.TLS, CoreTLS: a.CoreTLS, Users: a.Users, Hooks: a.policyHooks(), Media: mediaAdapter{a.Relay}})
	if err != nil {
		return err
	}
	a.Proxy = p
	a.closers = append(a.closers, p.Close)
	a.Admin.AddCheck("sip", p.Ready)
	a.adminAPI()
	return nil
}

func (a *App) loadTLS() error {
	cert, created, err := tlsutil.LoadOrCreate(a.Cfg.TLS.CertFile, a.Cfg.TLS.KeyFile, a.Cfg.DataDir)
	if err != nil {
		return err
	}
	if created {
		a.Log.Info("generated self-signed TLS certificate", zap.String("dir", a.Cfg.DataDir))
	}
	minV, err := tlsutil.MinVersion(a.Cfg.TLS.MinVersion)
	if err != nil {
		return err
	}
	a.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minV}
	if a.Cfg.TLS.ClientCAFile != "" {
		if a.TLS.ClientCAs, err = a.caPool("tls.client_ca_file", a.Cfg.TLS.ClientCAFile); err != nil {
			return err
		}
		a.TLS.ClientAuth = tls.VerifyClientCertIfGiven
	}
	a.Fingerprint = tlsutil.Fingerprint(cert.Certificate[0])
	// Toward tls:// PBX targets the edge is a TLS client that verifies the PBX (pbx.tls).
	pt := a.Cfg.PBX.TLS
	a.CoreTLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: pt.ServerName, InsecureSkipVerify: pt.InsecureSkipVerify}
	if pt.CAFile != "" {
		if a.CoreTLS.RootCAs, err = a.caPool("pbx.tls.ca_file", pt.CAFile); err != nil {
			return err
		}
	}
	if pt.InsecureSkipVerify {
		a.Log.Warn("pbx.tls.insecure_skip_verify: the PBX's certificate is not verified")
	}
	return nil
}

// caPool reads the PEM CA bundle of a config field.
func (a *App) caPool(field, file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(a.Cfg.Path(file))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates in %s", field, file)
	}
	return pool, nil
}

func openSocket(ep config.Endpoint) (Socket, error) {
	s := Socket{Endpoint: ep}
	var err error
	if ep.Transport == "udp" {
		s.Packet, err = net.ListenPacket("udp", ep.Addr())
	} else {
		s.Stream, err = net.Listen("tcp", ep.Addr())
	}
	return s, err
}

func (a *App) openSockets() error {
	for i, u := range a.Cfg.Listen.Access {
		ep, err := config.ParseEndpoint(u, true, "tls", "tcp", "udp")
		if err != nil {
			return fmt.Errorf("listen.access[%d]: %w", i, err)
		}
		s, err := openSocket(ep)
		if err != nil {
			return fmt.Errorf("listen.access[%d]: %w", i, err)
		}
		a.Access = append(a.Access, s)
		a.closers = append(a.closers, s.Close)
	}
	ep, err := config.ParseEndpoint(a.Cfg.Listen.Core, true, "udp", "tcp", "tls")
	if err != nil {
		return fmt.Errorf("listen.core: %w", err)
	}
	if a.Core, err = openSocket(ep); err != nil {
		return fmt.Errorf("listen.core: %w", err)
	}
	a.closers = append(a.closers, a.Core.Close)
	return nil
}

// AdminAddr is the bound admin address.
func (a *App) AdminAddr() string { return a.adminLn.Addr().String() }

// Banner prints what an operator needs at start: version, fingerprint, addresses.
func (a *App) Banner() {
	fmt.Fprintf(a.out, "sipedge edge %s\n", buildinfo.Get())
	fmt.Fprintf(a.out, "TLS certificate fingerprint: %s\n", a.Fingerprint)
	for _, s := range a.Access {
		fmt.Fprintf(a.out, "listening (access): %s\n", s.URL())
	}
	fmt.Fprintf(a.out, "listening (core):   %s\n", a.Core.URL())
	if a.Cfg.Standalone() {
		fmt.Fprintf(a.out, "mode: standalone registrar (no pbx.targets), users in %s\n", a.Cfg.Path(a.Cfg.Auth.UsersFile))
	} else {
		fmt.Fprintf(a.out, "mode: outbound proxy to %v (%s), auth %s\n", a.Cfg.PBX.Targets, a.Cfg.PBX.Mode, a.Cfg.Auth.Mode)
	}
	auth := "no token"
	if a.Cfg.Admin.TokenFile != "" {
		auth = "bearer token"
	}
	fmt.Fprintf(a.out, "admin: http://%s (/healthz /readyz /metrics /calls /flows /bans; %s)\n", a.AdminAddr(), auth)
}

// Run serves until ctx is cancelled, then drains (up to drain_timeout) and shuts down.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- a.Admin.Serve(a.adminLn) }()
	var access []proxy.Socket
	for _, s := range a.Access {
		access = append(access, proxy.Socket{Transport: s.Endpoint.Transport, Stream: s.Stream, Packet: s.Packet})
	}
	core := proxy.Socket{Transport: a.Core.Endpoint.Transport, Stream: a.Core.Stream, Packet: a.Core.Packet}
	if err := a.Proxy.Serve(access, core); err != nil {
		a.Close()
		return err
	}
	pctx, stopPolicy := context.WithCancel(context.Background())
	policyDone := make(chan struct{})
	go func() { defer close(policyDone); a.Policy.Run(pctx, time.Second) }()
	defer func() { stopPolicy(); <-policyDone }()
	a.Log.Info("edge started", zap.String("fingerprint", a.Fingerprint), zap.String("admin", a.AdminAddr()))
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			a.Close()
			return fmt.Errorf("admin server: %w", err)
		}
	}
	a.Log.Info("draining", zap.Duration("timeout", a.Cfg.DrainTimeout.D()))
	dctx, cancel := context.WithTimeout(context.Background(), a.Cfg.DrainTimeout.D())
	defer cancel()
	a.Drain(dctx)
	return a.Close()
}

// Drain stops taking new work and waits (until ctx ends) for calls in progress to end.
func (a *App) Drain(ctx context.Context) {
	a.Admin.SetDraining(true)
	if a.Proxy != nil {
		a.Proxy.Drain(ctx)
	}
}

// Reload applies a new configuration where it can be applied live (log level, security log reopen);
// fields that need a restart are reported in the log.
func (a *App) Reload(cfg *config.Config) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if err := a.Level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		errs = append(errs, err)
	}
	if err := a.Sec.Reopen(); err != nil {
		errs = append(errs, err)
	}
	if err := a.reloadPolicy(cfg); err != nil {
		errs = append(errs, err)
	}
	if a.Users != nil {
		if err := a.Users.Reload(); err != nil {
			errs = append(errs, fmt.Errorf("auth.users_file: %w", err))
		}
	}
	if cfg.DataDir != a.Cfg.DataDir || fmt.Sprint(cfg.Listen) != fmt.Sprint(a.Cfg.Listen) ||
		cfg.Admin != a.Cfg.Admin || cfg.TLS != a.Cfg.TLS || cfg.Store != a.Cfg.Store {
		a.Log.Warn("reload: data_dir, listen, admin, tls and store changes take effect after a restart")
	}
	a.Log.Info("configuration reloaded", zap.String("log_level", cfg.Log.Level))
	return errors.Join(errs...)
}

// Close releases every socket and file. It is safe to call more than once.
func (a *App) Close() error {
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if a.Admin != nil {
		a.Admin.Shutdown(shutdownCtx)
	}
	a.closeAll()
	if a.Log != nil {
		a.Log.Sync()
	}
	return nil
}

func (a *App) closeAll() {
	a.mu.Lock()
	cl := a.closers
	a.closers = nil
	a.mu.Unlock()
	for i := len(cl) - 1; i >= 0; i-- {
		cl[i]()
	}
}

// countryEmitter fills the country of events the proxy emits (the proxy knows no geo database).
type countryEmitter struct {
	sec *secevent.Log
	p   *policy.Policy
}

func (c countryEmitter) Emit(e secevent.Event) error {
	if e.Country == "" && e.SrcIP != "" {
		if ip, err := netip.ParseAddr(e.SrcIP); err == nil {
			e.Country = c.p.Country(ip)
		}
	}
	return c.sec.Emit(e)
}
