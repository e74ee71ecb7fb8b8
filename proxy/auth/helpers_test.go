package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/userdb"
)

const (
	testRealm = "sip.example.com"
	testURI   = "sip:sip.example.com;transport=tls"
)

// fakeClock is a settable, race-safe clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testUsers() map[string]userdb.User {
	mk := func(name, realm, pw string) userdb.User {
		return userdb.User{Name: name, Realm: realm, HA1MD5: userdb.HA1("MD5", name, realm, pw),
			HA1SHA256: userdb.HA1("SHA-256", name, realm, pw), Roles: []string{"phone"}}
	}
	return map[string]userdb.User{
		"alice":  mk("alice", testRealm, "correct horse"),
		"bob":    mk("bob", testRealm, "hunter2"),
		"carol":  mk("carol", "other.example.com", "carolpw"),
		"nosha":  {Name: "nosha", Realm: testRealm, HA1MD5: userdb.HA1("MD5", "nosha", testRealm, "pw")},
		"ALICE2": mk("ALICE2", testRealm, "pw2"),
	}
}

func newTestServer(t testing.TB, mut func(*Config)) (*Server, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	users := testUsers()
	cfg := Config{
		Realm:  testRealm,
		Lookup: func(n string) (userdb.User, bool) { u, ok := users[n]; return u, ok },
		Now:    clk.Now,
		Secret: []byte("0123456789abcdef0123456789abcdef"),
	}
	if mut != nil {
		mut(&cfg)
	}
	return New(cfg), clk
}

var (
	reNonce  = regexp.MustCompile(`nonce="([^"]*)"`)
	reOpaque = regexp.MustCompile(`opaque="([^"]*)"`)
)

// nonceOf extracts nonce and opaque from a challenge value without using the package's parser.
func nonceOf(t testing.TB, chal string) (nonce, opaque string) {
	t.Helper()
	m, o := reNonce.FindStringSubmatch(chal), reOpaque.FindStringSubmatch(chal)
	if m == nil || o == nil {
		t.Fatalf("no nonce/opaque in %q", chal)
	}
	return m[1], o[1]
}

func md5hex(s string) string    { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
func sha256hex(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

// rfcResponse is the RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1 formula for qop=auth, written out independently:
// H( H(user:realm:password) : nonce : nc : cnonce : qop : H(method:uri) ).
func rfcResponse(alg, user, realm, password, method, uri, nonce, nc, cnonce string) string {
	h := md5hex
	if alg == "SHA-256" {
		h = sha256hex
	}
	ha1 := h(user + ":" + realm + ":" + password)
	ha2 := h(method + ":" + uri)
	return h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
}

// cred describes an Authorization value to build; zero fields get sensible defaults from build.
type cred struct {
	alg      string // "" omits the algorithm parameter (MD5)
	user, pw string
	realm    string // realm param and realm used in HA1
	method   string // method hashed by the client
	uri      string
	nonce    string
	opaque   string
	nc       string
	cnonce   string
}

func (c cred) withDefaults() cred {
	if c.user == "" {
		c.user = "alice"
	}
	if c.pw == "" {
		c.pw = "correct horse"
	}
	if c.realm == "" {
		c.realm = testRealm
	}
	if c.method == "" {
		c.method = "REGISTER"
	}
	if c.uri == "" {
		c.uri = testURI
	}
	if c.nc == "" {
		c.nc = "00000001"
	}
	if c.cnonce == "" {
		c.cnonce = "0a4b113b"
	}
	return c
}

// header builds a well-formed Authorization value with the RFC response.
func (c cred) header() string {
	c = c.withDefaults()
	resp := rfcResponse(c.alg, c.user, c.realm, c.pw, c.method, c.uri, c.nonce, c.nc, c.cnonce)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"`,
		c.user, c.realm, c.nonce, c.uri, resp)
	if c.alg != "" {
		fmt.Fprintf(&b, ", algorithm=%s", c.alg)
	}
	fmt.Fprintf(&b, `, cnonce="%s", qop=auth, nc=%s`, c.cnonce, c.nc)
	if c.opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, c.opaque)
	}
	return b.String()
}

// fresh returns a cred carrying a new nonce and opaque from s.
func fresh(t testing.TB, s *Server, alg string) cred {
	t.Helper()
	n, o := nonceOf(t, s.Challenge("REGISTER")[0])
	return cred{alg: alg, nonce: n, opaque: o}
}

func testUsersLookup() func(string) (userdb.User, bool) {
	users := testUsers()
	return func(n string) (userdb.User, bool) { u, ok := users[n]; return u, ok }
}
