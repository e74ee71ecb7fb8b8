// Package testpeers starts real third-party SIP peers (Kamailio as the PBX, baresip as phones) for
// end-to-end tests. Every peer runs on 127.0.0.1 with free ports, keeps its config and log in the test's
// temp dir, runs in its own process group (killed in t.Cleanup, SIGKILLed if the test binary dies) and
// prints its log tail when the test failed.
//
// Tests that need the peers call Require first: it skips the test when a binary is missing, but fails it
// when the CI environment variable is set, so a broken CI install can never pass silently. The binaries
// come from scripts/test-deps.sh.
//
// A typical test:
//
//	testpeers.Require(t, "kamailio", "baresip")
//	pbx := testpeers.StartKamailio(t, testpeers.KamailioOptions{Users: map[string]string{"alice": "a", "bob": "b"}})
//	alice := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: "alice", Password: "a",
//		Domain: pbx.Addr("udp"), ToneHz: 440})
//	bob := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: "bob", Password: "b",
//		Domain: pbx.Addr("tcp"), Transport: "tcp", ToneHz: 1000, AnswerMode: "auto"})
//	alice.WaitEvent(ctx, testpeers.EventRegisterOK)
//	bob.WaitEvent(ctx, testpeers.EventRegisterOK)
//	alice.Dial("sip:bob@" + pbx.Addr("udp"))
//	alice.WaitEvent(ctx, testpeers.EventCallEstablished)
//	...
//	alice.Hangup()
//	bob.WaitEvent(ctx, testpeers.EventCallClosed)
//	rec, _ := bob.Recordings() // rec.Received holds alice's 440 Hz tone
//
// To put the edge between phones and PBX, give the phones Outbound: "sip:127.0.0.1:EDGEPORT;transport=tls"
// and CAFile (the edge's certificate), and give the edge pbx.URI("udp") or pbx.URI("tcp") as its PBX.
package testpeers

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sbinDirs are searched after $PATH: Debian installs kamailio and kamcmd in /usr/sbin, which is not in
// an ordinary user's PATH.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// lookPath finds a binary in $PATH or the sbin directories.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %s: %w", name, strings.Join(sbinDirs, ", "), exec.ErrNotFound)
}

// peerNeeds lists what each peer name needs besides its own binary.
var peerNeeds = map[string]func() error{
	"kamailio": func() error {
		if _, err := lookPath("sqlite3"); err != nil {
			return err
		}
		dir, err := kamailioModuleDir()
		if err != nil {
			return err
		}
		return needFiles(dir, kamailioModules...)
	},
	"baresip": func() error {
		dir, err := baresipModuleDir()
		if err != nil {
			return err
		}
		return needFiles(dir, baresipModules...)
	},
}

func needFiles(dir string, names ...string) error {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("module %s missing in %s", n, dir)
		}
	}
	return nil
}

// Require skips the test when one of the named peers is not installed, or fails it when the environment
// variable CI is set (to anything but "", "0" or "false"). Names are binaries ("kamailio", "baresip",
// "sox", "sipp", ...); "kamailio" and "baresip" also check the modules the harness loads.
func Require(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := lookPath(n); err != nil {
			missing = append(missing, err.Error())
			continue
		}
		if check, ok := peerNeeds[n]; ok {
			if err := check(); err != nil {
				missing = append(missing, err.Error())
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "test peers missing (install them with scripts/test-deps.sh): " + strings.Join(missing, "; ")
	if inCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func inCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

var (
	portsMu sync.Mutex
	// portsUsed holds every port this process handed out, so parallel tests never get the same one.
	portsUsed = map[int]bool{}
)

// FreePort returns a port on 127.0.0.1 that is free for both UDP and TCP and was not returned before by
// this process. Another process can still take it before it is used; the Start functions retry on a
// bind failure.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNoPort, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, uerr := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		_ = l.Close()
		if uerr != nil {
			continue
		}
		_ = u.Close()
		if portsUsed[port] {
			continue
		}
		portsUsed[port] = true
		return port, nil
	}
	return 0, ErrNoPort
}

// shortTempDir makes a directory with a short path (Unix socket paths are limited to 107 bytes, and
// t.TempDir paths contain the test name) that is removed when the test ends.
func shortTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

var errNoModuleDir = errors.New("module directory not found")

// freePortPair returns a port p such that p and p+1 are both free (baresip listens for TLS on its SIP
// port + 1).
func freePortPair() (int, error) {
	for range 50 {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		if p >= 65535 {
			continue
		}
		portsMu.Lock()
		used := portsUsed[p+1]
		portsMu.Unlock()
		if used || !portFree(p+1) {
			continue
		}
		portsMu.Lock()
		portsUsed[p+1] = true
		portsMu.Unlock()
		return p, nil
	}
	return 0, ErrNoPort
}

func portFree(p int) bool {
	addr := fmt.Sprintf("127.0.0.1:%d", p)
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	u, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return false
	}
	_ = u.Close()
	return true
}
