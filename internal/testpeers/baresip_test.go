package testpeers

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestBaresipRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts BaresipOptions
		want string
	}{
		{"no user", BaresipOptions{}, "User"},
		{"transport", BaresipOptions{User: "a", Transport: "sctp"}, "Transport"},
		{"outbound", BaresipOptions{User: "a", Outbound: "127.0.0.1:5060"}, "Outbound"},
		{"mediaenc", BaresipOptions{User: "a", MediaEnc: "zrtp2"}, "MediaEnc"},
		{"answermode", BaresipOptions{User: "a", AnswerMode: "always"}, "AnswerMode"},
		{"tone", BaresipOptions{User: "a", ToneHz: 5}, "ToneHz"},
		{"audio file", BaresipOptions{User: "a", AudioFile: "/nonexistent.wav"}, "AudioFile"},
		{"codec", BaresipOptions{User: "a", Codecs: []string{"PCMU,PCMA"}}, "Codecs"},
		{"password", BaresipOptions{User: "a", Password: "x;y"}, "Password"},
		{"domain", BaresipOptions{User: "a", Domain: "a@b"}, "Domain"},
		{"extra config", BaresipOptions{User: "a", ExtraConfig: []string{"a\nb"}}, "ExtraConfig"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := startBaresip(t, c.opts)
			if !errors.Is(err, ErrBadOption) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadOption naming %q", err, c.want)
			}
		})
	}
}

func TestBaresipAccountLine(t *testing.T) {
	o := BaresipOptions{User: "alice", Password: "pw", Domain: "pbx.test", Transport: "TLS",
		Outbound: "sip:127.0.0.1:5061;transport=tls", SIPOutbound: true, MediaEnc: "srtp-mand",
		AnswerMode: "auto", Codecs: []string{"G722", "PCMU"}, DisplayName: "Alice A"}
	if err := o.setDefaults(); err != nil {
		t.Fatal(err)
	}
	b := &Baresip{opts: o}
	got := b.accountLine()
	want := `"Alice A" <sip:alice@pbx.test;transport=tls>;auth_user=alice;auth_pass=pw;answermode=auto;` +
		`audio_codecs=G722/16000/1,PCMU;regint=600;outbound="sip:127.0.0.1:5061;transport=tls";` +
		`sipnat=outbound;mediaenc=srtp-mand`
	if got != want {
		t.Errorf("account line\n got %s\nwant %s", got, want)
	}
	if b.AOR() != "sip:alice@pbx.test" {
		t.Errorf("AOR %q", b.AOR())
	}
}

func TestBaresipReportsRegisterFailure(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "right"}})
	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "wrong", Domain: k.Addr("udp")})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	ev, err := a.WaitEvent(ctx, EventRegisterOK, EventRegisterFail)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != EventRegisterFail {
		t.Fatalf("got %s, want %s", ev.Type, EventRegisterFail)
	}
	if locs, err := k.Locations("alice"); err != nil || len(locs) != 0 {
		t.Errorf("Locations = %+v, %v; want none", locs, err)
	}
	// Commands and waits fail with a clear error once baresip is gone.
	a.Stop()
	if err := a.Dial("sip:bob@" + k.Addr("udp")); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Dial after Stop = %v, want ErrNotRunning", err)
	}
	if _, err := a.WaitEvent(ctx, EventCallClosed); err == nil {
		t.Errorf("WaitEvent after Stop succeeded")
	}
	if err := a.Dial("bob"); !errors.Is(err, ErrBadOption) {
		t.Errorf("Dial(bob) = %v, want ErrBadOption", err)
	}
}

func TestRequireDecision(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{{"", false}, {"0", false}, {"false", false}, {"FALSE", false}, {"true", true}, {"1", true}, {"yes", true}} {
		t.Setenv("CI", c.v)
		if got := inCI(); got != c.want {
			t.Errorf("CI=%q: inCI() = %v, want %v", c.v, got, c.want)
		}
	}
	if _, err := lookPath("surely-not-a-binary-xyz"); err == nil {
		t.Errorf("lookPath found a missing binary")
	}
	if _, err := lookPath("sh"); err != nil {
		t.Errorf("lookPath(sh): %v", err)
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p := FreePort(t)
		if seen[p] || p <= 0 {
			t.Fatalf("port %d repeated or invalid", p)
		}
		seen[p] = true
	}
	p, err := freePortPair()
	if err != nil || seen[p] || seen[p+1] {
		t.Fatalf("freePortPair = %d, %v", p, err)
	}
}

// TestBaresipSendsAudioFile: a phone plays a WAV file (converted by the harness) instead of the tone.
func TestBaresipSendsAudioFile(t *testing.T) {
	Require(t, "kamailio", "baresip", "sox")
	wav := t.TempDir() + "/tone600.wav"
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", wav, "synth", "1", "sine", "600", "vol", "0.3").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "a", "bob": "b"}, SkipCallAuth: true})
	a := StartBaresip(t, BaresipOptions{User: "alice", Password: "a", Domain: k.Addr("udp"), AudioFile: wav})
	b := StartBaresip(t, BaresipOptions{User: "bob", Password: "b", Domain: k.Addr("udp"), AnswerMode: "auto", Codecs: []string{"G722"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitRegistered(ctx, t, a, b)
	if _, err := k.WaitLocations(ctx, "bob", 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Dial("sip:bob@" + k.Addr("udp")); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, b, EventCallEstablished, EventCallClosed)
	time.Sleep(1500 * time.Millisecond)
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitCall(ctx, t, a, EventCallClosed)
	waitCall(ctx, t, b, EventCallClosed)
	rec, err := b.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	AssertTone(t, rec.Received, 600)
}
