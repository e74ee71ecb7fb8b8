package proxy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/relay"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/tlsutil"
)

// A PBX reached over TLS (a hosted PBX across the internet): the edge verifies Kamailio's certificate
// (pbx.tls.ca_file), Kamailio reaches the edge's TLS core listener, and with media.core_srtp required the
// core leg is SRTP too. A desk phone that requires SRTP (baresip srtp-mand) hears the phone's tone and is
// heard; a call from the desk phone reaches the phone through the TLS core side.
func TestTLSAndSRTPTowardPBX(t *testing.T) {
	testpeers.Require(t, "kamailio", "baresip")
	k := testpeers.StartKamailio(t, testpeers.KamailioOptions{Domain: "pbx.test", TLS: true,
		Users: map[string]string{"alice": "pw-alice", "bob": "pw-bob"}})
	e := startEdge(t, func(c *config.Config) {
		c.Listen.Core = "tls://127.0.0.2:0"
		c.PBX.Targets = []string{"tls://" + k.Addr("tls")}
		c.PBX.TLS.CAFile = k.CACertFile()
		c.Media.CoreSRTP = "required"
	})
	bob := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: "bob", Password: "pw-bob", Domain: "pbx.test",
		Outbound: k.URI("udp"), ToneHz: 1000, AnswerMode: "auto", Codecs: []string{"PCMU"}, MediaEnc: "srtp-mand"})
	waitB(t, bob, 10*time.Second, testpeers.EventRegisterOK)
	alice := startPhone(t, edgePhone(e, "alice", "pw-alice", "pbx.test"))
	aEv, stop := alice.Events(64)
	defer stop()

	ctx := ctxT(t, 30*time.Second)
	rec := filepath.Join(t.TempDir(), "a.wav")
	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440", Record: rec})
	time.Sleep(1500 * time.Millisecond)
	legs := edgetest.OnlySession(t, e).Stats().Streams[0].Legs
	if core := legs[relay.Callee]; !core.SRTP || core.Packets < 20 {
		t.Errorf("core leg %+v: want SRTP with packets from the desk phone", core)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)
	edgetest.AssertTones(t, rec, 1000, bob, 440)

	// bob -> alice: Kamailio follows the Path to the edge's TLS core listener.
	time.Sleep(1100 * time.Millisecond) // baresip names recordings by the second
	ac := incomingCall(t, bob, "sip:alice@pbx.test", alice, aEv)
	if err := ac.Answer(&softphone.MediaOptions{Play: "silence"}); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	if err := ac.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)

	log, _ := os.ReadFile(k.LogPath())
	for _, want := range []string{"<- REGISTER sip:pbx.test from tls:", "<- INVITE sip:bob@pbx.test from tls:"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("Kamailio's log lacks %q: the edge did not use TLS toward it", want)
		}
	}
}

// The edge verifies the PBX: with a CA that did not sign Kamailio's certificate the target stays down and
// a REGISTER gets 503 instead of reaching an unverified PBX.
func TestTLSTowardPBXVerifiesCertificate(t *testing.T) {
	k := testpeers.StartKamailio(t, testpeers.KamailioOptions{Domain: "pbx.test", TLS: true,
		Users: map[string]string{"alice": "pw-alice"}})
	otherCA, _, err := tlsutil.GenerateSelfSigned([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(caFile, otherCA, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEdge(t, func(c *config.Config) {
		c.Listen.Core = "tls://127.0.0.2:0"
		c.PBX.Targets = []string{"tls://" + k.Addr("tls")}
		c.PBX.TLS.CAFile = caFile
	})
	time.Sleep(1500 * time.Millisecond) // a probe round
	raw := dialRaw(t, "tls", e.TLS)
	if res := raw.Register("alice", "pw-alice", "pbx.test"); res == nil || res.StatusCode != 503 {
		t.Fatalf("REGISTER toward an unverified PBX: %v, want 503", res)
	}
	if log, _ := os.ReadFile(k.LogPath()); bytes.Contains(log, []byte("<- REGISTER")) {
		t.Error("a REGISTER reached a PBX whose certificate the edge could not verify")
	}
}
