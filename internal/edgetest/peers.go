package edgetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/testpeers"
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
