// Package edgetest runs a real edge (edgeapp wiring) and the project's softphone for end-to-end tests of
// the proxy, the relay, the policy and the phone CLI. Set EDGE_TEST_LOG to print the edge's log of a failed
// test, PHONE_TEST_LOG for the phones' debug logs.
package edgetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/edgeapp"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

// init makes the edge's process-wide sipgo settings before any test runs (edgeapp.SetupProcess): test
// binaries that import this package start edges while phones' sipgo goroutines run.
func init() {
	edgeapp.SetupProcess(config.Default(), io.Discard)
}

// SyncBuf is a goroutine-safe log sink.
type SyncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Edge is a running edge (real edgeapp wiring) on loopback ports.
type Edge struct {
	App  *edgeapp.App
	Cfg  *config.Config
	Logs *SyncBuf
	TLS  string // host:port of the TLS access listener
	TCP  string
	UDP  string
	Core string
	// Stop stops the edge and waits for it (also done when the test ends).
	Stop func()
}

// Start runs an edge with ephemeral loopback ports (access on 127.0.0.1, core on 127.0.0.2) and stops it
// when the test ends. mut adjusts the configuration before defaults and validation.
func Start(t *testing.T, mut func(c *config.Config)) *Edge {
	t.Helper()
	c := &config.Config{DataDir: t.TempDir()}
	c.Listen.Access = []string{"tls://127.0.0.1:0", "tcp://127.0.0.1:0", "udp://127.0.0.1:0"}
	c.Listen.Core = "tcp://127.0.0.2:0"
	c.Admin.Listen = "127.0.0.1:0"
	c.Log.Level = "debug"
	c.Log.Format = "json"
	c.PBX.ProbeInterval = config.Duration(time.Second)
	c.PBX.ProbeTimeout = config.Duration(500 * time.Millisecond)
	c.DrainTimeout = config.Duration(time.Second)
	if mut != nil {
		mut(c)
	}
	c.ApplyDefaults()
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("config: %v", errs)
	}
	logs := &SyncBuf{}
	app, err := edgeapp.New(c, &bytes.Buffer{}, logs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	e := &Edge{App: app, Cfg: c, Logs: logs}
	e.Stop = sync.OnceFunc(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			var dump strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Errorf("edge did not stop within 10 s; goroutines:\n%s", dump.String())
		}
	})
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() && os.Getenv("EDGE_TEST_LOG") != "" {
			t.Logf("edge log:\n%s", logs.String())
		}
	})
	for _, s := range app.Access {
		switch s.Endpoint.Transport {
		case "tls":
			e.TLS = s.Addr().String()
		case "tcp":
			e.TCP = s.Addr().String()
		case "udp":
			e.UDP = s.Addr().String()
		}
	}
	e.Core = app.Core.Addr().String()
	// Wait until the proxy serves (Run wires it right after the admin server starts).
	select {
	case <-app.Proxy.Served():
	case <-time.After(5 * time.Second):
		t.Fatal("proxy did not start")
	}
	return e
}

// StartPBX starts Kamailio as the PBX for domain pbx.test with the given users (password "pw-USER").
func StartPBX(t *testing.T, users ...string) *testpeers.Kamailio {
	t.Helper()
	testpeers.Require(t, "kamailio")
	m := map[string]string{}
	for _, u := range users {
		m[u] = "pw-" + u
	}
	return testpeers.StartKamailio(t, testpeers.KamailioOptions{Users: m, Domain: "pbx.test"})
}

// PhoneAccount is an account registering through the edge over TLS, pinned by fingerprint.
func PhoneAccount(e *Edge, user, password, domain string) softphone.Account {
	return softphone.Account{Name: user, Edge: "tls://" + e.TLS, User: user, Password: password, Domain: domain,
		Fingerprint: e.App.Fingerprint, RegisterExpires: 60 * time.Second, LocalIP: "127.0.0.1"}
}

// StartPhone starts a softphone (set PHONE_TEST_LOG for its debug log) and closes it when the test ends.
func StartPhone(t *testing.T, acct softphone.Account) *softphone.Phone {
	t.Helper()
	opts := softphone.Options{DataDir: t.TempDir(), QualityInterval: time.Second}
	if os.Getenv("PHONE_TEST_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := softphone.New(acct, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatalf("start phone %s: %v", acct.User, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// WaitEvent waits for a phone event of type typ (and call id, if not empty).
func WaitEvent(t *testing.T, ch <-chan softphone.Event, typ softphone.EventType, call string, d time.Duration) softphone.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed waiting for %s", typ)
			}
			if e.Type == typ && (call == "" || e.Call == call) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %v", typ, d)
		}
	}
}

// Ctx is a context cancelled after d or when the test ends.
func Ctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
