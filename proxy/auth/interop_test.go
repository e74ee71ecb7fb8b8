package auth

import (
	"errors"
	"testing"

	"github.com/icholy/digest"
)

// A third-party client implementation (github.com/icholy/digest) answers our challenges.
func TestInteropIcholyDigest(t *testing.T) {
	s, _ := newTestServer(t, nil)
	for i, wantAlg := range []string{"SHA-256", "MD5"} {
		t.Run(wantAlg, func(t *testing.T) {
			chal, err := digest.ParseChallenge(s.Challenge("INVITE")[i])
			if err != nil {
				t.Fatal(err)
			}
			if !digest.CanDigest(chal) || chal.Algorithm != wantAlg || chal.Realm != testRealm {
				t.Fatalf("challenge understood as %+v", chal)
			}
			uri := "sip:bob@sip.example.com"
			for count := 1; count <= 3; count++ {
				cr, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: "alice",
					Password: "correct horse", Count: count})
				if err != nil {
					t.Fatal(err)
				}
				res, err := s.Verify("INVITE", cr.String(), uri)
				if err != nil {
					t.Fatalf("count %d: Verify(%q) = %v", count, cr.String(), err)
				}
				if res.User.Name != "alice" || res.Algorithm != wantAlg {
					t.Fatalf("result %+v", res)
				}
				// The same header again is a replay.
				if _, err := s.Verify("INVITE", cr.String(), uri); !errors.Is(err, ErrReplay) {
					t.Fatalf("replayed header: %v, want ErrReplay", err)
				}
			}
			cr, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: "alice",
				Password: "wrong", Count: 4})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Verify("INVITE", cr.String(), uri); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
	// Our parser reads the client library's formatting of a challenge answer, and the stale challenge too.
	chal, err := digest.ParseChallenge(s.ChallengeStale("REGISTER")[0])
	if err != nil || !chal.Stale || chal.Opaque == "" || len(chal.QOP) != 1 || chal.QOP[0] != "auth" {
		t.Fatalf("stale challenge parsed as %+v, %v", chal, err)
	}
}
