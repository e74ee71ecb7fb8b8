package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/internal/testpeers"
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

// TestCallAndAnswerCommands runs `phone answer` and `phone call` against each other through Kamailio.
func TestCallAndAnswerCommands(t *testing.T) {
	dir := isolate(t)
	k := kamailio(t, "alice", "bob")
	bobRec, aliceRec := filepath.Join(dir, "bob.wav"), filepath.Join(dir, "alice.wav")
	answered := goPhone(t, 40*time.Second, append([]string{"answer", "--play", "tone:1000", "--record", bobRec, "--duration", "0",
		"--timeout", "20s"}, kamArgs(k, "tcp", "bob", filepath.Join(dir, "bob"))...)...)
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
	testpeers.AssertTone(t, aliceRec, 1000)
	testpeers.AssertTone(t, bobRec, 440)

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
	waitB(t, bob, 10*time.Second, testpeers.EventRegisterOK)
	d := startDaemon(t, dir, kamArgs(k, "tls", "alice", filepath.Join(dir, "alice"))...)
	r := d.do(control.Request{Cmd: control.CmdStatus})
	if b, _ := json.Marshal(r.Result); !strings.Contains(string(b), `"state":"registered"`) {
		t.Fatalf("status %s", b)
	}
	rec := filepath.Join(dir, "daemon.wav")
	call := d.dial("bob", "tone:440", rec)
	d.wait(softphone.EventAnswered, call, 10*time.Second)
	time.Sleep(2 * time.Second)
	d.do(control.Request{Cmd: control.CmdDTMF, Call: call, Digits: "9"})
	if got := dtmfAt(t, bob, 1); got != "9" {
		t.Errorf("baresip DTMF %q, want 9", got)
	}
	d.do(control.Request{Cmd: control.CmdHold, Call: call})
	d.do(control.Request{Cmd: control.CmdUnhold, Call: call})
	d.do(control.Request{Cmd: control.CmdMute, Call: call})
	d.do(control.Request{Cmd: control.CmdHangup, Call: call})
	end := d.wait(softphone.EventEnded, call, 5*time.Second)
	if end.Stats == nil || end.Stats.PacketsReceived < 50 || end.Stats.SRTP == "none" {
		t.Errorf("ended event %+v", end)
	}
	testpeers.AssertTone(t, rec, 1000)
}
