package bench

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TraceEnv names an environment variable: a directory where the sipp PBX writes every SIP message it
// sees (pbx-PORT-messages.log), to check what the proxies forward.
const TraceEnv = "SIPEDGE_BENCH_TRACE"

// SippResult is the outcome of one sipp client run.
type SippResult struct {
	Successful, Failed int
	Retransmissions    int
	Wall               time.Duration // from start to exit of the sipp process
	Errors             string        // the tail of sipp's error log when calls failed
	Output             string        // the tail of what sipp printed
}

// CallsPerSecond is the rate of successful calls.
func (r SippResult) CallsPerSecond() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Successful) / r.Wall.Seconds()
}

// Add accumulates o into r.
func (r *SippResult) Add(o SippResult) {
	r.Successful += o.Successful
	r.Failed += o.Failed
	r.Retransmissions += o.Retransmissions
	r.Wall += o.Wall
}

// sippBase are the options of every sipp run: UDP on one socket, no keyboard, local address on
// loopback, and unexpected messages ignored instead of aborting the call: a proxy with several workers
// (Kamailio) may forward a 180 after the 200 or an ACK after the BYE, which fails no call. A call
// whose expected message never comes still fails (on -recv_timeout or UDP retransmission timeout).
func sippBase(scenario string, port, mediaPort int) []string {
	return []string{"-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "u1", "-nostdin",
		"-mp", strconv.Itoa(mediaPort), "-default_behaviors", "all,-abortunexp"}
}

// StartSippPBX starts a sipp UAS with the pbx.xml scenario on 127.0.0.1:port and waits until it
// answers OPTIONS.
func StartSippPBX(bin, scenarioDir, workDir string, port, mediaPort int) (*Proc, error) {
	args := sippBase(filepath.Join(scenarioDir, "pbx.xml"), port, mediaPort)
	args = append(args, "-trace_err", "-error_file", filepath.Join(workDir, "pbx-errors.log"))
	if dir := os.Getenv(TraceEnv); dir != "" { // every message the PBX sees, for debugging
		args = append(args, "-trace_msg", "-message_file", filepath.Join(dir, fmt.Sprintf("pbx-%d-messages.log", port)))
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = workDir
	p, err := StartProc("sipp-pbx", cmd)
	if err != nil {
		return nil, err
	}
	if err := waitSIP("127.0.0.1:"+strconv.Itoa(port), p, 5*time.Second); err != nil {
		p.Stop(time.Second)
		return nil, err
	}

	return p, nil
}

// RunSippClient runs a sipp client against target with scenario and extra arguments, bounded by
// timeout, and reads its final statistics. A non-zero exit (some calls failed) is not an error; a
// run that produced no statistics is.
func RunSippClient(bin, scenario, workDir, target string, port, mediaPort int, timeout time.Duration, extra ...string) (SippResult, error) {
	stat := filepath.Join(workDir, fmt.Sprintf("client-%d-%d.csv", port, time.Now().UnixNano()))
	args := append([]string{target}, sippBase(scenario, port, mediaPort)...)
	errFile := strings.TrimSuffix(stat, ".csv") + "-errors.log"
	args = append(args, "-trace_stat", "-stf", stat, "-fd", "60", "-trace_err", "-error_file", errFile,
		"-timeout", strconv.Itoa(int(timeout.Seconds()))+"s", "-timeout_error")
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = workDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	p, err := StartProc("sipp-client", cmd)
	if err != nil {
		return SippResult{}, err
	}
	select {
	case <-p.done:
	case <-time.After(timeout + 10*time.Second):
		p.Stop(time.Second)
		return SippResult{}, fmt.Errorf("%w: sipp client did not end within %v", ErrProcess, timeout)
	}
	wall := time.Since(start)
	data, err := os.ReadFile(stat)
	if err != nil {
		return SippResult{}, fmt.Errorf("%w: %v\n%s", ErrSippStats, err, tail(out.String(), 2000))
	}
	res, err := ParseSippStats(data)
	if err != nil {
		return res, fmt.Errorf("%w\n%s", err, tail(out.String(), 2000))
	}
	res.Wall = wall
	res.Output = tail(out.String(), 3000)
	if res.Failed > 0 || res.Successful == 0 {
		if e, err := os.ReadFile(errFile); err == nil {
			res.Errors = tail(string(e), 3000)
		}
	}

	return res, nil
}

// ParseSippStats reads the cumulative counters of the last line of a sipp -trace_stat file.
func ParseSippStats(data []byte) (SippResult, error) {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		return SippResult{}, fmt.Errorf("%w: %d lines", ErrSippStats, len(lines))
	}
	head := strings.Split(strings.TrimSpace(lines[0]), ";")
	last := strings.Split(strings.TrimSpace(lines[len(lines)-1]), ";")
	get := func(name string) (int, error) {
		for i, h := range head {
			if h == name && i < len(last) {
				n, err := strconv.Atoi(strings.TrimSpace(last[i]))
				if err != nil {
					return 0, fmt.Errorf("%w: %s = %q", ErrSippStats, name, last[i])
				}
				return n, nil
			}
		}
		return 0, fmt.Errorf("%w: no column %s", ErrSippStats, name)
	}
	var r SippResult
	var err error
	if r.Successful, err = get("SuccessfulCall(C)"); err != nil {
		return r, err
	}
	if r.Failed, err = get("FailedCall(C)"); err != nil {
		return r, err
	}
	r.Retransmissions, _ = get("Retransmissions(C)")

	return r, nil
}

// waitSIP sends OPTIONS over UDP to addr until any SIP response comes back (a sipp UAS answers 200,
// Kamailio 483 to Max-Forwards 0) or p exits.
func waitSIP(addr string, p *Proc, timeout time.Duration) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for i := 0; time.Now().Before(deadline); i++ {
		if p.Exited() {
			return fmt.Errorf("%w: %s exited:\n%s", ErrProcess, p.Name, tail(p.Output(), 2000))
		}
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKbench%d\r\n"+
			"From: <sip:probe@127.0.0.1>;tag=b%d\r\nTo: <sip:%s>\r\nCall-ID: bench-probe-%d-%s\r\nCSeq: 1 OPTIONS\r\n"+
			"Max-Forwards: 0\r\nContent-Length: 0\r\n\r\n", addr, local, i, i, addr, i, local)
		_, _ = c.Write([]byte(msg))
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) {
			return nil
		}
	}

	return fmt.Errorf("%w: %s at %s did not answer OPTIONS within %v:\n%s", ErrProcess, p.Name, addr, timeout, tail(p.Output(), 2000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
