package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/edgeapp"
	"github.com/sipedge/sipedge/relay"
)

// ChildEnv names the environment variable that turns the test binary into one of the benchmark's
// helper processes ("relay" or "edge"): the sipedge side runs in its own process, like the anchor,
// so that its CPU time is measured the same way and the load generator does not share its runtime.
const ChildEnv = "SIPEDGE_BENCH_CHILD"

// ProfileEnv names an environment variable: a directory where each child process writes a CPU
// profile of its whole life (MODE-PID.pprof), to find the hot spots of the sipedge side.
const ProfileEnv = "SIPEDGE_BENCH_PROFILE"

// Settings of the child processes, passed in the environment.
const (
	envRelaySRTP  = "SIPEDGE_BENCH_RELAY_SRTP"  // relay.Config.SRTP
	envRelayPorts = "SIPEDGE_BENCH_RELAY_PORTS" // FIRST-LAST
	envEdgeConfig = "SIPEDGE_BENCH_EDGE_CONFIG" // path of the edge's YAML configuration
)

// RunChild runs the helper named by mode until its standard input closes (the parent holds the other
// end, so a child never outlives its benchmark) and returns the exit code. It prints one line
// "READY ..." with its addresses once it serves.
func RunChild(mode string, stdin io.Reader, stdout, stderr io.Writer) int {
	if dir := os.Getenv(ProfileEnv); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", mode, os.Getpid())))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
	}
	var err error
	switch mode {
	case "relay":
		err = runRelayChild(stdin, stdout)
	case "edge":
		err = runEdgeChild(stdin, stdout, stderr)
	default:
		err = fmt.Errorf("%w: unknown child mode %q", ErrProcess, mode)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench child:", err)
		return 1
	}

	return 0
}

func runRelayChild(stdin io.Reader, stdout io.Writer) error {
	lo, hi, err := parseRange(os.Getenv(envRelayPorts))
	if err != nil {
		return err
	}
	ip := netip.MustParseAddr("127.0.0.1")
	r, err := relay.New(relay.Config{AccessIP: ip, CoreIP: ip, PortMin: lo, PortMax: hi,
		SRTP: os.Getenv(envRelaySRTP), Timeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer r.Close()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- ServeNG(conn, r) }()
	fmt.Fprintf(stdout, "READY %s\n", conn.LocalAddr())
	_, _ = io.Copy(io.Discard, stdin)
	_ = conn.Close()

	return <-served
}

func runEdgeChild(stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := config.Load(os.Getenv(envEdgeConfig))
	if err != nil {
		return err
	}
	app, err := edgeapp.New(cfg, io.Discard, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	select {
	case <-app.Proxy.Served():
	case err := <-done:
		cancel()
		return fmt.Errorf("edge stopped at start: %w", err)
	case <-time.After(10 * time.Second):
		cancel()
		return fmt.Errorf("%w: edge did not serve within 10 s", ErrProcess)
	}
	var addrs []string
	for _, s := range app.Access {
		addrs = append(addrs, s.URL())
	}
	fmt.Fprintf(stdout, "READY %s\n", strings.Join(addrs, " "))
	_, _ = io.Copy(io.Discard, stdin)
	cancel()
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		err = fmt.Errorf("%w: edge did not stop within 15 s", ErrProcess)
	}
	if err != nil && ctx.Err() != nil && strings.Contains(err.Error(), "context canceled") {
		err = nil
	}

	return err
}

// startChild starts the test binary itself as a helper process of the given mode with extra
// environment, waits for its READY line and returns it with the line's payload.
func startChild(mode string, env ...string) (*Proc, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), ChildEnv+"="+mode), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	p, err := StartProc("sipedge-"+mode, cmd)
	if err != nil {
		return nil, "", err
	}
	p.stdin = stdin
	ready, err := WaitLine(stdout, "READY", 15*time.Second)
	if err != nil {
		p.Stop(time.Second)
		return nil, "", fmt.Errorf("%w: %s: %v\n%s", ErrProcess, mode, err, p.Output())
	}

	return p, ready, nil
}

func parseRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%w: port range %q is not FIRST-LAST", ErrProcess, s)
	}

	return lo, hi, nil
}
