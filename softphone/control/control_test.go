package control

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/softphone/phonetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/emiago/sipgo/sip.(*TransportTCP).readConnection"))
}

func TestRequestValidate(t *testing.T) {
	cases := []struct {
		req  Request
		want error
	}{
		{Request{Cmd: "status"}, nil},
		{Request{Cmd: "dial", To: "bob"}, nil},
		{Request{Cmd: "dial"}, ErrMissingField},
		{Request{Cmd: "hangup"}, ErrMissingField},
		{Request{Cmd: "dtmf", Call: "c1"}, ErrMissingField},
		{Request{Cmd: "dtmf", Call: "c1", Digits: "12"}, nil},
		{Request{Cmd: "transfer", Call: "c1"}, ErrMissingField},
		{Request{Cmd: "transfer", Call: "c1", To: "x", With: "c2"}, ErrBadRequest},
		{Request{Cmd: "transfer", Call: "c1", With: "c2"}, nil},
		{Request{Cmd: "reboot"}, ErrUnknownCommand},
		{Request{}, ErrBadRequest},
	}
	for _, c := range cases {
		err := c.req.Validate()
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%+v: err = %v, want %v", c.req, err, c.want)
		}
	}
}

// startDaemon runs a registered phone at a test edge behind a control server.
func startDaemon(t *testing.T) (string, *phonetest.Edge) {
	t.Helper()
	e := phonetest.Start(t)
	acct := softphone.Account{Name: "alice", Edge: "tls://" + e.Addr, User: "alice", Password: e.Password,
		Domain: "127.0.0.1", Fingerprint: e.Fingerprint()}
	p, err := softphone.New(acct, softphone.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "phone.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(p, nil).Serve(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = p.Close()
	})
	return sock, e
}

func TestServerCommands(t *testing.T) {
	sock, _ := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	r, err := cl.Do(ctx, Request{Cmd: CmdPing})
	if err != nil || !r.OK || r.Result != "pong" {
		t.Fatalf("ping = %+v, %v", r, err)
	}
	r, err = cl.Do(ctx, Request{Cmd: CmdStatus})
	if err != nil || !r.OK {
		t.Fatalf("status = %+v, %v", r, err)
	}
	b, _ := json.Marshal(r.Result)
	var st Status
	if err := json.Unmarshal(b, &st); err != nil || st.Account != "alice" || st.Registration.State != softphone.RegRegistered {
		t.Fatalf("status result %s (%v)", b, err)
	}
	r, _ = cl.Do(ctx, Request{Cmd: "reboot"})
	if r.OK || !strings.Contains(r.Error, "unknown command") {
		t.Errorf("unknown command: %+v", r)
	}
	r, _ = cl.Do(ctx, Request{Cmd: CmdHangup, Call: "c99"})
	if r.OK || !strings.Contains(r.Error, "no such call") {
		t.Errorf("hangup unknown call: %+v", r)
	}
	// Device audio the engine cannot use is refused with its reason: no cgo,
	// or (with cgo) no device of that name / no usable backend.
	want := "device audio is unavailable"
	if softphone.AudioDevicesSupported() {
		want = "--play device:no-such-device: audio: "
	}
	r, _ = cl.Do(ctx, Request{Cmd: CmdDial, To: "bob", Play: "device:no-such-device"})
	if r.OK || !strings.Contains(r.Error, want) {
		t.Errorf("dial with device audio: %+v, want an error containing %q", r, want)
	}

	// Events: a dial to the test edge (which has no INVITE handler) ends with 405.
	if r, _ := cl.Do(ctx, Request{Cmd: CmdSubscribe}); !r.OK {
		t.Fatalf("subscribe: %+v", r)
	}
	r, _ = cl.Do(ctx, Request{Cmd: CmdDial, To: "bob"})
	if !r.OK {
		t.Fatalf("dial: %+v", r)
	}
	b, _ = json.Marshal(r.Result)
	var dr DialResult
	_ = json.Unmarshal(b, &dr)
	for {
		select {
		case e := <-cl.Events():
			if e.Type == softphone.EventEnded && e.Call == dr.Call {
				if e.Code != 405 {
					t.Errorf("ended event %+v, want code 405", e)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no ended event")
		}
	}
}

func TestServerRejectsBadLines(t *testing.T) {
	sock, _ := startDaemon(t)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("{not json\n{\"id\":7,\"cmd\":\"dial\"}\n{\"id\":8,\"cmd\":\"ping\"}\n")); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(c)
	var got []Response
	for range 3 {
		var r Response
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if got[0].OK || !strings.Contains(got[0].Error, "bad request") {
		t.Errorf("bad JSON: %+v", got[0])
	}
	if got[1].OK || string(got[1].ID) != "7" || !strings.Contains(got[1].Error, `needs "to"`) {
		t.Errorf("dial without to: %+v", got[1])
	}
	if !got[2].OK || string(got[2].ID) != "8" {
		t.Errorf("ping after errors: %+v", got[2])
	}
}
