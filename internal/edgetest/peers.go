package edgetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/relay"
	"github.com/sipedge/sipedge/softphone"
	"github.com/sipedge/sipedge/userdb"
)

// DeskPhone starts baresip registered directly at the Kamailio of StartPBX (a user's desk phone on the
// LAN, plain RTP, PCMU) sending a tone of toneHz, answering per answer ("auto" or "manual").
func DeskPhone(t *testing.T, k *testpeers.Kamailio, user string, toneHz int, answer string) *testpeers.Baresip {
	t.Helper()
	testpeers.Require(t, "baresip")
	b := testpeers.StartBaresip(t, testpeers.BaresipOptions{User: user, Password: "pw-" + user, Domain: "pbx.test",
		Outbound: k.URI("udp"), ToneHz: toneHz, AnswerMode: answer, Codecs: []string{"PCMU"}})
	WaitB(t, b, 10*time.Second, testpeers.EventRegisterOK)
	return b
}

// WaitB waits for one of the baresip event types.
func WaitB(t *testing.T, b *testpeers.Baresip, d time.Duration, types ...string) testpeers.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ev, err := b.WaitEvent(ctx, types...)
	if err != nil {
		t.Fatalf("baresip: waiting for %v: %v", types, err)
	}
	return ev
}

// LocalUsers makes c a standalone edge's config with a users file holding users (password "pw-USER",
// realm sipedge), for use inside Start's callback.
func LocalUsers(t *testing.T, c *config.Config, users ...string) {
	t.Helper()
	c.Auth.UsersFile = filepath.Join(t.TempDir(), "users.yaml")
	db, err := userdb.Open(c.Auth.UsersFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if err := db.Add(u, "sipedge", "pw-"+u, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// CallDesk dials uri from p and waits until the call is answered and the desk phone has it established.
func CallDesk(t *testing.T, ctx context.Context, p *softphone.Phone, desk *testpeers.Baresip, uri string, mo softphone.MediaOptions) *softphone.Call {
	t.Helper()
	call, err := p.Dial(ctx, uri, softphone.DialOptions{MediaOptions: mo})
	if err != nil {
		t.Fatal(err)
	}
	if err := call.WaitAnswered(ctx); err != nil {
		t.Fatalf("call to %s: %v", uri, err)
	}
	WaitB(t, desk, 5*time.Second, testpeers.EventCallEstablished)
	return call
}

// OnlySession returns the relay session of the edge's only dialog.
func OnlySession(t *testing.T, e *Edge) *relay.Session {
	t.Helper()
	ds := e.App.Proxy.Dialogs()
	if len(ds) != 1 {
		t.Fatalf("dialogs %+v, want one", ds)
	}
	s, ok := e.App.Relay.Lookup(ds[0].Session)
	if !ok {
		t.Fatalf("no relay session %q", ds[0].Session)
	}
	return s
}

// AssertTones checks a finished call's audio both ways: the phone's recording rec has phoneHeardHz as its
// dominant frequency, and the desk phone's recording of what it received has deskHeardHz.
func AssertTones(t *testing.T, rec string, phoneHeardHz float64, desk *testpeers.Baresip, deskHeardHz float64) {
	t.Helper()
	testpeers.AssertTone(t, rec, phoneHeardHz)
	r, err := desk.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	testpeers.AssertTone(t, r.Received, deskHeardHz)
}
