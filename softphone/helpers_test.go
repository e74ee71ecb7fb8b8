package softphone

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

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
