// Package phonetest provides an in-process stand-in for the edge for tests of
// the softphone and its CLI: a TLS registrar with a self-signed certificate
// that challenges REGISTER, records the registrations, can break flows and
// stop answering keepalives.
package phonetest

import (
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"github.com/sipedge/sipedge/tlsutil"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Edge is a minimal in-process TLS registrar standing in for the edge:
// it challenges the first REGISTER of each flow, accepts the second, and can
// break flows or send requests to the phone over its own connection.
type Edge struct {
	t   testing.TB
	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	ln  net.Listener
	// Addr is the TLS listen address (127.0.0.1:port).
	Addr    string
	certDER []byte
	// CAFile is the PEM file of the self-signed certificate.
	CAFile string

	mu     sync.Mutex
	regs   []*sip.Request
	regCh  chan *sip.Request
	conns  []net.Conn
	noPong bool
	// Password is the digest password the edge expects (any user).
	Password string
	// GrantExpires, when positive, is the registration lifetime granted (seconds)
	// instead of the one asked for.
	GrantExpires int

	answers int            // 2xx per INVITE (AnswerInvites)
	early   *earlyMedia    // EarlyMedia
	inDlg   []*sip.Request // ACK and BYE received
	inDlgCh chan struct{}
}

// SelfSigned returns a self-signed ECDSA certificate for 127.0.0.1 (made like the edge's own) and its DER.
func SelfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	certPEM, keyPEM, err := tlsutil.GenerateSelfSigned([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, cert.Certificate[0]
}

// trackingListener records accepted connections so the test can break them.
type trackingListener struct {
	net.Listener
	e *Edge
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.e.mu.Lock()
		l.e.conns = append(l.e.conns, c)
		l.e.mu.Unlock()
	}
	return c, err
}

// Start runs an edge on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Edge {
	t.Helper()
	cert, der := SelfSigned(t)
	caFile := filepath.Join(t.TempDir(), "edge.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &Edge{t: t, certDER: der, CAFile: caFile, regCh: make(chan *sip.Request, 32), Password: "secret",
		inDlgCh: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fake-edge"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log), sip.WithTransportLayerReadFilter(e.filter)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	e.ua = ua
	e.srv, _ = sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	e.cli, _ = sipgo.NewClient(ua, sipgo.WithClientLogger(log))
	e.srv.OnRegister(e.onRegister)
	e.srv.OnInvite(e.onInvite)
	e.srv.OnAck(e.onInDialog)
	e.srv.OnBye(e.onInDialog)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	e.ln = trackingListener{Listener: ln, e: e}
	e.Addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.srv.ServeTLS(e.ln)
	}()
	t.Cleanup(func() {
		_ = e.ln.Close()
		<-done
		e.BreakFlows()
		_ = ua.Close()
	})
	return e
}

// filter swallows CRLF keepalives when noPong is set, so sipgo sends no pong.
func (e *Edge) filter(_ sip.TransportReadProps, data []byte) ([]byte, error) {
	e.mu.Lock()
	drop := e.noPong
	e.mu.Unlock()
	if drop && len(strings.Trim(string(data), "\r\n")) == 0 {
		return nil, nil
	}
	return data, nil
}

// Fingerprint is the SHA-256 fingerprint of the certificate ("SHA256:AB:...").
func (e *Edge) Fingerprint() string { return tlsutil.Fingerprint(e.certDER) }

func (e *Edge) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	if req.GetHeader("Authorization") == nil {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="test", nonce="`+sip.GenerateTagN(12)+`", algorithm=MD5, qop="auth"`))
		_ = tx.Respond(res)
		return
	}
	e.mu.Lock()
	e.regs = append(e.regs, req)
	e.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if c := req.Contact(); c != nil {
		exp := "60"
		if h := req.GetHeader("Expires"); h != nil {
			exp = strings.TrimSpace(h.Value())
		}
		e.mu.Lock()
		if e.GrantExpires > 0 && exp != "0" {
			exp = fmt.Sprint(e.GrantExpires)
		}
		e.mu.Unlock()
		res.AppendHeader(sip.NewHeader("Contact", "<"+c.Address.String()+">;expires="+exp))
	}
	_ = tx.Respond(res)
	select {
	case e.regCh <- req:
	default:
	}
}

// WaitRegister waits for the next accepted REGISTER.
func (e *Edge) WaitRegister(timeout time.Duration) *sip.Request {
	e.t.Helper()
	select {
	case r := <-e.regCh:
		return r
	case <-time.After(timeout):
		e.t.Fatalf("no REGISTER within %v", timeout)
		return nil
	}
}

// BreakFlows closes every connection the edge accepted.
func (e *Edge) BreakFlows() {
	e.mu.Lock()
	conns := e.conns
	e.conns = nil
	e.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// SetNoPong makes the edge ignore CRLF keepalives (no pong), as a dead flow would.
func (e *Edge) SetNoPong(on bool) {
	e.mu.Lock()
	e.noPong = on
	e.mu.Unlock()
}

// Registers returns the accepted REGISTER requests so far.
func (e *Edge) Registers() []*sip.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*sip.Request(nil), e.regs...)
}
