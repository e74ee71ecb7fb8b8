package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/softphone/phonetest"
)

func TestMain(m *testing.M) {
	// Process-wide sipgo settings, once, before any test or goroutine runs (main sets the UDP limit; the
	// edges of the end-to-end tests would set theirs on first use).
	if err := phonetest.InitProcess(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/emiago/sipgo/sip.(*TransportTCP).readConnection"))
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
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

// isolate points the XDG directories at temp dirs.
func isolate(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", d+"/config")
	t.Setenv("XDG_DATA_HOME", d+"/data")
	t.Setenv("XDG_RUNTIME_DIR", d+"/run")
	t.Setenv(passwordEnv, "")
	return d
}

func runPhone(t *testing.T, timeout time.Duration, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out, errb syncBuffer
	err := run(ctx, args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestUsage(t *testing.T) {
	isolate(t)
	_, stderr, err := runPhone(t, time.Second)
	if exitCode(err) != 2 || !strings.Contains(stderr, "usage: phone") {
		t.Errorf("no args: err %v, stderr %q", err, stderr)
	}
	if _, _, err := runPhone(t, time.Second, "frobnicate"); exitCode(err) != 2 || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown command: %v", err)
	}
	if _, _, err := runPhone(t, time.Second, "call"); exitCode(err) != 2 {
		t.Errorf("call without destination: %v", err)
	}
	if _, _, err := runPhone(t, time.Second, "register", "--user", "a", "--edge", "ftp://x"); err == nil || !strings.Contains(err.Error(), "edge") {
		t.Errorf("bad edge: %v", err)
	}
	if _, _, err := runPhone(t, time.Second, "call", "bob", "--user", "a", "--audio-backend", "null", "--play", "device:no-such-device"); !errors.Is(err, softphone.ErrDeviceAudio) && !errors.Is(err, softphone.ErrNoAudioDevice) {
		t.Errorf("unknown audio device: %v", err)
	}
	out, _, err := runPhone(t, time.Second, "devices", "--audio-backend", "null", "--json")
	switch {
	case !softphone.AudioDevicesSupported():
		if !errors.Is(err, softphone.ErrDeviceAudio) {
			t.Errorf("devices without cgo: %v", err)
		}
	case err != nil || !strings.Contains(out, `"kind"`):
		t.Errorf("devices on the null backend: %q, %v", out, err)
	}
	if _, _, err := runPhone(t, time.Second, "register", "--edge", "tls://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "user") {
		t.Errorf("missing user: %v", err)
	}
}

func edgeArgs(e *phonetest.Edge, user string) []string {
	return []string{"--edge", "tls://" + e.Addr, "--user", user, "--password", e.Password, "--domain", "127.0.0.1"}
}

func TestRegisterCommand(t *testing.T) {
	isolate(t)
	e := phonetest.Start(t)
	args := append([]string{"register", "--fingerprint", e.Fingerprint(), "--json"}, edgeArgs(e, "alice")...)
	out, _, err := runPhone(t, 20*time.Second, args...)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		OK      bool   `json:"ok"`
		State   string `json:"state"`
		Contact string `json:"contact"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.OK || res.State != "registered" || !strings.Contains(res.Contact, "transport=tls") {
		t.Fatalf("output %q (%v)", out, err)
	}
	// Text output with the CA file; the base64 form of the fingerprint also pins.
	args = append([]string{"register", "--ca-file", e.CAFile}, edgeArgs(e, "alice")...)
	if out, _, err = runPhone(t, 20*time.Second, args...); err != nil || !strings.Contains(out, "registered sip:alice@127.0.0.1") {
		t.Fatalf("text output %q, %v", out, err)
	}
}

func TestRegisterRefusesBadCertificate(t *testing.T) {
	isolate(t)
	e := phonetest.Start(t)
	wrong := "SHA256:" + strings.Repeat("00:", 31) + "00"
	args := append([]string{"register", "--fingerprint", wrong}, edgeArgs(e, "alice")...)
	_, _, err := runPhone(t, 20*time.Second, args...)
	if !errors.Is(err, softphone.ErrFingerprintMismatch) || !strings.Contains(err.Error(), e.Fingerprint()) {
		t.Fatalf("wrong fingerprint: %v", err)
	}
	args = append([]string{"register", "--json"}, edgeArgs(e, "alice")...)
	out, _, err := runPhone(t, 20*time.Second, args...)
	if !errors.Is(err, softphone.ErrUntrustedCertificate) || !strings.Contains(out, `"ok":false`) || !strings.Contains(out, "not trusted") {
		t.Fatalf("untrusted: err %v, out %q", err, out)
	}
}

// TestDaemonKeepsTrying: with the edge down, the daemon still serves its
// socket and reports the failed registration; ctl exits non-zero on errors.
func TestDaemonKeepsTrying(t *testing.T) {
	dir := isolate(t)
	sock := dir + "/run/phone.sock"
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncBuffer
	go func() {
		done <- run(ctx, []string{"daemon", "--socket", sock, "--edge", "tls://127.0.0.1:1", "--user", "alice",
			"--insecure", "--register-timeout", "2s"}, &out, &out)
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	var status string
	for i := 0; i < 100; i++ {
		o, _, err := runPhone(t, 5*time.Second, "ctl", "--socket", sock, "status")
		if err == nil {
			status = o
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(status, `"state":"failed"`) && !strings.Contains(status, `"state":"registering"`) {
		t.Fatalf("status %q\n%s", status, out.String())
	}
	o, _, err := runPhone(t, 5*time.Second, "ctl", "--socket", sock, "hangup", "c7")
	if err == nil || exitCode(err) != 1 || !strings.Contains(o, "no such call") {
		t.Errorf("ctl hangup unknown call: %v %q", err, o)
	}
	if _, _, err := runPhone(t, 5*time.Second, "ctl", "--socket", sock, "dtmf", "c1"); exitCode(err) != 2 {
		t.Errorf("ctl dtmf without digits: %v", err)
	}
	// A second daemon on the same socket is refused.
	_, _, err = runPhone(t, 5*time.Second, "daemon", "--socket", sock, "--user", "bob", "--edge", "tls://127.0.0.1:1", "--insecure")
	if err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Errorf("second daemon: %v", err)
	}
}
