package e2e

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
)

const (
	ipAttacker  = "89.160.20.113" // SE: guesses alice's password
	ipOffice    = "81.2.69.144"   // GB: the office NAT, allowlisted
	ipBystander = "216.160.83.57" // US: alice on the road, and the control for the UDP probes
	ipScanner   = "67.43.156.1"   // BT: a scanner User-Agent
	ipSweeper   = "111.235.160.1" // CN: many different To users (extension scan with a browser-like UA)
)

// Issue 5, done-when 4 (and 6): password guessing from one IP is banned after the threshold (later
// connections are refused before any SIP is read) while users behind the allowlisted office address keep
// registering; a scanner User-Agent is banned at its first request; an extension sweep is banned too.
func TestAuthBansThroughEdge(t *testing.T) {
	if !inNetns(t, netnsOptions{Addrs: []string{ipAttacker, ipOffice, ipBystander, ipScanner, ipSweeper}}) {
		return
	}
	k := edgetest.StartPBX(t, "alice", "bob", "carol")
	e := startEdge(t, k, func(p *config.Policy) {
		p.Geo.Database = geoDB(t) // countries in the events; no geo rules
		p.Bans.Allowlist = []string{ipOffice + "/32"}
		// defaults: 5 failures in 10 minutes ban for 10 minutes
	})
	threshold := e.Cfg.Policy.Bans.Threshold

	// In the office, carol mistypes her password until she is throttled: only carol, only there.
	office := mustDialSIP(t, "tls", ipOffice, e.TLS)
	for i := 1; i <= threshold; i++ {
		if res := office.register("carol", "wrong"); status(res) != 401 {
			t.Fatalf("carol's wrong password %d from the office: %v, want 401", i, res)
		}
	}
	if res := office.register("carol", "pw-carol"); status(res) != 403 {
		t.Fatalf("carol after %d failures from the office: %v, want 403 (throttled)", threshold, res)
	}
	ev := waitSecEvent(t, e, match{"type": "policy_denied", "rule": "auth_throttle", "user": "carol"},
		"src_ip", "src_port", "country", "user", "user_agent", "call_id", "rule")
	if ev.SrcIP != ipOffice || ev.Country != "GB" {
		t.Errorf("auth_throttle event: %s", ev.line())
	}
	if res := mustDialSIP(t, "tls", ipOffice, e.TLS).register("bob", "pw-bob"); status(res) != 200 {
		t.Fatalf("bob from the office after carol was throttled: %v, want 200", res)
	}

	// From the attacker's address, guessing alice's password: banned after the threshold.
	att := mustDialSIP(t, "tls", ipAttacker, e.TLS)
	for i := 1; i <= threshold; i++ {
		if res := att.register("alice", fmt.Sprintf("guess%d", i)); status(res) != 401 {
			t.Fatalf("guess %d: %v, want 401", i, res)
		}
	}
	ban := waitSecEvent(t, e, match{"type": "ban_added", "rule": "auth_ban", "src_ip": ipAttacker},
		"src_ip", "src_port", "country", "user", "user_agent", "call_id", "rule")
	if ban.Country != "SE" || ban.User != "alice" {
		t.Errorf("ban_added event: %s", ban.line())
	}
	// The connection in use is closed at its next request, even with the right password ...
	att.Wait = time.Second
	if res := att.register("alice", "pw-alice"); res != nil {
		t.Fatalf("banned source got an answer on its open connection: %v", res)
	}
	// ... a new TLS connection is refused before its handshake (so before any SIP is read) ...
	if c, err := dialSIP(t, "tls", ipAttacker, e.TLS); err == nil {
		t.Fatalf("banned source completed a TLS handshake (%s)", c.Local)
	}
	// ... and UDP datagrams are dropped unanswered.
	udp := mustDialSIP(t, "udp", ipAttacker, e.UDP)
	udp.Wait = time.Second
	if res := udp.register("alice", "pw-alice"); res != nil {
		t.Fatalf("banned source got an answer over UDP: %v", res)
	}
	if locs, _ := k.Locations("alice"); len(locs) != 0 {
		t.Fatalf("alice registered from the banned address: %+v", locs)
	}
	// The office and the real alice elsewhere are not affected.
	if res := mustDialSIP(t, "tls", ipOffice, e.TLS).register("bob", "pw-bob"); status(res) != 200 {
		t.Fatalf("bob from the office after the attacker's ban: %v, want 200", res)
	}
	if res := mustDialSIP(t, "tls", ipBystander, e.TLS).register("alice", "pw-alice"); status(res) != 200 {
		t.Fatalf("alice from another address after the attacker's ban: %v, want 200", res)
	}
	failed := findEvents(t, e, match{"type": "auth_failed", "src_ip": ipAttacker})
	if len(failed) != threshold {
		t.Errorf("auth_failed events from the attacker: %d, want %d (nothing after the ban reaches the PBX)", len(failed), threshold)
	}
	for _, f := range failed {
		for _, field := range []string{"time", "src_ip", "src_port", "user", "user_agent", "call_id", "reason"} {
			if _, ok := f.fields[field]; !ok {
				t.Errorf("auth_failed event lacks %s: %s", field, f.line())
			}
		}
	}

	// A scanner User-Agent: banned at its first request, which gets no answer; so does everything after.
	ctl := mustDialSIP(t, "udp", ipBystander, e.UDP)
	ctl.UA = "friendly-scanner"
	scan := mustDialSIP(t, "udp", ipScanner, e.UDP)
	scan.UA, scan.Wait = "friendly-scanner", time.Second
	if res := scan.register("100", "100"); res != nil {
		t.Fatalf("scanner User-Agent got an answer: %v", res)
	}
	sc := waitSecEvent(t, e, match{"type": "scanner_detected", "rule": "scanner_ua", "src_ip": ipScanner},
		"src_ip", "src_port", "country", "user_agent", "call_id", "rule")
	if sc.Country != "BT" || sc.UserAgent != "friendly-scanner" {
		t.Errorf("scanner_detected event: %s", sc.line())
	}
	waitSecEvent(t, e, match{"type": "ban_added", "rule": "scanner_ua", "src_ip": ipScanner}, "src_ip", "country", "user_agent", "rule")
	scan.UA = "Yealink SIP-T46S"
	if res := scan.register("100", "100"); res != nil {
		t.Fatalf("banned scanner got an answer with another User-Agent: %v", res)
	}
	ctl.UA = "Yealink SIP-T46S" // control: the same request from an innocent address is answered
	if res := ctl.register("alice", "wrong"); status(res) != 401 {
		t.Fatalf("control REGISTER over UDP: %v, want 401", res)
	}

	// An extension sweep with an innocent-looking User-Agent: many To users from one address.
	sw := mustDialSIP(t, "udp", ipSweeper, e.UDP)
	sw.UA = "Yealink SIP-T46S"
	max := e.Cfg.Policy.Scanner.MaxToUsersPerMinute
	answered := 0
	for i := 0; i <= max+2; i++ {
		u := fmt.Sprintf("sip:%d@%s", 1000+i, domain)
		sw.send(sw.request("OPTIONS", u, "sip:scan@"+domain, u, ""))
		if res := sw.final(300 * time.Millisecond); res != nil {
			answered++
		}
	}
	if answered != max {
		t.Errorf("sweep: %d of %d requests answered, want the first %d", answered, max+3, max)
	}
	waitSecEvent(t, e, match{"type": "ban_added", "rule": "scanner_to_users", "src_ip": ipSweeper}, "src_ip", "country", "rule")

	banned := map[string]bool{}
	for _, b := range e.App.Policy.Bans() {
		banned[b.IP.String()] = true
	}
	for ip, want := range map[string]bool{ipAttacker: true, ipScanner: true, ipSweeper: true, ipOffice: false, ipBystander: false} {
		if banned[ip] != want {
			t.Errorf("%s banned: %v, want %v", ip, banned[ip], want)
		}
	}
	if e.App.Policy.Admit(netip.MustParseAddr(ipOffice)) == false {
		t.Error("the allowlisted office address is refused")
	}

	m := metrics(t, e)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("auth_ban", "deny"), 1, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("auth_throttle", "deny"), 2, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("scanner_ua", "deny"), 1, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("scanner_to_users", "deny"), 1, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("ban", "deny"), 3, true)
	wantMetric(t, m, "sipedge_policy_bans_added_total", nil, 3, false)
	wantMetric(t, m, "sipedge_policy_bans_active", nil, 3, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("ban_added"), 3, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("scanner_detected"), 2, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("auth_failed"), float64(2*threshold), true)

	// Every auth_failed event from an address with a country carries it (issue 5: "each with ... country").
	for _, f := range findEvents(t, e, match{"type": "auth_failed"}) {
		if f.Country == "" {
			t.Errorf("auth_failed event from %s without its country: %s", f.SrcIP, f.line())
			break
		}
	}
}
