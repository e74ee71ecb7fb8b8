package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestChallengeFormat(t *testing.T) {
	s, _ := newTestServer(t, nil)
	ch := s.Challenge("INVITE")
	if len(ch) != 2 {
		t.Fatalf("want 2 challenges, got %d: %q", len(ch), ch)
	}
	if !strings.Contains(ch[0], "algorithm=SHA-256") || !strings.Contains(ch[1], "algorithm=MD5") {
		t.Fatalf("want SHA-256 first then MD5: %q", ch)
	}
	for _, c := range ch {
		for _, want := range []string{"Digest ", `realm="sip.example.com"`, `qop="auth"`, `nonce="`, `opaque="`} {
			if !strings.Contains(c, want) {
				t.Errorf("challenge %q lacks %q", c, want)
			}
		}
		if strings.Contains(c, "stale") {
			t.Errorf("fresh challenge has stale: %q", c)
		}
	}
	n0, _ := nonceOf(t, ch[0])
	n1, _ := nonceOf(t, ch[1])
	if n0 != n1 {
		t.Errorf("both challenges should share one nonce: %q vs %q", n0, n1)
	}
	n2, _ := nonceOf(t, s.Challenge("INVITE")[0])
	if n2 == n0 {
		t.Errorf("nonce reused across challenges")
	}
	for _, c := range s.ChallengeStale("INVITE") {
		if !strings.HasSuffix(c, ", stale=true") {
			t.Errorf("stale challenge lacks stale=true: %q", c)
		}
	}
}

func TestChallengeQuotesRealm(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.Realm = `we"ird\realm` })
	ch := s.Challenge("REGISTER")[0]
	if !strings.Contains(ch, `realm="we\"ird\\realm"`) {
		t.Fatalf("realm not escaped: %q", ch)
	}
	p, err := parseCredentials(ch)
	if err != nil || p.realm != `we"ird\realm` {
		t.Fatalf("round trip: %q %v", p.realm, err)
	}
}

func TestVerify(t *testing.T) {
	type tc struct {
		name   string
		build  func(c cred) string // gets a cred with a fresh nonce; nil means c.header()
		method string              // request-line method; default REGISTER
		uri    string              // request-line URI; default testURI
		alg    string
		kind   error  // nil = success
		reason string // substring of Reason, optional
		user   string // expected user on success
	}
	swap := func(h, old, new string) string { return strings.Replace(h, old, new, 1) }
	cases := []tc{
		{name: "md5", alg: "MD5", user: "alice"},
		{name: "sha256", alg: "SHA-256", user: "alice"},
		{name: "no algorithm means MD5", alg: "", user: "alice"},
		{name: "other user", alg: "SHA-256", build: func(c cred) string { c.user, c.pw = "bob", "hunter2"; return c.header() }, user: "bob"},
		{name: "lower-case algorithm quoted", alg: "SHA-256", build: func(c cred) string {
			return swap(c.header(), "algorithm=SHA-256", `algorithm="sha-256"`)
		}, user: "alice"},
		{name: "upper-case names, quoted nc and qop, reordered", alg: "MD5", build: func(c cred) string {
			h := c.header()
			h = swap(h, "qop=auth", `QOP="auth"`)
			h = swap(h, "nc=00000001", `NC="00000001"`)
			h = swap(h, "username=", "UserName=")
			parts := strings.Split(strings.TrimPrefix(h, "Digest "), ", ")
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
			return "digest   " + strings.Join(parts, " ,\t")
		}, user: "alice"},
		{name: "upper-case response hex", alg: "MD5", build: func(c cred) string {
			h := c.header()
			i := strings.Index(h, `response="`) + len(`response="`)
			return h[:i] + strings.ToUpper(h[i:i+32]) + h[i+32:]
		}, user: "alice"},
		{name: "without opaque", alg: "MD5", build: func(c cred) string { c.opaque = ""; return c.header() }, user: "alice"},
		{name: "unknown params ignored", alg: "MD5", build: func(c cred) string { return c.header() + `, x-foo="a,b", bar=baz` }, user: "alice"},
		{name: "equivalent uri param order", alg: "MD5", uri: "SIP:SIP.example.com;lr;transport=tls",
			build: func(c cred) string { c.uri = "sip:sip.example.com;transport=tls;lr"; return c.header() }, user: "alice"},

		{name: "wrong password", alg: "MD5", build: func(c cred) string { c.pw = "wrong"; return c.header() }, kind: ErrBadCredentials, reason: "wrong password"},
		{name: "wrong password sha256", alg: "SHA-256", build: func(c cred) string { c.pw = "wrong"; return c.header() }, kind: ErrBadCredentials, reason: "wrong password"},
		{name: "unknown user", alg: "MD5", build: func(c cred) string { c.user = "mallory"; return c.header() }, kind: ErrBadCredentials, reason: "unknown user"},
		{name: "user@domain is not alice", alg: "MD5", build: func(c cred) string { c.user = "alice@sip.example.com"; return c.header() }, kind: ErrBadCredentials, reason: "unknown user"},
		{name: "username is case-sensitive", alg: "MD5", build: func(c cred) string { c.user = "Alice"; return c.header() }, kind: ErrBadCredentials, reason: "unknown user"},
		{name: "user of another realm", alg: "MD5", build: func(c cred) string { c.user, c.pw = "carol", "carolpw"; return c.header() }, kind: ErrBadCredentials, reason: "realm"},
		{name: "user without SHA-256 HA1", alg: "SHA-256", build: func(c cred) string { c.user, c.pw = "nosha", "pw"; return c.header() }, kind: ErrBadCredentials, reason: "no SHA-256"},
		{name: "wrong method hashed", alg: "MD5", method: "INVITE", kind: ErrBadCredentials},
		{name: "realm mismatch", alg: "MD5", build: func(c cred) string { c.realm = "evil.example.com"; return c.header() }, kind: ErrRealm},
		{name: "uri mismatch", alg: "MD5", uri: "sip:other.example.com;transport=tls", kind: ErrMalformed, reason: "uri"},
		{name: "uri user mismatch", alg: "MD5", uri: "sip:bob@sip.example.com;transport=tls",
			build: func(c cred) string { c.uri = "sip:alice@sip.example.com;transport=tls"; return c.header() }, kind: ErrMalformed, reason: "uri"},
		{name: "forged nonce", alg: "MD5", build: func(c cred) string { c.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"; return c.header() }, kind: ErrBadCredentials, reason: "nonce"},
		{name: "tampered nonce timestamp", alg: "MD5", build: func(c cred) string {
			b := []byte(c.nonce)
			b[3] ^= 1
			c.nonce = string(b)
			return c.header()
		}, kind: ErrBadCredentials, reason: "nonce"},
		{name: "nonce from another secret", alg: "MD5", build: func(c cred) string {
			other, _ := newTestServer(t, func(cfg *Config) { cfg.Secret = []byte("another secret, 32 bytes long!!!") })
			c.nonce, _ = nonceOf(t, other.Challenge("REGISTER")[0])
			c.opaque = ""
			return c.header()
		}, kind: ErrBadCredentials, reason: "nonce"},
		{name: "opaque mismatch", alg: "MD5", build: func(c cred) string { c.opaque = "00"; return c.header() }, kind: ErrBadCredentials, reason: "opaque"},
		{name: "empty", build: func(cred) string { return "  " }, kind: ErrNoCredentials},
		{name: "basic scheme", build: func(cred) string { return "Basic YWxpY2U6cHc=" }, kind: ErrMalformed},
		{name: "digest without params", build: func(cred) string { return "Digest" }, kind: ErrMalformed},
		{name: "unterminated quote", alg: "MD5", build: func(c cred) string { return strings.TrimSuffix(c.header(), `"`) }, kind: ErrMalformed},
		{name: "missing qop (RFC 2069)", alg: "MD5", build: func(c cred) string {
			c = c.withDefaults()
			resp := md5hex(md5hex("alice:"+testRealm+":correct horse") + ":" + c.nonce + ":" + md5hex("REGISTER:"+testURI))
			return `Digest username="alice", realm="` + testRealm + `", nonce="` + c.nonce + `", uri="` + testURI + `", response="` + resp + `"`
		}, kind: ErrMalformed, reason: "qop"},
		{name: "qop auth-int", alg: "MD5", build: func(c cred) string { return swap(c.header(), "qop=auth", "qop=auth-int") }, kind: ErrMalformed, reason: "qop"},
		{name: "algorithm MD5-sess", alg: "MD5", build: func(c cred) string { return swap(c.header(), "algorithm=MD5", "algorithm=MD5-sess") }, kind: ErrMalformed, reason: "algorithm"},
		{name: "algorithm SHA-512-256", alg: "SHA-256", build: func(c cred) string { return swap(c.header(), "algorithm=SHA-256", "algorithm=SHA-512-256") }, kind: ErrMalformed, reason: "algorithm"},
		{name: "md5 response with SHA-256 algorithm", alg: "MD5", build: func(c cred) string { return swap(c.header(), "algorithm=MD5", "algorithm=SHA-256") }, kind: ErrMalformed, reason: "length"},
		{name: "missing cnonce", alg: "MD5", build: func(c cred) string { return swap(c.header(), `cnonce="0a4b113b", `, "") }, kind: ErrMalformed},
		{name: "nc zero", alg: "MD5", build: func(c cred) string { c.nc = "00000000"; return c.header() }, kind: ErrMalformed, reason: "nc"},
		{name: "nc not hex", alg: "MD5", build: func(c cred) string { c.nc = "0000000g"; return c.header() }, kind: ErrMalformed, reason: "nc"},
		{name: "nc too long", alg: "MD5", build: func(c cred) string { c.nc = "000000001"; return c.header() }, kind: ErrMalformed, reason: "nc"},
		{name: "duplicate username", alg: "MD5", build: func(c cred) string { return swap(c.header(), "Digest ", `Digest username="bob", `) }, kind: ErrMalformed},
		{name: "userhash", alg: "MD5", build: func(c cred) string { return c.header() + ", userhash=true" }, kind: ErrMalformed, reason: "userhash"},
		{name: "too long", alg: "MD5", build: func(c cred) string { return c.header() + `, pad="` + strings.Repeat("x", MaxHeaderLen) + `"` }, kind: ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newTestServer(t, nil)
			cr := fresh(t, s, c.alg)
			h := cr.header()
			if c.build != nil {
				h = c.build(cr)
			}
			method, uri := c.method, c.uri
			if method == "" {
				method = "REGISTER"
			}
			if uri == "" {
				uri = testURI
			}
			res, err := s.Verify(method, h, uri)
			if c.kind == nil {
				if err != nil {
					t.Fatalf("Verify(%q) = %v", h, err)
				}
				if res.User.Name != c.user || res.Stale {
					t.Fatalf("result %+v, want user %s", res, c.user)
				}
				want := c.alg
				if want == "" {
					want = "MD5"
				}
				if res.Algorithm != want {
					t.Fatalf("algorithm %q, want %q", res.Algorithm, want)
				}
				return
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("Verify(%q) = %v, want %v", h, err, c.kind)
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not *Error", err)
			}
			if !strings.Contains(ae.Reason, c.reason) {
				t.Fatalf("reason %q does not contain %q", ae.Reason, c.reason)
			}
			if res.User.Name != "" || res.Stale {
				t.Fatalf("failure leaked a result: %+v", res)
			}
		})
	}
}

func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	s, clk := newTestServer(t, nil)
	for _, expired := range []bool{false, true} {
		wrong, unknown := fresh(t, s, "SHA-256"), fresh(t, s, "SHA-256")
		wrong.pw = "nope"
		unknown.user = "nobody"
		if expired {
			clk.Advance(DefaultNonceTTL + time.Second)
		}
		r1, e1 := s.Verify("REGISTER", wrong.header(), testURI)
		r2, e2 := s.Verify("REGISTER", unknown.header(), testURI)
		var a1, a2 *Error
		if !errors.As(e1, &a1) || !errors.As(e2, &a2) {
			t.Fatalf("errors %v / %v", e1, e2)
		}
		if a1.Kind != ErrBadCredentials || a2.Kind != ErrBadCredentials {
			t.Fatalf("expired=%v: kinds %v / %v, want ErrBadCredentials for both", expired, a1.Kind, a2.Kind)
		}
		if r1.User.Name != "" || r2.User.Name != "" || r1.Stale || r2.Stale {
			t.Fatalf("results differ from zero: %+v %+v", r1, r2)
		}
		if a1.Reason == a2.Reason || Reason(e2) != "unknown user" {
			t.Fatalf("log reasons should differ: %q vs %q", a1.Reason, a2.Reason)
		}
	}
}

func TestNonceExpiry(t *testing.T) {
	s, clk := newTestServer(t, func(c *Config) { c.NonceTTL = time.Minute })
	ok := fresh(t, s, "MD5")
	clk.Advance(time.Minute)
	if _, err := s.Verify("REGISTER", ok.header(), testURI); err != nil {
		t.Fatalf("at exactly TTL: %v", err)
	}
	clk.Advance(time.Second)
	ok.nc = "00000002"
	res, err := s.Verify("REGISTER", ok.header(), testURI)
	if !errors.Is(err, ErrStaleNonce) || !res.Stale || res.User.Name != "alice" {
		t.Fatalf("expired nonce, right password: %+v %v, want ErrStaleNonce", res, err)
	}
	bad := ok
	bad.pw = "wrong"
	bad.nc = "00000003"
	if _, err := s.Verify("REGISTER", bad.header(), testURI); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("expired nonce, wrong password: %v, want ErrBadCredentials", err)
	}
	// A nonce from the far future (clock stepped back) is stale too.
	fut := fresh(t, s, "MD5")
	clk.Advance(-2 * time.Minute)
	if _, err := s.Verify("REGISTER", fut.header(), testURI); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("future nonce: %v, want ErrStaleNonce", err)
	}
}

func TestReplay(t *testing.T) {
	s, _ := newTestServer(t, nil)
	c := fresh(t, s, "SHA-256")
	steps := []struct {
		nc   string
		pw   string
		want error
	}{
		{"00000001", "", nil},
		{"00000001", "", ErrReplay},
		{"00000002", "", nil},
		{"00000002", "", ErrReplay},
		{"00000001", "", ErrReplay},
		{"0000000a", "wrong", ErrBadCredentials}, // failed attempts do not advance nc
		{"00000005", "", nil},                    // gaps are fine
		{"00000004", "", ErrReplay},
		{"ffffffff", "", nil},
		{"ffffffff", "", ErrReplay},
	}
	for i, st := range steps {
		c.nc, c.pw = st.nc, st.pw
		_, err := s.Verify("REGISTER", c.header(), testURI)
		if (st.want == nil && err != nil) || !errors.Is(err, st.want) {
			t.Fatalf("step %d nc=%s: %v, want %v", i, st.nc, err, st.want)
		}
	}
	// Another nonce is independent.
	d := fresh(t, s, "MD5")
	if _, err := s.Verify("REGISTER", d.header(), testURI); err != nil {
		t.Fatalf("second nonce: %v", err)
	}
}

func TestNCTableBounded(t *testing.T) {
	const max = 8
	s, clk := newTestServer(t, func(c *Config) { c.MaxNonces = max; c.NonceTTL = time.Minute })
	var first cred
	for i := 0; i < 100; i++ {
		c := fresh(t, s, "MD5")
		if i == 0 {
			first = c
		}
		if _, err := s.Verify("REGISTER", c.header(), testURI); err != nil {
			t.Fatalf("nonce %d: %v", i, err)
		}
		if n := s.ncs.len(); n > max {
			t.Fatalf("table has %d entries, cap %d", n, max)
		}
		clk.Advance(time.Millisecond)
	}
	if n := s.ncs.len(); n != max {
		t.Fatalf("table has %d entries, want %d", n, max)
	}
	// The first nonce was evicted before expiring: replaying it must not succeed.
	res, err := s.Verify("REGISTER", first.header(), testURI)
	if !errors.Is(err, ErrStaleNonce) || !res.Stale {
		t.Fatalf("replay of evicted nonce: %v, want ErrStaleNonce", err)
	}
	// New nonces still work.
	if _, err := s.Verify("REGISTER", fresh(t, s, "MD5").header(), testURI); err != nil {
		t.Fatalf("after eviction: %v", err)
	}
	// After the TTL everything old expires and is dropped on the next insert.
	clk.Advance(2 * time.Minute)
	if _, err := s.Verify("REGISTER", fresh(t, s, "MD5").header(), testURI); err != nil {
		t.Fatal(err)
	}
	if n := s.ncs.len(); n != 1 {
		t.Fatalf("after expiry table has %d entries, want 1", n)
	}
	if len(s.ncs.order)-s.ncs.head != 1 {
		t.Fatalf("order queue not trimmed: len %d head %d", len(s.ncs.order), s.ncs.head)
	}
}

func TestConcurrentVerify(t *testing.T) {
	s, _ := newTestServer(t, nil)
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		c := fresh(t, s, []string{"MD5", "SHA-256"}[g%2])
		go func() {
			for i := 1; i <= 50; i++ {
				c.nc = strings.Repeat("0", 6) + string("0123456789abcdef"[i/16]) + string("0123456789abcdef"[i%16])
				if _, err := s.Verify("REGISTER", c.header(), testURI); err != nil {
					errs <- err
					return
				}
				_ = s.Challenge("REGISTER")
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	lookup := testUsersLookup()
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Lookup: lookup}, "Realm"},
		{Config{Realm: "a\nb", Lookup: lookup}, "Realm"},
		{Config{Realm: "r"}, "Lookup"},
		{Config{Realm: "r", Lookup: lookup, NonceTTL: -1}, "NonceTTL"},
		{Config{Realm: "r", Lookup: lookup, MaxNonces: -1}, "MaxNonces"},
		{Config{Realm: "r", Lookup: lookup, Secret: []byte("short")}, "Secret"},
		{Config{Realm: "r", Lookup: lookup}, ""},
	} {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Validate(%+v) = %v, want field %q", c.cfg, err, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New with invalid config did not panic")
		}
	}()
	New(Config{})
}

func TestDefaultsAndRandomSecret(t *testing.T) {
	lookup := testUsersLookup()
	a := New(Config{Realm: testRealm, Lookup: lookup})
	b := New(Config{Realm: testRealm, Lookup: lookup})
	if a.ttl != DefaultNonceTTL || a.ncs.max != DefaultMaxNonces {
		t.Fatalf("defaults not applied: ttl %v max %d", a.ttl, a.ncs.max)
	}
	c := fresh(t, a, "MD5")
	if _, err := a.Verify("REGISTER", c.header(), testURI); err != nil {
		t.Fatalf("own nonce: %v", err)
	}
	c.opaque = ""
	if _, err := b.Verify("REGISTER", c.header(), testURI); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("nonce of a server with another random secret: %v", err)
	}
}

// Even someone who knew the dummy HA1 used for unknown users could not log in as one.
func TestDummyHA1NeverAuthenticates(t *testing.T) {
	s, _ := newTestServer(t, nil)
	s.dummyMD5 = md5hex("mallory:" + testRealm + ":guess")
	c := fresh(t, s, "MD5")
	c.user, c.pw = "mallory", "guess"
	if _, err := s.Verify("REGISTER", c.header(), testURI); !errors.Is(err, ErrBadCredentials) || Reason(err) != "unknown user" {
		t.Fatalf("dummy HA1 accepted: %v", err)
	}
}
