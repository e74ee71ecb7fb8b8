package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deploy/edge.example.yaml is what operators copy: it must stay valid as the configuration evolves. Its
// certificate and GeoIP paths are replaced by files that exist here; nothing else is changed.
func TestDeployExampleIsValid(t *testing.T) {
	raw, err := os.ReadFile("../deploy/edge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := string(raw)
	for _, p := range []string{"/etc/sipedge/tls/fullchain.pem", "/etc/sipedge/tls/privkey.pem", "/var/lib/GeoIP/GeoLite2-Country.mmdb",
		"/etc/sipedge/admin.token"} {
		if !strings.Contains(text, p) {
			t.Fatalf("the example no longer names %s; update this test", p)
		}
		local := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(local, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, p, local)
	}
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatalf("deploy/edge.example.yaml: %v", err)
	}
	if c.Media.Advertise != "203.0.113.10" || c.Listen.Advertise != "edge.example.com" || len(c.Policy.Roles) != 2 ||
		c.Auth.Mode != "passthrough" || len(c.Listen.Access) != 1 {
		t.Errorf("the example parsed to something else than it says: media.advertise %q, listen.advertise %q, %d roles, auth %q, access %v",
			c.Media.Advertise, c.Listen.Advertise, len(c.Policy.Roles), c.Auth.Mode, c.Listen.Access)
	}
}
