package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/secevent"
)

func fail(f *fixture, addr, user string) {
	f.p.AuthFailed(AuthFacts{SrcIP: ip(addr), SrcPort: 40000, Transport: "TLS", Method: "REGISTER", User: user,
		UserAgent: "phone/1", CallID: "cid-" + user})
}

func TestAuthBanThresholdAndWindow(t *testing.T) {
	f := newFixture(t, "")
	attacker := "203.0.113.5"
	for i := 0; i < 4; i++ {
		fail(f, attacker, fmt.Sprint("u", i))
	}
	if !f.p.Admit(ip(attacker)) {
		t.Fatal("banned below the threshold")
	}
	fail(f, attacker, "u4")
	if f.p.Admit(ip(attacker)) {
		t.Fatal("not banned after 5 failures in 10 minutes")
	}
	if f.p.Admit(ip("::ffff:" + attacker)) {
		t.Fatal("IPv4-mapped form of a banned address admitted")
	}
	if !f.p.Admit(ip("203.0.113.6")) {
		t.Fatal("neighbour banned")
	}
	ev := f.rec.of(secevent.BanAdded)
	if len(ev) != 1 || ev[0].Rule != RuleAuthBan || ev[0].SrcIP != attacker || ev[0].SrcPort != 40000 ||
		ev[0].User != "u4" || ev[0].UserAgent != "phone/1" || ev[0].CallID != "cid-u4" || !strings.Contains(ev[0].Reason, "10m0s") {
		t.Errorf("ban_added event: %+v", ev)
	}
	if f.decisions(RuleBan, "deny") < 2 || f.decisions(RuleAuthBan, "deny") != 1 {
		t.Errorf("ban metrics: admit %v auth %v", f.decisions(RuleBan, "deny"), f.decisions(RuleAuthBan, "deny"))
	}

	// Sliding window: 4 failures, 11 minutes pass, 4 more -> never 5 within 10 minutes.
	slow := "203.0.113.7"
	for i := 0; i < 4; i++ {
		fail(f, slow, "x")
	}
	f.clk.Add(11 * time.Minute)
	for i := 0; i < 4; i++ {
		fail(f, slow, "x")
	}
	if !f.p.Admit(ip(slow)) {
		t.Fatal("banned for failures spread over more than the window")
	}
	// ...but failures that straddle the window edge count: 4 at t, 1 more at t+9m59s.
	edge := "203.0.113.8"
	for i := 0; i < 4; i++ {
		fail(f, edge, "x")
	}
	f.clk.Add(9*time.Minute + 59*time.Second)
	fail(f, edge, "x")
	if f.p.Admit(ip(edge)) {
		t.Fatal("5 failures within 10 minutes did not ban")
	}
}

func TestBanGrowthExpiryAndUnban(t *testing.T) {
	f := newFixture(t, "bans: {threshold: 1, ban_time: 10m, max_ban_time: 35m, offence_memory: 24h}")
	a := "198.51.100.20"
	want := []time.Duration{10 * time.Minute, 20 * time.Minute, 35 * time.Minute, 35 * time.Minute}
	for i, d := range want {
		fail(f, a, "x")
		if f.p.Admit(ip(a)) {
			t.Fatalf("offence %d: not banned", i+1)
		}
		f.clk.Add(d - time.Second)
		f.p.Tick()
		if f.p.Admit(ip(a)) {
			t.Fatalf("offence %d: ban shorter than %v", i+1, d)
		}
		f.clk.Add(time.Second)
		f.p.Tick()
		if !f.p.Admit(ip(a)) {
			t.Fatalf("offence %d: ban longer than %v", i+1, d)
		}
	}
	if ev := f.rec.of(secevent.BanExpired); len(ev) != 4 || ev[3].SrcIP != a {
		t.Errorf("ban_expired events: %+v", ev)
	}
	// After offence_memory without offences the next ban is short again.
	f.clk.Add(25 * time.Hour)
	f.p.Tick()
	fail(f, a, "x")
	if bans := f.p.Bans(); len(bans) != 1 || bans[0].Until.Sub(bans[0].Since) != 10*time.Minute || bans[0].Offence != 1 {
		t.Fatalf("ban after offence memory: %+v", bans)
	}
	if !f.p.Unban(ip(a)) || !f.p.Admit(ip(a)) {
		t.Fatal("Unban did not lift the ban")
	}
	if f.p.Unban(ip(a)) {
		t.Error("Unban of an unbanned IP reported true")
	}
	if ev := f.rec.of(secevent.BanRemoved); len(ev) != 1 || ev[0].SrcIP != a {
		t.Errorf("ban_removed events: %+v", ev)
	}
}

func TestAllowlistThrottlesOnlyThePair(t *testing.T) {
	f := newFixture(t, "bans: {allowlist: [192.0.2.0/24]}")
	office := "192.0.2.10"
	for i := 0; i < 10; i++ {
		fail(f, office, "mallory")
	}
	if !f.p.Admit(ip(office)) {
		t.Fatal("allowlisted office address banned")
	}
	if len(f.rec.of(secevent.BanAdded)) != 0 {
		t.Error("ban_added for an allowlisted address")
	}
	reg := func(user string) Decision {
		return f.p.Screen(ScreenFacts{SrcIP: ip(office), Method: "REGISTER", ToUser: user, FromUser: user})
	}
	if d := reg("mallory"); d.Allow || d.Rule != RuleAuthThrottle || d.Status != 403 {
		t.Fatalf("throttled pair: %+v", d)
	}
	if d := reg("alice"); !d.Allow {
		t.Fatalf("other user behind the office address refused: %+v", d)
	}
	if ev := f.rec.of(secevent.PolicyDenied); len(ev) != 2 || ev[0].Rule != RuleAuthThrottle || ev[0].User != "mallory" {
		t.Errorf("throttle events: %+v", ev)
	}
	// Two throttles (failures 5 and 10): the second lasts twice as long.
	if ev := f.rec.of(secevent.PolicyDenied); len(ev) == 2 && !strings.Contains(ev[1].Reason, "20m0s") {
		t.Errorf("second throttle does not double: %s", ev[1].Reason)
	}
	f.clk.Add(20*time.Minute - time.Second)
	if d := reg("mallory"); d.Allow {
		t.Fatal("second throttle shorter than 20m")
	}
	f.clk.Add(2 * time.Second)
	if d := reg("mallory"); !d.Allow {
		t.Fatalf("throttle did not end: %+v", d)
	}
	// Success resets the pair's failures (not the IP's).
	for i := 0; i < 4; i++ {
		fail(f, office, "bob")
	}
	f.p.AuthSucceeded(AuthFacts{SrcIP: ip(office), User: "bob"})
	fail(f, office, "bob")
	if d := reg("bob"); !d.Allow {
		t.Fatalf("bob throttled although he authenticated in between: %+v", d)
	}
}

func TestAuthDryRun(t *testing.T) {
	f := newFixture(t, "dry_run: {auth: true}\nbans: {allowlist: [192.0.2.0/24]}")
	for i := 0; i < 5; i++ {
		fail(f, "203.0.113.50", "x")
		fail(f, "192.0.2.1", "y")
	}
	if !f.p.Admit(ip("203.0.113.50")) {
		t.Error("dry run banned")
	}
	if d := f.p.Screen(ScreenFacts{SrcIP: ip("192.0.2.1"), Method: "INVITE", FromUser: "y"}); !d.Allow {
		t.Errorf("dry run throttled: %+v", d)
	}
	if ev := f.rec.of(secevent.BanAdded); len(ev) != 1 || !ev[0].DryRun {
		t.Errorf("dry-run ban not reported: %+v", ev)
	}
	if ev := f.rec.of(secevent.PolicyDenied); len(ev) != 1 || !ev[0].DryRun || ev[0].Rule != RuleAuthThrottle {
		t.Errorf("dry-run throttle not reported: %+v", ev)
	}
	if f.decisions(RuleAuthBan, "dry_run") != 1 {
		t.Error("dry-run metric not counted")
	}
}

func TestScannerUserAgent(t *testing.T) {
	for _, ua := range []string{"friendly-scanner", "sipvicious 0.3", "SIPVicious", "sipcli/v1.8", "VaxSIPUserAgent/3.1",
		"pplsip", "sundayddr", "iWar", "sip-scan", "smap 0.6"} {
		f := newFixture(t, "")
		d := f.p.Screen(ScreenFacts{SrcIP: ip("203.0.113.77"), SrcPort: 5060, Transport: "UDP", Method: "OPTIONS", UserAgent: ua, CallID: "c"})
		if d.Allow || d.Rule != RuleScannerUA || !d.Drop {
			t.Errorf("%q: %+v", ua, d)
		}
		if f.p.Admit(ip("203.0.113.77")) {
			t.Errorf("%q: not banned at the first request", ua)
		}
		sd, ba := f.rec.of(secevent.ScannerDetected), f.rec.of(secevent.BanAdded)
		if len(sd) != 1 || sd[0].UserAgent != ua || sd[0].Method != "OPTIONS" || len(ba) != 1 || ba[0].Rule != RuleScannerUA {
			t.Errorf("%q: events %+v %+v", ua, sd, ba)
		}
	}
	f := newFixture(t, "bans: {allowlist: [192.0.2.0/24]}")
	if d := f.p.Screen(ScreenFacts{SrcIP: ip("192.0.2.3"), UserAgent: "friendly-scanner"}); d.Allow {
		t.Error("scanner from an allowlisted address allowed")
	}
	if !f.p.Admit(ip("192.0.2.3")) {
		t.Error("allowlisted address banned for a scanner User-Agent")
	}
	if d := f.p.Screen(ScreenFacts{SrcIP: ip("203.0.113.1"), UserAgent: "Linphone/5.2 (belle-sip)"}); !d.Allow {
		t.Errorf("ordinary phone refused: %+v", d)
	}
	f = newFixture(t, "dry_run: {scanner: true}")
	if d := f.p.Screen(ScreenFacts{SrcIP: ip("203.0.113.1"), UserAgent: "friendly-scanner"}); !d.Allow || !d.DryRun || d.Rule != RuleScannerUA {
		t.Errorf("dry run: %+v", d)
	}
	if !f.p.Admit(ip("203.0.113.1")) {
		t.Error("dry run banned")
	}
}

func TestScannerManyToUsers(t *testing.T) {
	f := newFixture(t, "scanner: {max_to_users_per_minute: 5}\nbans: {allowlist: [192.0.2.0/24]}")
	scan := func(addr string, n int, authUser string) Decision {
		var d Decision
		for i := 0; i < n; i++ {
			d = f.p.Screen(ScreenFacts{SrcIP: ip(addr), Method: "REGISTER", ToUser: fmt.Sprint(100 + i), User: authUser})
			if !d.Allow {
				return d
			}
		}
		return d
	}
	if d := scan("203.0.113.90", 5, ""); !d.Allow {
		t.Fatalf("5 To users refused: %+v", d)
	}
	if d := scan("203.0.113.90", 5, ""); !d.Allow {
		t.Fatalf("the same 5 To users again refused: %+v", d)
	}
	d := f.p.Screen(ScreenFacts{SrcIP: ip("203.0.113.90"), Method: "REGISTER", ToUser: "999"})
	if d.Allow || d.Rule != RuleScannerToUsers || !d.Drop || f.p.Admit(ip("203.0.113.90")) {
		t.Fatalf("6th distinct To user: %+v", d)
	}
	// Spread over more than a minute: no ban.
	for i := 0; i < 10; i++ {
		f.p.Screen(ScreenFacts{SrcIP: ip("203.0.113.91"), Method: "OPTIONS", ToUser: fmt.Sprint(i)})
		f.clk.Add(13 * time.Second)
	}
	if !f.p.Admit(ip("203.0.113.91")) {
		t.Error("banned for To users spread over minutes")
	}
	// Authenticated flows and allowlisted addresses are not counted.
	if d := scan("203.0.113.92", 20, "alice"); !d.Allow {
		t.Errorf("authenticated caller banned: %+v", d)
	}
	if d := scan("192.0.2.5", 20, ""); !d.Allow {
		t.Errorf("allowlisted address banned: %+v", d)
	}
}

func TestFlood(t *testing.T) {
	f := newFixture(t, "flood: {requests_per_second: 10, burst: 20, ban_after: 50}\nbans: {allowlist: [192.0.2.0/24]}")
	req := func(addr string) Decision { return f.p.Screen(ScreenFacts{SrcIP: ip(addr), Method: "OPTIONS"}) }
	for i := 0; i < 20; i++ {
		if d := req("203.0.113.40"); !d.Allow {
			t.Fatalf("request %d of the burst refused: %+v", i, d)
		}
	}
	d := req("203.0.113.40")
	if d.Allow || d.Rule != RuleFlood || !d.Drop {
		t.Fatalf("request over the burst: %+v", d)
	}
	for i := 0; i < 10; i++ {
		req("203.0.113.40")
	}
	if ev := f.rec.of(secevent.FloodDetected); len(ev) != 1 || ev[0].Rule != RuleFlood {
		t.Errorf("flood events (one per minute): %+v", ev)
	}
	f.clk.Add(500 * time.Millisecond) // 5 tokens
	for i := 0; i < 5; i++ {
		if d := req("203.0.113.40"); !d.Allow {
			t.Fatalf("refilled token %d refused", i)
		}
	}
	if req("203.0.113.40").Allow {
		t.Fatal("more than the refill allowed")
	}
	if !req("203.0.113.41").Allow {
		t.Fatal("another IP limited")
	}
	// 50 dropped within a minute ban the IP.
	for i := 0; i < 50; i++ {
		req("203.0.113.40")
	}
	if f.p.Admit(ip("203.0.113.40")) {
		t.Fatal("persistent flood not banned")
	}
	for i := 0; i < 100; i++ {
		if !req("192.0.2.9").Allow {
			t.Fatal("allowlisted address flood-limited")
		}
	}
	f = newFixture(t, "flood: {requests_per_second: 1, burst: 1}\ndry_run: {flood: true}")
	req = func(addr string) Decision { return f.p.Screen(ScreenFacts{SrcIP: ip(addr)}) }
	req("203.0.113.40")
	if d := req("203.0.113.40"); !d.Allow || !d.DryRun || d.Rule != RuleFlood {
		t.Errorf("dry run: %+v", d)
	}
	f = newFixture(t, "flood: {requests_per_second: -1}")
	for i := 0; i < 1000; i++ {
		if !f.p.Screen(ScreenFacts{SrcIP: ip("203.0.113.40")}).Allow {
			t.Fatal("flood limit -1 still limits")
		}
	}
}

func TestConnectionRate(t *testing.T) {
	f := newFixture(t, "flood: {tls_connections_per_minute: 3}")
	a := ip("203.0.113.60")
	for i := 0; i < 3; i++ {
		if d := f.p.Connection(a); !d.Allow {
			t.Fatalf("connection %d refused", i)
		}
	}
	if d := f.p.Connection(a); d.Allow || d.Rule != RuleTLSConnections || !d.Drop {
		t.Fatalf("4th connection: %+v", d)
	}
	if ev := f.rec.of(secevent.FloodDetected); len(ev) != 1 || ev[0].Rule != RuleTLSConnections || ev[0].SrcIP != a.String() {
		t.Errorf("events: %+v", ev)
	}
	f.clk.Add(time.Minute + time.Second)
	if d := f.p.Connection(a); !d.Allow {
		t.Fatalf("connection after a minute: %+v", d)
	}
}

func TestAdmitZeroAllocs(t *testing.T) {
	f := newFixture(t, "bans: {threshold: 1}")
	fail(f, "203.0.113.1", "x")
	banned, free := ip("203.0.113.1"), ip("203.0.113.2")
	mapped := netip.AddrFrom16(banned.As16())
	if n := testing.AllocsPerRun(1000, func() {
		if f.p.Admit(banned) || !f.p.Admit(free) || f.p.Admit(mapped) {
			panic("wrong answer")
		}
	}); n != 0 {
		t.Fatalf("Admit allocates %v times per run", n)
	}
}

func BenchmarkAdmit(b *testing.B) {
	f := newFixture(b, "bans: {threshold: 1}")
	for i := 0; i < 1000; i++ {
		f.p.AuthFailed(AuthFacts{SrcIP: netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)}), User: "x"})
	}
	banned, free := ip("203.0.1.1"), ip("198.51.100.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if f.p.Admit(banned) || !f.p.Admit(free) {
			b.Fatal("wrong answer")
		}
	}
}
