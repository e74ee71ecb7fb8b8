package media

import (
	"bytes"
	"errors"
	"testing"
)

func mustAttr(t testing.TB, tag int, s Suite) CryptoAttr {
	t.Helper()
	c, err := NewCryptoAttr(tag, s)
	if err != nil {
		t.Fatal(err)
	}

	return c
}

func TestSelectCrypto(t *testing.T) {
	a32 := mustAttr(t, 1, SuiteAES32)
	a80 := mustAttr(t, 2, SuiteAES80)
	gcm := mustAttr(t, 3, SuiteGCM128)
	unenc := mustAttr(t, 4, SuiteGCM128)
	unenc.Params = []string{"UNENCRYPTED_SRTP"}
	broken := mustAttr(t, 5, SuiteAES80)
	broken.Key = broken.Key[:3]

	tests := []struct {
		name    string
		offered []CryptoAttr
		wantTag int
		ok      bool
	}{
		{"prefers GCM offered last", []CryptoAttr{a32, a80, gcm}, 3, true},
		{"80 over 32", []CryptoAttr{a32, a80}, 2, true},
		{"only 32", []CryptoAttr{a32}, 1, true},
		{"skips UNENCRYPTED_SRTP", []CryptoAttr{unenc, a32}, 1, true},
		{"skips invalid key", []CryptoAttr{broken, a32}, 1, true},
		{"nothing usable", []CryptoAttr{unenc, broken}, 0, false},
		{"empty", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := SelectCrypto(tt.offered)
		if ok != tt.ok || got.Tag != tt.wantTag {
			t.Errorf("%s: got tag %d ok=%v, want %d %v", tt.name, got.Tag, ok, tt.wantTag, tt.ok)
		}
	}
}

func TestOfferAnswerMatch(t *testing.T) {
	offer, err := OfferCryptos()
	if err != nil {
		t.Fatal(err)
	}
	if len(offer) != 3 || offer[0].Tag != 1 || offer[0].Suite != SuiteGCM128 || offer[2].Tag != 3 {
		t.Fatalf("offer = %v", offer)
	}
	// The answerer sees only our SDP text.
	var seen []CryptoAttr
	for _, c := range offer {
		p, err := ParseCrypto(c.String())
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, p)
	}
	remote, local, err := AnswerCrypto(seen)
	if err != nil {
		t.Fatal(err)
	}
	if remote.Tag != 1 || local.Tag != 1 || local.Suite != SuiteGCM128 || bytes.Equal(local.Key, remote.Key) {
		t.Fatalf("answer: remote %s local %s", remote.Redacted(), local.Redacted())
	}
	ours, err := MatchAnswer(offer, local)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours.Key, offer[0].Key) {
		t.Fatal("MatchAnswer returned another line")
	}

	// Keys line up end to end: offerer encrypts with its own line, answerer decrypts with
	// the remote line it selected; and the other way round.
	pkt := rtpPacket(t, 1, 160, 0x1234, make([]byte, 20))
	encO, _ := NewEncryptor(ours)
	decA, _ := NewDecryptor(remote)
	if _, err := roundTrip(encO, decA, pkt); err != nil {
		t.Fatalf("offerer->answerer: %v", err)
	}
	encA, _ := NewEncryptor(local)
	decO, _ := NewDecryptor(local)
	if _, err := roundTrip(encA, decO, pkt); err != nil {
		t.Fatalf("answerer->offerer: %v", err)
	}

	// Mismatches.
	wrongTag := local
	wrongTag.Tag = 9
	if _, err := MatchAnswer(offer, wrongTag); !errors.Is(err, ErrAnswerMismatch) {
		t.Errorf("unknown tag: %v", err)
	}
	wrongSuite := mustAttr(t, 2, SuiteAES32)
	if _, err := MatchAnswer(offer, wrongSuite); !errors.Is(err, ErrAnswerMismatch) {
		t.Errorf("changed suite: %v", err)
	}
	bad := local
	bad.Params = []string{"UNENCRYPTED_SRTP"}
	if _, err := MatchAnswer(offer, bad); !errors.Is(err, ErrUnsupportedParam) {
		t.Errorf("unusable answer: %v", err)
	}
	if _, _, err := AnswerCrypto(nil); !errors.Is(err, ErrNoCommonSuite) {
		t.Errorf("empty offer: %v", err)
	}
	if _, err := OfferCryptos("NOPE"); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("bad suite offer: %v", err)
	}
}

func roundTrip(e *Encryptor, d *Decryptor, pkt []byte) ([]byte, error) {
	enc, err := e.EncryptRTP(nil, pkt)
	if err != nil {
		return nil, err
	}
	out, err := d.DecryptRTP(nil, enc)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(out, pkt) {
		return nil, errors.New("plaintext differs")
	}

	return out, nil
}
