package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    credentials // compared without seen
		wantErr error
	}{
		{name: "tokens and quoted", in: `Digest username="alice", realm=r, nc=00000001, qop=auth`,
			want: credentials{username: "alice", realm: "r", nc: "00000001", qop: "auth"}},
		{name: "case-insensitive scheme and names", in: `dIgEsT USERNAME="a", Realm="b", NoNcE=c`,
			want: credentials{username: "a", realm: "b", nonce: "c"}},
		{name: "escapes", in: `Digest username="a\"b\\c\d", realm="x"`,
			want: credentials{username: `a"b\cd`, realm: "x"}},
		{name: "comma and equals inside quotes", in: `Digest realm="a, b=c", username="u"`,
			want: credentials{realm: "a, b=c", username: "u"}},
		{name: "spaces around = and ,", in: "Digest  username = \"u\" ,\trealm\t=\tr ,qop= auth",
			want: credentials{username: "u", realm: "r", qop: "auth"}},
		{name: "folded lines", in: "Digest username=\"u\",\r\n realm=\"r\"",
			want: credentials{username: "u", realm: "r"}},
		{name: "empty list elements", in: `Digest , username="u",, ,realm="r",`,
			want: credentials{username: "u", realm: "r"}},
		{name: "unknown params ignored", in: `Digest foo="x,y", username="u", bar=baz`,
			want: credentials{username: "u"}},
		{name: "empty quoted value", in: `Digest username="", realm=""`,
			want: credentials{}},
		{name: "unquoted uri token", in: `Digest uri=sip:bob@example.com;transport=tcp`,
			want: credentials{uri: "sip:bob@example.com;transport=tcp"}},
		{name: "utf-8 in quotes", in: `Digest username="jörg"`, want: credentials{username: "jörg"}},
		{name: "scheme only", in: "Digest", want: credentials{}},

		{name: "basic", in: "Basic dXNlcjpwdw==", wantErr: errNotDigest},
		{name: "digest glued", in: `Digestusername="u"`, wantErr: errNotDigest},
		{name: "empty", in: "", wantErr: errNotDigest},
		{name: "unterminated", in: `Digest username="u`, wantErr: errSyntax},
		{name: "trailing backslash", in: `Digest username="u\`, wantErr: errSyntax},
		{name: "unterminated after escape", in: `Digest username="u\"`, wantErr: errSyntax},
		{name: "missing =", in: `Digest username "u"`, wantErr: errSyntax},
		{name: "missing value", in: `Digest username=, realm=r`, wantErr: errSyntax},
		{name: "missing comma", in: `Digest username="u" realm="r"`, wantErr: errSyntax},
		{name: "junk after quote", in: `Digest username="u"x, realm=r`, wantErr: errSyntax},
		{name: "quote inside token", in: `Digest username=u"x"`, wantErr: errSyntax},
		{name: "no name", in: `Digest ="u"`, wantErr: errSyntax},
		{name: "duplicate", in: `Digest username="u", USERNAME="v"`, wantErr: errDuplicate},
		{name: "nul in quotes", in: "Digest username=\"u\x00\"", wantErr: errControl},
		{name: "control in token", in: "Digest username=u\x01", wantErr: errSyntax},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseCredentials(c.in)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v (parsed %+v)", err, c.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			got.seen = 0
			if got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b`, `back\slash`, `"\\"`, "a, b=c"} {
		c, err := parseCredentials("Digest username=" + quote(s))
		if err != nil || c.username != s {
			t.Errorf("quote(%q) round trip = %q, %v", s, c.username, err)
		}
	}
}

// format writes c back as a header with every known field quoted.
func (c credentials) format() string {
	var b strings.Builder
	b.WriteString("Digest ")
	for _, f := range []struct {
		name string
		val  string
		bit  uint16
	}{
		{"username", c.username, pUsername}, {"realm", c.realm, pRealm}, {"nonce", c.nonce, pNonce},
		{"uri", c.uri, pURI}, {"response", c.response, pResponse}, {"algorithm", c.algorithm, pAlgorithm},
		{"cnonce", c.cnonce, pCnonce}, {"opaque", c.opaque, pOpaque}, {"qop", c.qop, pQop},
		{"nc", c.nc, pNC}, {"userhash", c.userhash, pUserhash},
	} {
		if c.seen&f.bit != 0 {
			b.WriteString(f.name + "=" + quote(f.val) + ", ")
		}
	}
	return b.String()
}

func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{
		`Digest username="alice", realm="sip.example.com", nonce="abc", uri="sip:x", response="0123", algorithm=MD5, cnonce="c", qop=auth, nc=00000001, opaque="o"`,
		`Digest username="a\"b", realm="x,y"`,
		"digest USERNAME=u ,, realm = \"r\"\r\n ,",
		`Digest username="u`,
		`Digest username="u\`,
		`Basic abc`,
		"",
	} {
		f.Add(s)
	}
	s, _ := newTestServer(f, nil)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := parseCredentials(in)
		// Verify must not panic on anything either.
		_, verr := s.Verify("REGISTER", in, testURI)
		if verr == nil {
			t.Fatalf("random input authenticated: %q", in)
		}
		if err != nil {
			return
		}
		// Property: what parsed re-parses identically after re-formatting.
		c2, err := parseCredentials(c.format())
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", c.format(), in, err)
		}
		if c2 != c {
			t.Fatalf("round trip changed values:\n%+v\n%+v", c, c2)
		}
	})
}
