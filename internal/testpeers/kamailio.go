package testpeers

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/sipedge/sipedge/tlsutil"
)

//go:embed kamailio.cfg.tmpl
var kamailioCfgText string

var kamailioCfgTmpl = template.Must(template.New("kamailio.cfg").Parse(kamailioCfgText))

// kamailioModules are the modules the config loads (checked by Require).
var kamailioModules = []string{
	"jsonrpcs.so", "kex.so", "corex.so", "tm.so", "tmx.so", "sl.so", "rr.so", "pv.so", "maxfwd.so",
	"usrloc.so", "registrar.so", "textops.so", "siputils.so", "xlog.so", "sanity.so", "db_sqlite.so",
	"auth.so", "auth_db.so", "nathelper.so", "ipops.so", "tls.so",
}

const kamailioStartTimeout = 10 * time.Second

// KamailioOptions configures the test PBX. The zero value is usable: a PBX for domain "127.0.0.1" with
// no users, UDP and TCP on free ports, no TLS.
type KamailioOptions struct {
	// Users maps user name to plain-text password; each becomes a row of the subscriber table.
	Users map[string]string
	// Domain is the SIP domain served and the digest realm offered (the realm is the From domain of the
	// request, so phones should use this domain). Default "127.0.0.1".
	Domain string
	// Aliases are extra host names or host:port values Kamailio treats as itself.
	Aliases []string
	// UDPPort and TCPPort are the listen ports on 127.0.0.1; 0 picks one free port for both.
	UDPPort, TCPPort int
	// TLS adds a TLS listener (TLSPort, 0 = free port) with a self-signed certificate for 127.0.0.1
	// (or TLSCertFile/TLSKeyFile when set); CACertFile returns the certificate for phones to trust.
	TLS                     bool
	TLSPort                 int
	TLSCertFile, TLSKeyFile string
	// PathMode is the registrar path_mode: 1 (the default for 0) stores Path always and echoes it when
	// the REGISTER says "Supported: path"; 2 answers 420 to a Path without "Supported: path".
	PathMode int
	// SkipCallAuth stops Kamailio from challenging out-of-dialog INVITE, MESSAGE, SUBSCRIBE, REFER,
	// NOTIFY and OPTIONS (REGISTER is always authenticated).
	SkipCallAuth bool
	// AuthSecret is the auth module's nonce secret. Two PBXs with the same secret accept each other's
	// nonces, like an HA pair: a REGISTER answered to one challenge is accepted by both (registration
	// fork tests). Empty: Kamailio picks a random secret.
	AuthSecret string
	// DigestQOP offers qop="auth" in digest challenges (auth_challenge flag 1). Kamailio's
	// default offers none, which some clients mishandle: SIPVicious svcrack 0.3.3 then sends qop=auth
	// without cnonce and nc, and Kamailio answers 400 Bad Auth Credentials to every guess.
	DigestQOP bool
	// ChallengeBYE makes Kamailio challenge every BYE (407), as some PBXs do: the sender must send it
	// again with credentials.
	ChallengeBYE bool
	// MinExpires is the smallest registration expiry accepted (seconds); default 10.
	MinExpires int
	// Debug is Kamailio's log level (-5..3, 3 = debug); 0 means the default 2 (info: one line per request
	// and reply the script sees).
	Debug int
	// Children is the number of worker processes per transport; default 2.
	Children int
}

// Kamailio is a running Kamailio PBX. Its methods are safe for concurrent use.
type Kamailio struct {
	opts    KamailioOptions
	dir     string
	dbPath  string
	rpcSock string
	sockDir string
	cfgPath string
	caFile  string
	proc    *process

	mu     sync.Mutex // serializes subscriber table writes; guards rpcSeq
	rpcSeq int
}

// StartKamailio starts Kamailio for the test and stops it in t.Cleanup. It fails the test if Kamailio
// cannot start; call Require(t, "kamailio") first.
func StartKamailio(t testing.TB, opts KamailioOptions) *Kamailio {
	t.Helper()
	k, err := startKamailio(t, opts)
	if err != nil {
		t.Fatalf("start kamailio: %v", err)
	}
	return k
}

func startKamailio(t testing.TB, opts KamailioOptions) (*Kamailio, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	modDir, err := kamailioModuleDir()
	if err != nil {
		return nil, err
	}
	bin, err := lookPath("kamailio")
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	k := &Kamailio{
		dir:     dir,
		dbPath:  filepath.Join(dir, "kamailio.sqlite"),
		sockDir: shortTempDir(t, "kam"),
	}
	k.rpcSock = filepath.Join(k.sockDir, "rpc.sock")
	if err := k.createDB(opts); err != nil {
		return nil, err
	}
	if opts.TLS {
		if err := k.writeTLS(&opts); err != nil {
			return nil, err
		}
	}
	fixedPorts := opts.UDPPort != 0 || opts.TCPPort != 0
	for attempt := 1; ; attempt++ {
		o := opts
		if err := o.pickPorts(); err != nil {
			return nil, err
		}
		k.opts = o
		err := k.launch(bin, modDir, attempt)
		if err == nil {
			break
		}
		if !errors.Is(err, errRetry) || fixedPorts || attempt >= 3 {
			return nil, err
		}
		t.Logf("kamailio: ports taken by another process, retrying (%v)", err)
	}
	t.Cleanup(func() {
		k.Stop()
		if t.Failed() {
			t.Logf("kamailio log (%s):\n%s", k.LogPath(), k.proc.logTail(24000))
		}
	})
	return k, nil
}

func (o *KamailioOptions) setDefaults() error {
	if o.Domain == "" {
		o.Domain = "127.0.0.1"
	}
	if strings.ContainsAny(o.Domain, "\"\\\n\r ;:@<>") {
		return fmt.Errorf("%w: KamailioOptions.Domain %q is not a host name", ErrBadOption, o.Domain)
	}
	for _, a := range o.Aliases {
		if a == "" || strings.ContainsAny(a, "\"\\\n\r ;@<>") {
			return fmt.Errorf("%w: KamailioOptions.Aliases entry %q is not a host[:port]", ErrBadOption, a)
		}
	}
	if o.PathMode == 0 {
		o.PathMode = 1
	} else if o.PathMode < 0 || o.PathMode > 2 {
		return fmt.Errorf("%w: KamailioOptions.PathMode %d (want 1 or 2)", ErrBadOption, o.PathMode)
	}
	if o.MinExpires == 0 {
		o.MinExpires = 10
	}
	if o.Debug == 0 {
		o.Debug = 2
	}
	if o.Debug < -5 || o.Debug > 3 {
		return fmt.Errorf("%w: KamailioOptions.Debug %d (want -5..3)", ErrBadOption, o.Debug)
	}
	if o.Children == 0 {
		o.Children = 2
	}
	if o.Children < 1 || o.Children > 16 {
		return fmt.Errorf("%w: KamailioOptions.Children %d (want 1..16)", ErrBadOption, o.Children)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"UDPPort", o.UDPPort}, {"TCPPort", o.TCPPort}, {"TLSPort", o.TLSPort}} {
		if p.v < 0 || p.v > 65535 {
			return fmt.Errorf("%w: KamailioOptions.%s %d", ErrBadOption, p.name, p.v)
		}
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return fmt.Errorf("%w: KamailioOptions.TLSCertFile and TLSKeyFile must be set together", ErrBadOption)
	}
	if strings.ContainsAny(o.AuthSecret, "\"\\\n\r") {
		return fmt.Errorf("%w: KamailioOptions.AuthSecret must not contain quotes, backslashes or newlines", ErrBadOption)
	}
	for u := range o.Users {
		if err := checkUserName(u); err != nil {
			return err
		}
	}
	return nil
}

// pickPorts fills the zero ports with free ones. UDP and TCP share one number unless set explicitly.
func (o *KamailioOptions) pickPorts() error {
	if o.UDPPort == 0 && o.TCPPort == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		o.UDPPort, o.TCPPort = p, p
	}
	if o.UDPPort == 0 {
		o.UDPPort = o.TCPPort
	}
	if o.TCPPort == 0 {
		o.TCPPort = o.UDPPort
	}
	if o.TLS && o.TLSPort == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		o.TLSPort = p
	}
	return nil
}

type kamailioCfgData struct {
	KamailioOptions
	ModulePath string
	RPCSocket  string
	DBPath     string
	TLSConfig  string
	// DomainAlias is the domain as an alias; empty for an IP address domain, which would make every port
	// of that address "myself" and loop in-dialog requests to phones on the same host.
	DomainAlias string
}

// launch renders the config and starts Kamailio, waiting until it answers RPC.
func (k *Kamailio) launch(bin, modDir string, attempt int) error {
	k.cfgPath = filepath.Join(k.dir, "kamailio.cfg")
	data := kamailioCfgData{
		KamailioOptions: k.opts,
		ModulePath:      modDir,
		RPCSocket:       k.rpcSock,
		DBPath:          k.dbPath,
		TLSConfig:       filepath.Join(k.dir, "tls.cfg"),
	}
	if net.ParseIP(k.opts.Domain) == nil {
		data.DomainAlias = k.opts.Domain
	}
	if !k.opts.TLS {
		data.TLSPort = 0
	}
	var buf bytes.Buffer
	if err := kamailioCfgTmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("render kamailio.cfg: %w", err)
	}
	if err := os.WriteFile(k.cfgPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	_ = os.Remove(k.rpcSock)
	logPath := filepath.Join(k.dir, "kamailio.log")
	if attempt > 1 {
		_ = os.Rename(logPath, filepath.Join(k.dir, fmt.Sprintf("kamailio.attempt%d.log", attempt-1)))
	}
	proc, err := startProcess("kamailio", k.dir, logPath, bin,
		"-f", k.cfgPath, "-DD", "-E", "-m", "32", "-M", "8",
		"-Y", k.sockDir, "-P", filepath.Join(k.sockDir, "kamailio.pid"), "-w", k.dir)
	if err != nil {
		return err
	}
	k.proc = proc
	deadline := time.Now().Add(kamailioStartTimeout)
	for {
		if proc.exited() {
			proc.stop(time.Second) // children left in the process group
			if proc.addrInUse() {
				return fmt.Errorf("%w: %v", errRetry, proc.exitError())
			}
			return fmt.Errorf("%w; log %s:\n%s", proc.exitError(), logPath, proc.logTail(6000))
		}
		if proc.logContains("terminating due to") || proc.logContains("bad config file") {
			proc.stop(time.Second)
			if proc.addrInUse() {
				return fmt.Errorf("%w: %v", errRetry, proc.exitError())
			}
			return fmt.Errorf("kamailio failed to start; log %s:\n%s", logPath, proc.logTail(6000))
		}
		if _, err := k.rpcTimeout("core.version", 300*time.Millisecond); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			proc.stop(time.Second)
			return fmt.Errorf("kamailio: %w after %v; log %s:\n%s", ErrStartTimeout, kamailioStartTimeout,
				logPath, proc.logTail(6000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (k *Kamailio) writeTLS(opts *KamailioOptions) error {
	cert, key := opts.TLSCertFile, opts.TLSKeyFile
	if cert == "" {
		certPEM, keyPEM, err := tlsutil.GenerateSelfSigned([]string{"127.0.0.1", "localhost", opts.Domain}, 24*time.Hour)
		if err != nil {
			return fmt.Errorf("kamailio tls certificate: %w", err)
		}
		cert, key = filepath.Join(k.dir, "tls-cert.pem"), filepath.Join(k.dir, "tls-key.pem")
		if err := os.WriteFile(cert, certPEM, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
			return err
		}
	}
	k.caFile = cert
	cfg := fmt.Sprintf(`[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = %s
private_key = %s

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`, cert, key)
	return os.WriteFile(filepath.Join(k.dir, "tls.cfg"), []byte(cfg), 0o644)
}

// kamailioModuleDir finds the directory holding Kamailio's modules.
func kamailioModuleDir() (string, error) {
	cands, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	sort.Strings(cands)
	cands = append(cands, "/usr/lib/kamailio/modules", "/usr/lib64/kamailio/modules",
		"/usr/local/lib64/kamailio/modules", "/usr/local/lib/kamailio/modules")
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "tm.so")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("kamailio %w (looked in %s)", errNoModuleDir, strings.Join(cands, ", "))
}

// Stop stops Kamailio (SIGTERM, then SIGKILL after 3 s). t.Cleanup calls it; calling it earlier
// simulates a PBX outage.
func (k *Kamailio) Stop() {
	k.proc.stop(3 * time.Second)
}

// Running reports whether the Kamailio process is still alive.
func (k *Kamailio) Running() bool { return !k.proc.exited() }

// Domain returns the SIP domain (and digest realm) Kamailio serves.
func (k *Kamailio) Domain() string { return k.opts.Domain }

// Port returns the listen port for transport "udp", "tcp" or "tls" (0 if not listening on it).
func (k *Kamailio) Port(transport string) int {
	switch strings.ToLower(transport) {
	case "udp":
		return k.opts.UDPPort
	case "tcp":
		return k.opts.TCPPort
	case "tls":
		if k.opts.TLS {
			return k.opts.TLSPort
		}
	}
	return 0
}

// Addr returns "127.0.0.1:PORT" for transport "udp", "tcp" or "tls" ("" if not listening on it).
func (k *Kamailio) Addr(transport string) string {
	p := k.Port(transport)
	if p == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// URI returns Kamailio's SIP URI for a transport, e.g. "sip:127.0.0.1:5060;transport=tcp" ("" if not
// listening on it). Use it as a phone's registrar or outbound proxy, or as the edge's PBX target.
func (k *Kamailio) URI(transport string) string {
	a := k.Addr(transport)
	if a == "" {
		return ""
	}
	return "sip:" + a + ";transport=" + strings.ToLower(transport)
}

// CACertFile returns the PEM certificate of the TLS listener (self-signed, so it is its own CA), or ""
// without TLS.
func (k *Kamailio) CACertFile() string { return k.caFile }

// Dir returns the temp dir with the rendered config, the SQLite database and the log.
func (k *Kamailio) Dir() string { return k.dir }

// LogPath returns the path of Kamailio's log (stderr).
func (k *Kamailio) LogPath() string { return filepath.Join(k.dir, "kamailio.log") }

// ConfigPath returns the path of the rendered kamailio.cfg.
func (k *Kamailio) ConfigPath() string { return k.cfgPath }
