package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("default config invalid: %v", errs)
	}
	if !c.Standalone() || c.Auth.Mode != "local" {
		t.Fatalf("defaults must be standalone with local auth, got mode %q", c.Auth.Mode)
	}
}

func TestDefaultYAMLRoundTrips(t *testing.T) {
	c, err := Parse([]byte(DefaultYAML()))
	if err != nil {
		t.Fatalf("default YAML does not parse: %v", err)
	}
	d := Default()
	if c.Media.PortRange != d.Media.PortRange || c.Limits.ReadTimeout != d.Limits.ReadTimeout ||
		len(c.Listen.Access) != 3 || c.Admin.Listen != d.Admin.Listen || c.Auth.Mode != "local" {
		t.Fatalf("round trip changed values: %+v", c)
	}
	// Every field has a doc comment.
	for _, f := range fields() {
		if strings.TrimSpace(f.Doc) == "" {
			t.Errorf("field %s has no doc tag", f.Path)
		}
	}
}

func TestUnknownKeyAndBadPortReportedTogether(t *testing.T) {
	in := `
log:
  level: info
  colour: blue
listen:
  access:
    - tls://0.0.0.0:5061
    - tcp://0.0.0.0:99999
pbx:
  targets: [udp://127.0.0.1:5060]
`
	_, err := Parse([]byte(in))
	var es Errors
	if !errors.As(err, &es) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := map[string]int{"log.colour": 4, "listen.access[1]": 8}
	for path, line := range want {
		found := false
		for _, e := range es {
			if e.Path == path {
				found = true
				if e.Line != line {
					t.Errorf("%s: line %d, want %d", path, e.Line, line)
				}
			}
		}
		if !found {
			t.Errorf("no error for %s in %v", path, es)
		}
	}
	if len(es) != 2 {
		t.Errorf("want exactly 2 errors, got %v", es)
	}
	if !strings.Contains(es.Error(), "99999") {
		t.Errorf("message does not name the bad port: %v", es)
	}
}

func TestValidateTable(t *testing.T) {
	cases := []struct {
		name, yaml, path, msg string
	}{
		{"bad level", "log: {level: loud}", "log.level", "not one of"},
		{"bad format", "log: {format: xml}", "log.format", "not one of"},
		{"no tls", "listen: {access: [tcp://0.0.0.0:5060]}", "listen.access", "tls://"},
		{"host name listener", "listen: {access: [tls://example.com:5061]}", "listen.access[0]", "IP address"},
		{"bad scheme", "listen: {access: [http://0.0.0.0:80]}", "listen.access[0]", "not supported"},
		{"no port", "listen: {access: [tls://0.0.0.0]}", "listen.access[0]", "no port"},
		{"dup listener", "listen: {access: [tls://0.0.0.0:5061, tls://0.0.0.0:5061]}", "listen.access[1]", "duplicates"},
		{"bad core", "listen: {core: 'sip:pbx'}", "listen.core", ""},
		{"admin port", "admin: {listen: '127.0.0.1:70000'}", "admin.listen", "out of range"},
		{"cert without key", "tls: {cert_file: /nonexistent.pem}", "tls.key_file", "together"},
		{"missing cert", "tls: {cert_file: /nonexistent.pem, key_file: /nonexistent.key}", "tls.cert_file", "cannot read"},
		{"tls version", "tls: {min_version: '1.0'}", "tls.min_version", "not one of"},
		{"bad target", "pbx: {targets: ['udp://pbx']}", "pbx.targets[0]", "no port"},
		{"bad mode", "pbx: {mode: random, targets: [udp://127.0.0.1:5060]}", "pbx.mode", "not one of"},
		{"passthrough standalone", "auth: {mode: passthrough}", "auth.mode", "needs pbx.targets"},
		{"bad duration", "media: {timeout: soon}", "media.timeout", "not a duration"},
		{"negative duration", "media: {timeout: -5s}", "media.timeout", "positive"},
		{"port range", "media: {port_range: '30000-20000'}", "media.port_range", "FIRST <= LAST"},
		{"srtp", "media: {srtp: maybe}", "media.srtp", "not one of"},
		{"access ip", "media: {access_ip: somewhere}", "media.access_ip", "not an IP"},
		{"media advertise", "media: {advertise: public.example}", "media.advertise", "not an IP"},
		{"admin token file", "admin: {token_file: /nonexistent-token}", "admin.token_file", "cannot read"},
		{"media advertise any", "media: {advertise: 0.0.0.0}", "media.advertise", "cannot be advertised"},
		{"mixed tls targets", "listen: {core: 'tls://127.0.0.1:5071'}\npbx: {targets: ['tls://127.0.0.1:5061', 'udp://127.0.0.1:5060']}", "pbx.targets", "every PBX target or none"},
		{"tls targets, tcp core", "pbx: {targets: ['tls://127.0.0.1:5061']}", "listen.core", "unencrypted"},
		{"tls core, udp targets", "listen: {core: 'tls://127.0.0.1:5071'}\npbx: {targets: ['udp://127.0.0.1:5060']}", "listen.core", "tls:// targets too"},
		{"core srtp without tls", "pbx: {targets: ['udp://127.0.0.1:5060']}\nmedia: {core_srtp: required}", "media.core_srtp", "keys would otherwise"},
		{"core srtp value", "media: {core_srtp: maybe}", "media.core_srtp", "not one of"},
		{"pbx ca file", "pbx: {tls: {ca_file: /nonexistent-ca.pem}}", "pbx.tls.ca_file", "cannot read"},
		{"store", "store: {url: 'mysql://x'}", "store.url", "not supported"},
		{"type error", "limits: {max_message_size: big}", "limits.max_message_size", "expected int"},
		{"list expected", "pbx: {targets: udp://127.0.0.1:5060}", "pbx.targets", "expected a list"},
		{"msg size", "limits: {max_message_size: 100}", "limits.max_message_size", "out of range"},
		{"not a mapping", "- a\n- b", "(file)", "mapping"},
		{"not yaml", "log: [", "(file)", "not valid YAML"},
		{"typo suggestion", "lisen: {}", "lisen", `did you mean "listen"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("want errors, got %v", err)
			}
			for _, e := range es {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no error %q at %s in %v", tc.msg, tc.path, es)
		})
	}
}

func TestLoadFileAndPaths(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "edge.yaml")
	os.WriteFile(p, []byte("data_dir: /var/lib/sipedge\npbx:\n  targets: [tcp://127.0.0.1:5080]\n"), 0o600)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.Mode != "passthrough" {
		t.Errorf("auth.mode default with targets = %q, want passthrough", c.Auth.Mode)
	}
	if got := c.Path(c.SecurityLog.File); got != "/var/lib/sipedge/security.log" {
		t.Errorf("security log path %q", got)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Listen != "127.0.0.1:9090" {
		t.Fatalf("got %q", c.Admin.Listen)
	}
}

func TestDocsInSync(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatalf("docs/configuration.md missing (run make docs): %v", err)
	}
	if string(b) != MarkdownReference() {
		t.Fatal("docs/configuration.md is out of date: run `make docs`")
	}
}

func TestAdminTokenFileTooShort(t *testing.T) {
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Parse([]byte("admin: {token_file: " + f + "}\n"))
	if err == nil || !strings.Contains(err.Error(), "admin.token_file") || !strings.Contains(err.Error(), "shorter than 16") {
		t.Fatalf("err = %v, want a short-token error", err)
	}
	if err := os.WriteFile(f, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte("admin: {token_file: " + f + "}\n")); err != nil {
		t.Fatalf("a 20-character token: %v", err)
	}
}
