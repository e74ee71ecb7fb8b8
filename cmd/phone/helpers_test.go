package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/softphone/control"
)

// lab is Kamailio as the PBX (domain pbx.test) with a real edge in front of it, and a data directory.
type lab struct {
	k   *testpeers.Kamailio
	e   *edgetest.Edge
	dir string
}

func startLab(t *testing.T, users ...string) *lab {
	t.Helper()
	dir := isolate(t)
	k := edgetest.StartPBX(t, users...)
	e := edgetest.Start(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	return &lab{k: k, e: e, dir: dir}
}

// account is the account flags of user registering at the edge over TLS (at edge, e.g. l.e.TLS or a
// forwarder in front of it), pinned by the edge's fingerprint.
func (l *lab) account(user, edge string) []string {
	return []string{"--edge", "tls://" + edge, "--fingerprint", l.e.App.Fingerprint, "--user", user,
		"--password", "pw-" + user, "--domain", "pbx.test", "--data-dir", filepath.Join(l.dir, user)}
}

// waitRegistered waits until user has a binding at the PBX.
func (l *lab) waitRegistered(t *testing.T, user string) {
	t.Helper()
	if _, err := l.k.WaitLocations(edgetest.Ctx(t, 10*time.Second), user, 1); err != nil {
		t.Fatalf("%s did not register at the PBX: %v", user, err)
	}
}

func deskPhone(t *testing.T, k *testpeers.Kamailio, user string, tone int, answer string) *testpeers.Baresip {
	return edgetest.DeskPhone(t, k, user, tone, answer)
}

func waitB(t *testing.T, b *testpeers.Baresip, d time.Duration, types ...string) testpeers.Event {
	t.Helper()
	return edgetest.WaitB(t, b, d, types...)
}

// dtmfAt collects n digits baresip reports as received (CALL_DTMF_START).
func dtmfAt(t *testing.T, b *testpeers.Baresip, n int) string {
	t.Helper()
	got := ""
	for len(got) < n {
		got += waitB(t, b, 5*time.Second, testpeers.EventCallDTMFStart).Param
	}
	return got
}

// assertHeard checks the dominant frequency of what baresip received in its last call.
func assertHeard(t *testing.T, b *testpeers.Baresip, hz float64) {
	t.Helper()
	r, err := b.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	testpeers.AssertTone(t, r.Received, hz)
}

// phoneResult is the outcome of a phone command run in the background.
type phoneResult struct {
	out string
	err error
}

// goPhone runs a phone command in the background (e.g. answer, which waits for a call).
func goPhone(t *testing.T, timeout time.Duration, args ...string) <-chan phoneResult {
	ch := make(chan phoneResult, 1)
	go func() {
		out, _, err := runPhone(t, timeout, args...)
		ch <- phoneResult{out, err}
	}()
	return ch
}

// daemon is `phone daemon` run by the test, with a control client subscribed to its events.
type daemon struct {
	t   *testing.T
	cl  *control.Client
	out *syncBuffer
}

func startDaemon(t *testing.T, dir string, account ...string) *daemon {
	t.Helper()
	sock := filepath.Join(dir, "run", "phone.sock")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	d := &daemon{t: t, out: &syncBuffer{}}
	go func() { done <- run(ctx, append([]string{"daemon", "--socket", sock}, account...), d.out, d.out) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	for i := 0; ; i++ {
		c, err := control.Dial(context.Background(), sock)
		if err == nil {
			d.cl = c
			break
		}
		if i > 200 {
			t.Fatalf("daemon socket: %v\n%s", err, d.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { d.cl.Close() })
	d.do(control.Request{Cmd: control.CmdSubscribe})
	return d
}

// try sends a request and returns the response (failed or not).
func (d *daemon) try(req control.Request) control.Response {
	d.t.Helper()
	r, err := d.cl.Do(edgetest.Ctx(d.t, 90*time.Second), req)
	if err != nil {
		d.t.Fatalf("%s: %v", req.Cmd, err)
	}
	return r
}

// do sends a request that must succeed.
func (d *daemon) do(req control.Request) control.Response {
	d.t.Helper()
	r := d.try(req)
	if !r.OK {
		d.t.Fatalf("%s: %s", req.Cmd, r.Error)
	}
	return r
}

// result decodes a response's result into v.
func result(t *testing.T, r control.Response, v any) {
	t.Helper()
	b, _ := json.Marshal(r.Result)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("result %s: %v", b, err)
	}
}

// dial places a call and returns its id.
func (d *daemon) dial(to, play, record string) string {
	d.t.Helper()
	var dr control.DialResult
	result(d.t, d.do(control.Request{Cmd: control.CmdDial, To: to, Play: play, Record: record}), &dr)
	return dr.Call
}

// wait waits for an event of type typ (of call, if not empty).
func (d *daemon) wait(typ softphone.EventType, call string, timeout time.Duration) softphone.Event {
	d.t.Helper()
	return edgetest.WaitEvent(d.t, d.cl.Events(), typ, call, timeout)
}

// stats returns a call's statistics.
func (d *daemon) stats(call string) softphone.CallStats {
	d.t.Helper()
	var s softphone.CallStats
	result(d.t, d.do(control.Request{Cmd: control.CmdStats, Call: call}), &s)
	return s
}

// forwarder is a TCP relay in front of the edge's TLS port (TLS passes through it untouched), so a test
// can break the phone's connection the way a network does.
type forwarder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startForwarder(t *testing.T, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		ln.Close()
		f.Kill()
		f.wg.Wait()
	})
	return f
}

func (f *forwarder) Addr() string { return f.ln.Addr().String() }

func (f *forwarder) accept() {
	defer f.wg.Done()
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", f.target)
		if err != nil {
			in.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, in, out)
		f.mu.Unlock()
		f.wg.Add(2)
		go f.pipe(in, out)
		go f.pipe(out, in)
	}
}

func (f *forwarder) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Kill closes every forwarded connection (both sides) and returns how many pairs there were.
func (f *forwarder) Kill() int {
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns) / 2
}
