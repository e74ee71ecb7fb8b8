package softphone

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseEdge(t *testing.T) {
	cases := []struct {
		in   string
		want Target
		bad  bool
	}{
		{"tls://edge.example.com:5061", Target{"TLS", "edge.example.com", 5061}, false},
		{"tls://127.0.0.1", Target{"TLS", "127.0.0.1", 5061}, false},
		{"tcp://127.0.0.1:5080", Target{"TCP", "127.0.0.1", 5080}, false},
		{"udp://[::1]:5060", Target{"UDP", "::1", 5060}, false},
		{"sips:edge.example.com", Target{"TLS", "edge.example.com", 5061}, false},
		{"sip:10.0.0.1:5070;transport=tcp", Target{"TCP", "10.0.0.1", 5070}, false},
		{"edge.example.com:7000", Target{"TLS", "edge.example.com", 7000}, false},
		{"ftp://x", Target{}, true},
		{"tls://host:99999", Target{}, true},
		{"", Target{}, true},
		{"tls://:5061", Target{}, true},
	}
	for _, c := range cases {
		got, err := ParseEdge(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("ParseEdge(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func TestParseFingerprint(t *testing.T) {
	sum := sha256.Sum256([]byte("cert"))
	colon := FormatFingerprintSum(sum[:])
	for _, in := range []string{colon, strings.ToLower(colon), strings.TrimPrefix(colon, "SHA256:"),
		strings.ReplaceAll(colon, ":", "")[len("SHA256"):], "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]),
		"sha-256:" + base64.StdEncoding.EncodeToString(sum[:])} {
		got, err := ParseFingerprint(in)
		if err != nil || string(got) != string(sum[:]) {
			t.Errorf("ParseFingerprint(%q) = %x, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "SHA256:", "SHA256:AB:CD", "SHA256:zz" + strings.Repeat("00", 31), "MD5:aGVsbG8="} {
		if _, err := ParseFingerprint(in); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted", in)
		}
	}
	if FormatFingerprint([]byte("cert")) != colon {
		t.Error("FormatFingerprint disagrees with FormatFingerprintSum")
	}
}

func TestAccountValidateNamesField(t *testing.T) {
	base := func() Account {
		a := Account{User: "alice", Password: "x"}
		a.ApplyDefaults()
		return a
	}
	cases := []struct {
		mod   func(*Account)
		field string
	}{
		{func(a *Account) { a.User = "" }, "user"},
		{func(a *Account) { a.User = "al ice" }, "user"},
		{func(a *Account) { a.Edge = "gopher://x" }, "edge"},
		{func(a *Account) { a.Fingerprint = "SHA256:nope" }, "fingerprint"},
		{func(a *Account) { a.Fingerprint = FormatFingerprint([]byte("x")); a.Insecure = true }, "insecure"},
		{func(a *Account) { a.CAFile = "/does/not/exist.pem" }, "ca_file"},
		{func(a *Account) { a.SRTP = "maybe" }, "srtp"},
		{func(a *Account) { a.Codecs = []string{"PCMU", "opus"} }, "codecs[1]"},
		{func(a *Account) { a.RegisterExpires = time.Second }, "register_expires"},
		{func(a *Account) { a.LocalIP = "here" }, "local_ip"},
	}
	for _, c := range cases {
		a := base()
		c.mod(&a)
		err := a.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("want an error naming %q, got %v", c.field, err)
		}
	}
	if a := base(); a.Validate() != nil || a.Domain != "127.0.0.1" || a.SRTP != SRTPRequired || len(a.Codecs) != 3 {
		t.Errorf("defaults: %+v", a)
	}
}

func TestLoadFileAndOverrides(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "phone.yaml")
	cfg := `accounts:
  - name: work
    edge: tls://edge.example.com:5061
    user: alice
    password: s3cret
    fingerprint: SHA256:` + strings.Repeat("AB:", 31) + `AB
    register_expires: 300s
  - name: lab
    edge: tcp://127.0.0.1:5060
    user: bob
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Account("", Overrides{})
	if err != nil || a.Name != "work" || a.Domain != "edge.example.com" || a.RegisterExpires != 300*time.Second {
		t.Errorf("default account %+v, %v", a, err)
	}
	yes := true
	a, err = f.Account("lab", Overrides{User: "carol", Insecure: &yes})
	if err != nil || a.User != "carol" || !a.Insecure || a.Edge != "tcp://127.0.0.1:5060" {
		t.Errorf("lab with overrides %+v, %v", a, err)
	}
	if _, err := f.Account("home", Overrides{}); !errors.Is(err, ErrNoAccount) {
		t.Errorf("unknown account: %v", err)
	}
	// No file at the default path: flags alone define the account.
	empty, err := LoadFile(filepath.Join(dir, "missing.yaml"), true)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := empty.Account("", Overrides{User: "dave"}); err != nil || a.Edge != DefaultEdge {
		t.Errorf("flags-only account %+v, %v", a, err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml"), false); !errors.Is(err, ErrConfig) {
		t.Errorf("explicit missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("accounts:\n  - usr: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path, false); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "usr") {
		t.Errorf("unknown field: %v", err)
	}
}

func TestInstanceIDStable(t *testing.T) {
	dir := t.TempDir()
	a, err := InstanceID(dir, "work")
	if err != nil || !uuidRe.MatchString(a) {
		t.Fatalf("%q %v", a, err)
	}
	b, _ := InstanceID(dir, "work")
	c, _ := InstanceID(dir, "home")
	if a != b || a == c {
		t.Errorf("ids %s %s %s", a, b, c)
	}
	if err := os.WriteFile(filepath.Join(dir, "instance-bad.uuid"), []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := InstanceID(dir, "bad"); !errors.Is(err, ErrConfig) {
		t.Errorf("corrupt id file: %v", err)
	}
}
