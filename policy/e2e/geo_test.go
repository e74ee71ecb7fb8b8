package e2e

import (
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
)

// Source addresses from the MaxMind test databases (testdata/geoip/COUNTRY_MAP.md), put on the loopback
// of the test's network namespace.
const (
	ipGB = "81.2.69.142"   // GB
	ipSE = "89.160.20.112" // SE
)

// Issue 5, done-when 3 (and 6): registrations from a denied country are refused; a user with a travel
// exception may register from there until it expires; an exception added by a live reload applies at once.
func TestGeoRegistrationThroughEdge(t *testing.T) {
	if !inNetns(t, netnsOptions{Addrs: []string{ipGB, ipSE}}) {
		return
	}
	k := edgetest.StartPBX(t, "alice", "bob")
	until := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second) // RFC 3339 has seconds
	e := startEdge(t, k, func(p *config.Policy) {
		p.Geo.Database = geoDB(t)
		p.Geo.Register.Deny = []string{"GB"}
		p.Geo.Unknown = "allow"
		p.Travel = []config.PolicyTravel{{User: "bob", Countries: []string{"GB"}, Until: until.UTC().Format(time.RFC3339)}}
	})

	// alice in GB: refused before the PBX is asked (no challenge: the answer is 403 at once).
	a := mustDialSIP(t, "tls", ipGB, e.TLS)
	if res := a.register("alice", "pw-alice"); status(res) != 403 || res.Reason != "Forbidden" {
		t.Fatalf("alice registering from GB: %v, want 403 Forbidden", res)
	}
	ev := waitSecEvent(t, e, match{"type": "geo_denied", "rule": "geo_register", "user": "alice"},
		"src_ip", "src_port", "country", "user", "user_agent", "call_id", "rule")
	if ev.SrcIP != ipGB || ev.Country != "GB" || ev.UserAgent != a.UA || ev.Method != "REGISTER" {
		t.Errorf("geo_denied event: %s", ev.line())
	}
	if locs, _ := k.Locations("alice"); len(locs) != 0 {
		t.Errorf("alice registered at the PBX from a denied country: %+v", locs)
	}

	// alice in SE: allowed.
	if res := mustDialSIP(t, "tls", ipSE, e.TLS).register("alice", "pw-alice"); status(res) != 200 {
		t.Fatalf("alice registering from SE: %v, want 200", res)
	}

	// bob in GB with a travel exception: allowed (and really registered at the PBX) until it expires.
	b := mustDialSIP(t, "tls", ipGB, e.TLS)
	if res := b.register("bob", "pw-bob"); status(res) != 200 {
		t.Fatalf("bob registering from GB with a travel exception: %v, want 200", res)
	}
	if _, err := k.WaitLocations(edgetest.Ctx(t, 3*time.Second), "bob", 1); err != nil {
		t.Fatalf("bob not registered at the PBX: %v", err)
	}
	if time.Now().After(until) {
		t.Fatal("test too slow: the travel exception expired before bob registered")
	}
	time.Sleep(time.Until(until) + 100*time.Millisecond)
	if res := b.register("bob", "pw-bob"); status(res) != 403 { // the refresh after expiry
		t.Fatalf("bob refreshing from GB after his exception expired: %v, want 403", res)
	}
	ev = waitSecEvent(t, e, match{"type": "geo_denied", "rule": "geo_register", "user": "bob"},
		"src_ip", "src_port", "country", "user", "user_agent", "call_id", "rule")
	if ev.Country != "GB" || ev.SrcIP != ipGB {
		t.Errorf("geo_denied event for bob: %s", ev.line())
	}

	// A travel exception for alice added by a live reload (SIGHUP) applies to her next REGISTER.
	cfg := *e.Cfg
	cfg.Policy.Travel = []config.PolicyTravel{{User: "alice", Countries: []string{"GB"}, Until: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	if err := e.App.Reload(&cfg); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if res := a.register("alice", "pw-alice"); status(res) != 200 {
		t.Fatalf("alice registering from GB after the reload added her exception: %v, want 200", res)
	}

	m := metrics(t, e)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("geo_register", "deny"), 2, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("geo_denied"), 2, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("register", "allow"), 3, true)
}
