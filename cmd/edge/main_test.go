package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running edge.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testEnv() (env, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	return env{stdin: strings.NewReader(""), stdout: out, stderr: errb}, out, errb
}

func TestCheckConfigReportsEveryErrorWithPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "edge.yaml")
	os.WriteFile(p, []byte("listen:\n  access: [tls://0.0.0.0:5061, udp://0.0.0.0:70000]\nmedia:\n  srtpp: required\n"), 0o600)
	e, _, errb := testEnv()
	err := run(context.Background(), []string{"check-config", p}, e)
	if err == nil || exitCode(err) == 0 {
		t.Fatal("check-config accepted a bad file")
	}
	got := errb.String()
	for _, want := range []string{"listen.access[1] (line 2)", "70000", "media.srtpp (line 4): unknown field", "2 error(s)"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// A good file passes.
	os.WriteFile(p, []byte(config.DefaultYAML()), 0o600)
	e, out, _ := testEnv()
	if err := run(context.Background(), []string{"check-config", p}, e); err != nil || !strings.Contains(out.String(), "ok") {
		t.Fatalf("default config rejected: %v %s", err, out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	e, _, _ := testEnv()
	for _, args := range [][]string{{"frobnicate"}, {"check-config"}, {"config", "nope"}, {"--bogus"}, {"user", "add"}} {
		if err := run(context.Background(), args, e); err == nil || exitCode(err) != 2 {
			t.Errorf("%v: err=%v code=%d", args, err, exitCode(err))
		}
	}
}

func TestConfigDefaultAndVersion(t *testing.T) {
	e, out, _ := testEnv()
	if err := run(context.Background(), []string{"config", "default"}, e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# Lowest TLS version accepted") || !strings.Contains(out.String(), "port_range: \"20000-29999\"") {
		t.Fatalf("default config output:\n%s", out.String())
	}
	e, out, _ = testEnv()
	if err := run(context.Background(), []string{"version"}, e); err != nil || !strings.HasPrefix(out.String(), "sipedge edge ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

// TestServeDefaultsLikeMakeRun starts the edge on defaults with loopback ports: it must print the
// fingerprint and addresses, answer /healthz, reuse its certificate across restarts and drain on cancel.
func TestServeDefaultsLikeMakeRun(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "edge.yaml")
	os.WriteFile(cfgFile, []byte(`data_dir: `+filepath.Join(dir, "data")+`
listen:
  access: [tls://127.0.0.1:0, tcp://127.0.0.1:0, udp://127.0.0.1:0]
  core: tcp://127.0.0.1:0
admin:
  listen: 127.0.0.1:0
drain_timeout: 1s
`), 0o600)
	fp1, _ := startAndProbe(t, cfgFile)
	fp2, out := startAndProbe(t, cfgFile)
	if fp1 != fp2 {
		t.Fatalf("certificate not reused: %s then %s", fp1, fp2)
	}
	if !regexp.MustCompile(`listening \(access\): tls://127\.0\.0\.1:\d+`).MatchString(out) {
		t.Fatalf("no TLS address in banner:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "security.log")); err != nil {
		t.Fatalf("security log not created: %v", err)
	}
}

func startAndProbe(t *testing.T, cfgFile string) (fingerprint, banner string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e, out, errb := testEnv()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--config", cfgFile}, e) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v\n%s", err, errb.String())
			}
		case <-time.After(5 * time.Second):
			t.Error("edge did not stop within 5s of cancel")
		}
	}()
	adminRe := regexp.MustCompile(`admin: http://(\S+) `)
	fpRe := regexp.MustCompile(`TLS certificate fingerprint: (SHA256:[0-9A-F:]{95})`)
	deadline := time.Now().Add(5 * time.Second)
	for !adminRe.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s := out.String()
	admin := adminRe.FindStringSubmatch(s)[1]
	fp := fpRe.FindStringSubmatch(s)
	if fp == nil {
		t.Fatalf("no fingerprint:\n%s", s)
	}
	resp, err := http.Get("http://" + admin + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "sipedge_build_info{") {
		t.Fatal("metrics lack sipedge_build_info")
	}
	http.DefaultClient.CloseIdleConnections()
	return fp[1], s
}
