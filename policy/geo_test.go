package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/secevent"
)

// testDB finds MaxMind's public test database (fake data; see COUNTRY_MAP.md next to it).
func testDB(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "testdata", "geoip", name) // committed copy of ../shared/testdata/geoip
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("MaxMind test database: %v", err)
	}
	return p
}

func TestMaxMindLookups(t *testing.T) {
	for _, name := range []string{"GeoLite2-Country-Test.mmdb", "GeoIP2-Country-Test.mmdb"} {
		db, err := OpenMaxMind(testDB(t, name))
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string]string{
			"81.2.69.142": "GB", "89.160.20.112": "SE", "::ffff:89.160.20.112": "SE", "2.125.160.216": "GB",
			"67.43.156.1": "BT", "2001:218::1": "JP", "216.160.83.57": "US",
			"10.0.0.1": "", "127.0.0.1": "", "1.1.1.1": "", "8.8.8.8": "", "::1": "", "2a02:d500::1": "",
		}
		for a, want := range cases {
			got, ok := db.Country(ip(a))
			if got != want || ok != (want != "") {
				t.Errorf("%s: %s = %q %v, want %q", name, a, got, ok, want)
			}
		}
		db.Close()
	}
	if _, err := OpenMaxMind("does-not-exist.mmdb"); !errors.Is(err, ErrGeoDB) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	os.WriteFile(bad, []byte("not a database"), 0o600)
	if _, err := OpenMaxMind(bad); !errors.Is(err, ErrGeoDB) {
		t.Errorf("bad file: %v", err)
	}
}

func TestGeoRegisterAndTravel(t *testing.T) {
	db, err := OpenMaxMind(testDB(t, "GeoLite2-Country-Test.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := newFixture(t, `
geo:
  database: GeoLite2-Country-Test.mmdb
  register: {allow: [SE, US], deny: [US]}
  unknown: deny
travel: [{user: alice, countries: [GB], until: "2030-01-08T00:00:00Z"}]
`, func(o *Options) { o.GeoDB = db })
	reg := func(addr, user string) Decision {
		return f.p.Register(RegisterFacts{SrcIP: ip(addr), SrcPort: 5061, Transport: "TLS", User: user, UserAgent: "ua", CallID: "c1"})
	}
	cases := []struct {
		addr, user string
		allow      bool
	}{
		{"89.160.20.112", "bob", true},      // SE allowed
		{"81.2.69.142", "bob", false},       // GB not in the allow list
		{"216.160.83.57", "bob", false},     // US allowed but also denied: deny wins
		{"81.2.69.142", "alice", true},      // travel exception for GB
		{"67.43.156.1", "alice", false},     // travel exception does not cover BT
		{"10.0.0.1", "bob", false},          // no country: unknown deny
		{"::ffff:89.160.20.113", "x", true}, // mapped form of an SE address
	}
	for _, tc := range cases {
		d := reg(tc.addr, tc.user)
		if d.Allow != tc.allow || (!tc.allow && (d.Rule != RuleGeoRegister || d.Status != 403)) {
			t.Errorf("%s from %s: %+v, want allow %v", tc.user, tc.addr, d, tc.allow)
		}
	}
	ev := f.rec.of(secevent.GeoDenied)
	if len(ev) != 4 || ev[0].Country != "GB" || ev[0].User != "bob" || ev[0].SrcIP != "81.2.69.142" || ev[0].Method != "REGISTER" ||
		ev[0].CallID != "c1" || ev[0].SrcPort != 5061 || ev[0].UserAgent != "ua" {
		t.Errorf("geo_denied events: %+v", ev)
	}
	// The travel exception expires.
	f.clk.Add(14 * time.Hour)
	if d := reg("81.2.69.142", "alice"); d.Allow {
		t.Errorf("travel exception did not expire: %+v", d)
	}
	// Calls are not restricted by the register rule; no country (unknown: deny) only matters for rules set.
	if d := dial(f, "x", "alice", "1001"); !d.Allow {
		t.Errorf("call refused by the register rule: %+v", d)
	}
}

func TestGeoUnknownAllowAndCalls(t *testing.T) {
	f := newFixture(t, `
geo: {database: x.mmdb, call: {deny: [CN]}, register: {allow: [GB]}}
default_region: GB
`, func(o *Options) { o.GeoDB = fakeGeo{ip("198.51.100.7"): "CN", ip("203.0.113.1"): "GB"} })
	if d := f.p.Register(RegisterFacts{SrcIP: ip("10.1.1.1"), User: "u"}); !d.Allow {
		t.Errorf("private address refused with unknown: allow: %+v", d)
	}
	if d := dial(f, "1", "u", "02071838750"); d.Allow || d.Rule != RuleGeoCall {
		t.Errorf("call from a denied country: %+v", d)
	}
	if d := dial(f, "2", "u", "999"); !d.Allow || d.Rule != RuleEmergency {
		t.Errorf("emergency call from a denied country: %+v", d)
	}
	if ev := f.rec.of(secevent.GeoDenied); len(ev) != 1 || ev[0].Country != "CN" || ev[0].Rule != RuleGeoCall {
		t.Errorf("events: %+v", ev)
	}
	f = newFixture(t, "geo: {database: x.mmdb, register: {deny: [CN]}}\ndry_run: {geo: true}",
		func(o *Options) { o.GeoDB = fakeGeo{ip("198.51.100.7"): "CN"} })
	if d := f.p.Register(RegisterFacts{SrcIP: ip("198.51.100.7"), User: "u"}); !d.Allow || !d.DryRun || d.Rule != RuleGeoRegister {
		t.Errorf("dry run: %+v", d)
	}
}

func TestNewNeedsGeoDB(t *testing.T) {
	_, err := New(parsePolicy(t, "geo: {database: x.mmdb, register: {deny: [CN]}}"), Options{})
	if !errors.Is(err, ErrNoGeoDB) {
		t.Errorf("New without GeoDB: %v", err)
	}
	_, err = New(parsePolicy(t, "default_region: QQ"), Options{})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("New with a bad config: %v", err)
	}
	f := newFixture(t, "")
	if err := f.p.Reload(parsePolicy(t, "geo: {database: x.mmdb}")); !errors.Is(err, ErrNoGeoDB) {
		t.Errorf("Reload to geo rules without a database: %v", err)
	}
	f.p.SetGeoDB(fakeGeo{})
	if err := f.p.Reload(parsePolicy(t, "geo: {database: x.mmdb}")); err != nil {
		t.Errorf("Reload after SetGeoDB: %v", err)
	}
}
