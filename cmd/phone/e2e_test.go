package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/media/audio"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/softphone/control"
)

func kamailio(t *testing.T, users ...string) *testpeers.Kamailio {
	t.Helper()
	testpeers.Require(t, "kamailio")
	m := map[string]string{}
	for _, u := range users {
		m[u] = "pw-" + u
	}
	return testpeers.StartKamailio(t, testpeers.KamailioOptions{Users: m, TLS: true})
}

func kamArgs(k *testpeers.Kamailio, transport, user, dataDir string) []string {
	a := []string{"--edge", transport + "://" + k.Addr(transport), "--user", user, "--password", "pw-" + user,
		"--domain", k.Domain(), "--data-dir", dataDir}
	if transport == "tls" {
		a = append(a, "--ca-file", k.CACertFile())
	}
	return a
}

func tone(t *testing.T, path string, want float64) {
	t.Helper()
	pcm, rate, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < rate/2 {
		t.Fatalf("%s: %d samples", path, len(pcm))
	}
	if got := audio.DominantFrequency(pcm[rate/5:], rate); math.Abs(got-want) > want*0.03 {
		t.Errorf("%s: %.1f Hz, want %.0f", filepath.Base(path), got, want)
	}
}

// TestCallAndAnswerCommands runs `phone answer` and `phone call` against each other through Kamailio.
func TestCallAndAnswerCommands(t *testing.T) {
	dir := isolate(t)
	k := kamailio(t, "alice", "bob")
	bobRec, aliceRec := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "alice.wav")
	type result struct {
		out string
		err error
	}
	answered := make(chan result, 1)
	go func() {
		args := append([]string{"answer", "--play", "tone:1000", "--record", bobRec, "--duration", "0", "--timeout", "20s"},
			kamArgs(k, "tcp", "bob", filepath.Join(dir, "bob"))...)
		out, _, err := runPhone(t, 40*time.Second, args...)
		answered <- result{out, err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if locs, _ := k.Locations("bob"); len(locs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bob did not register")
		}
		time.Sleep(50 * time.Millisecond)
	}
	args := append([]string{"call", "bob", "--json", "--play", "tone:440", "--record", aliceRec, "--duration", "2s", "--dtmf", "42"},
		kamArgs(k, "tls", "alice", filepath.Join(dir, "alice"))...)
	out, _, err := runPhone(t, 40*time.Second, args...)
	if err != nil {
		t.Fatalf("call: %v\n%s", err, out)
	}
	var cs callSummary
	if err := json.Unmarshal([]byte(out), &cs); err != nil || !cs.OK || !cs.Answered || cs.SRTP == "none" || cs.PacketsReceived < 50 || cs.MOS < 3.5 {
		t.Errorf("call summary %s (%v)", out, err)
	}
	r := <-answered
	if r.err != nil {
		t.Fatalf("answer: %v\n%s", r.err, r.out)
	}
	for _, want := range []string{"call from sip:alice@", "codec G722", "srtp AEAD_AES_128_GCM", "MOS 4.", "dtmf received 42", "recording " + bobRec} {
		if !strings.Contains(r.out, want) {
			t.Errorf("answer summary lacks %q:\n%s", want, r.out)
		}
	}
	tone(t, aliceRec, 1000)
	tone(t, bobRec, 440)

	// The call is in alice's history.
	out, _, err = runPhone(t, 5*time.Second, "history", "--data-dir", filepath.Join(dir, "alice"))
	if err != nil || !strings.Contains(out, "sip:bob@") || !strings.Contains(out, "answered") {
		t.Errorf("history %q, %v", out, err)
	}
}

func TestCallFailureExitStatus(t *testing.T) {
	dir := isolate(t)
	k := kamailio(t, "alice")
	args := append([]string{"call", "nobody", "--json"}, kamArgs(k, "udp", "alice", dir)...)
	out, _, err := runPhone(t, 30*time.Second, args...)
	if err == nil || exitCode(err) != 1 || !softphone.IsStatus(err, 404) {
		t.Fatalf("err = %v, want a 404 failure", err)
	}
	var cs callSummary
	if json.Unmarshal([]byte(out), &cs) != nil || cs.OK || cs.Code != 404 || cs.Reason != "Not Found" {
		t.Errorf("summary %q", out)
	}
	args = append([]string{"call", "nobody"}, kamArgs(k, "udp", "alice", dir)...)
	_, _, err = runPhone(t, 30*time.Second, args...)
	if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("text mode error %v", err)
	}
}

// TestDaemonWithBaresip drives the daemon over its socket: status, dial a
// baresip phone, DTMF, hold, hangup, with the event stream.
func TestDaemonWithBaresip(t *testing.T) {
	dir := isolate(t)
	k := kamailio(t, "alice", "bob")
	testpeers.Require(t, "baresip")
	bob := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: "bob", Password: "pw-bob", Domain: k.Domain(),
		Outbound: k.URI("udp"), MediaEnc: "srtp-mand", AnswerMode: "auto", ToneHz: 1000})
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer bcancel()
	if _, err := bob.WaitEvent(bctx, testpeers.EventRegisterOK); err != nil {
		t.Fatal(err)
	}

	sock := filepath.Join(dir, "run", "phone.sock")
	ctx, stop := context.WithCancel(context.Background())
	daemonDone := make(chan error, 1)
	var dout syncBuffer
	go func() {
		args := append([]string{"daemon", "--socket", sock}, kamArgs(k, "tls", "alice", filepath.Join(dir, "alice"))...)
		daemonDone <- run(ctx, args, &dout, &dout)
	}()
	defer func() {
		stop()
		if err := <-daemonDone; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}()
	var cl *control.Client
	for i := 0; ; i++ {
		c, err := control.Dial(context.Background(), sock)
		if err == nil {
			cl = c
			break
		}
		if i > 200 {
			t.Fatalf("daemon socket: %v\n%s", err, dout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer cl.Close()
	cctx, ccancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer ccancel()
	do := func(req control.Request) control.Response {
		t.Helper()
		r, err := cl.Do(cctx, req)
		if err != nil {
			t.Fatalf("%s: %v", req.Cmd, err)
		}
		if !r.OK {
			t.Fatalf("%s: %s", req.Cmd, r.Error)
		}
		return r
	}
	do(control.Request{Cmd: control.CmdSubscribe})
	r := do(control.Request{Cmd: control.CmdStatus})
	if b, _ := json.Marshal(r.Result); !strings.Contains(string(b), `"state":"registered"`) {
		t.Fatalf("status %s", b)
	}
	rec := filepath.Join(dir, "daemon.wav")
	r = do(control.Request{Cmd: control.CmdDial, To: "bob", Play: "tone:440", Record: rec})
	b, _ := json.Marshal(r.Result)
	var dr control.DialResult
	_ = json.Unmarshal(b, &dr)
	waitFor := func(typ softphone.EventType) softphone.Event {
		t.Helper()
		for {
			select {
			case e := <-cl.Events():
				if e.Type == typ && e.Call == dr.Call {
					return e
				}
			case <-cctx.Done():
				t.Fatalf("no %s event", typ)
			}
		}
	}
	waitFor(softphone.EventAnswered)
	time.Sleep(2 * time.Second)
	do(control.Request{Cmd: control.CmdDTMF, Call: dr.Call, Digits: "9"})
	if e, err := bob.WaitEvent(cctx, testpeers.EventCallDTMFStart); err != nil || e.Param != "9" {
		t.Errorf("baresip DTMF %+v, %v", e, err)
	}
	do(control.Request{Cmd: control.CmdHold, Call: dr.Call})
	do(control.Request{Cmd: control.CmdUnhold, Call: dr.Call})
	do(control.Request{Cmd: control.CmdMute, Call: dr.Call})
	do(control.Request{Cmd: control.CmdHangup, Call: dr.Call})
	end := waitFor(softphone.EventEnded)
	if end.Stats == nil || end.Stats.PacketsReceived < 50 || end.Stats.SRTP == "none" {
		t.Errorf("ended event %+v", end)
	}
	tone(t, rec, 1000)
}
