package softphone

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone/phonetest"
)

// edgeAccount returns an account for the test edge, pinned by fingerprint.
func edgeAccount(e *phonetest.Edge, user string) Account {
	return Account{Name: user, Edge: "tls://" + e.Addr, User: user, Password: e.Password, Domain: "127.0.0.1",
		Fingerprint: e.Fingerprint(), RegisterExpires: 60 * time.Second}
}

func startPhone(t testing.TB, acct Account, opts Options) *Phone {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if os.Getenv("PHONE_TEST_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := New(acct, opts)
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

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendRaw(t testing.TB, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

// autoPhone starts an auto-answering phone of user registered at Kamailio on transport.
func autoPhone(t testing.TB, k *testpeers.Kamailio, transport, user string) *Phone {
	t.Helper()
	acct := kamailioAccount(k, transport, user)
	acct.AutoAnswer = true
	return startPhone(t, acct, Options{})
}

// subscribe returns the phone's event stream until the test ends.
func subscribe(t testing.TB, p *Phone) <-chan Event {
	ch, stop := p.Events(64)
	t.Cleanup(stop)
	return ch
}

// testCtx is a context cancelled after d or when the test ends.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// dialAnswered places a call and waits until it is answered.
func dialAnswered(t testing.TB, ctx context.Context, p *Phone, dest string, opts DialOptions) *Call {
	t.Helper()
	c, err := p.Dial(ctx, dest, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitAnswered(ctx); err != nil {
		t.Fatalf("call to %s: %v", dest, err)
	}
	return c
}
