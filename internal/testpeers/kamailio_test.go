package testpeers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestKamailioRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts KamailioOptions
		want string
	}{
		{"domain", KamailioOptions{Domain: "a b"}, "Domain"},
		{"path mode", KamailioOptions{PathMode: 3}, "PathMode"},
		{"debug", KamailioOptions{Debug: 9}, "Debug"},
		{"port", KamailioOptions{UDPPort: 70000}, "UDPPort"},
		{"tls files", KamailioOptions{TLSCertFile: "x.pem"}, "TLSCertFile"},
		{"user", KamailioOptions{Users: map[string]string{"al ice": "x"}}, "al ice"},
		{"alias", KamailioOptions{Aliases: []string{"a\"b"}}, "Aliases"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := startKamailio(t, c.opts)
			if !errors.Is(err, ErrBadOption) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadOption naming %q", err, c.want)
			}
		})
	}
}

func TestKamailioRegistrarAuthAndUsers(t *testing.T) {
	Require(t, "kamailio")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "secret"}})
	if v, err := k.RPC("core.version"); err != nil || !strings.Contains(string(v), "kamailio 5.") {
		t.Fatalf("core.version = %s, %v", v, err)
	}
	u := newRawUA(t)
	contact := fmt.Sprintf("<sip:alice@127.0.0.1:%d>", u.port)

	if code, _ := u.register(k, "alice", "wrong", contact, ""); code != 401 && code != 403 {
		t.Fatalf("wrong password: status %d, want 401/403", code)
	}
	if code, resp := u.register(k, "eve", "x", contact, ""); code != 401 && code != 403 {
		t.Fatalf("unknown user: status %d, want 401/403\n%s", code, resp)
	}
	if locs, err := k.Locations("alice"); err != nil || len(locs) != 0 {
		t.Fatalf("Locations before any registration = %v, %v; want none", locs, err)
	}
	if code, resp := u.register(k, "alice", "secret", contact, ""); code != 200 {
		t.Fatalf("register: status %d\n%s", code, resp)
	}
	locs, err := k.Locations("alice")
	if err != nil || len(locs) != 1 {
		t.Fatalf("Locations = %v, %v; want one", locs, err)
	}
	if got := locs[0].Contact; got != fmt.Sprintf("sip:alice@127.0.0.1:%d", u.port) {
		t.Errorf("contact %q", got)
	}
	if locs[0].Expires < 200 || locs[0].Expires > 300 || locs[0].Path != "" {
		t.Errorf("location %+v: want expires ~300 and no path", locs[0])
	}

	// A user added while Kamailio runs can register at once; a removed one cannot.
	if err := k.AddUser("eve", "pw'2"); err != nil {
		t.Fatal(err)
	}
	if code, resp := u.register(k, "eve", "pw'2", contact, ""); code != 200 {
		t.Fatalf("register added user: status %d\n%s", code, resp)
	}
	if err := k.AddUser("bad user", "x"); !errors.Is(err, ErrBadOption) {
		t.Errorf("AddUser(bad user) = %v, want ErrBadOption", err)
	}
	if err := k.RemoveUser("eve"); err != nil {
		t.Fatal(err)
	}
	if code, _ := u.register(k, "eve", "pw'2", contact, ""); code == 200 {
		t.Errorf("removed user could still register")
	}
	if err := k.Unregister("alice"); err != nil {
		t.Fatal(err)
	}
	if locs, err := k.Locations("alice"); err != nil || len(locs) != 0 {
		t.Errorf("Locations after Unregister = %v, %v", locs, err)
	}
}

func TestKamailioAnswersOptions(t *testing.T) {
	Require(t, "kamailio")
	k := StartKamailio(t, KamailioOptions{})
	u := newRawUA(t)
	msg := "OPTIONS sip:" + k.Addr("udp") + " SIP/2.0\r\n" +
		fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n", u.port, randHex(6)) +
		"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:" + k.Addr("udp") + ">\r\n" +
		"Call-ID: " + randHex(8) + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	u.send(k.Addr("udp"), msg)
	if code, resp := u.readResponse(3 * time.Second); code != 200 {
		t.Fatalf("OPTIONS: status %d\n%s", code, resp)
	}
}

func TestKamailioPathModeStrict(t *testing.T) {
	Require(t, "kamailio")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"dave": "pw"}, PathMode: 2})
	u := newRawUA(t)
	path := fmt.Sprintf("Path: <sip:127.0.0.1:%d;lr>\r\n", u.port)
	contact := "<sip:dave@127.0.0.1:9>"
	if code, _ := u.register(k, "dave", "pw", contact, path); code != 420 {
		t.Fatalf("Path without Supported: path: status %d, want 420", code)
	}
	if code, resp := u.register(k, "dave", "pw", contact, path+"Supported: path\r\n"); code != 200 {
		t.Fatalf("Path with Supported: path: status %d\n%s", code, resp)
	}
}

// TestKamailioRelaysMessageAndOptionsToUsers: out-of-dialog MESSAGE and OPTIONS to a user are
// authenticated, then relayed to the user's phone; unknown users get 404.
func TestKamailioRelaysMessageAndOptionsToUsers(t *testing.T) {
	Require(t, "kamailio", "baresip")
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "a", "bob": "b"}})
	b := StartBaresip(t, BaresipOptions{User: "bob", Password: "b", Domain: k.Addr("udp")})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	waitRegistered(ctx, t, b)
	u := newRawUA(t)
	bob := "sip:bob@" + k.Addr("udp")
	if code, resp := u.request(k, "MESSAGE", bob, "alice", "wrong", "Content-Type: text/plain\r\n", "hi"); code != 407 && code != 403 {
		t.Errorf("MESSAGE with a wrong password: status %d, want 407/403\n%s", code, resp)
	}
	if code, resp := u.request(k, "MESSAGE", bob, "alice", "a", "Content-Type: text/plain\r\n", "hello bob"); code != 200 || strings.Contains(resp, "sipedge-test-pbx") {
		t.Errorf("MESSAGE: status %d, want 200 from the phone\n%s", code, resp)
	}
	// Kamailio's own replies carry "Server: sipedge-test-pbx"; relayed ones come from the phone.
	if code, resp := u.request(k, "OPTIONS", bob, "alice", "a", "", ""); code != 200 || strings.Contains(resp, "sipedge-test-pbx") {
		t.Errorf("OPTIONS to bob: status %d, want 200 from the phone\n%s", code, resp)
	}
	if code, resp := u.request(k, "MESSAGE", "sip:nobody@"+k.Addr("udp"), "alice", "a", "Content-Type: text/plain\r\n", "x"); code != 404 {
		t.Errorf("MESSAGE to an unknown user: status %d, want 404\n%s", code, resp)
	}
}
