package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

// The dialled numbers. The PBX routes them to desk phones registered at Kamailio under these user names,
// so an allowed call really connects: Kamailio looks the Request-URI user up in its location table.
const (
	numGB       = "+442079460958" // London fixed line: international for a US user
	numNational = "+12125551234"  // New York fixed line: national for a US user
	numPremium  = "+19005550123"  // US 900 premium rate
	numSatcom   = "+881612345678" // Iridium, region 001: high risk by default
	numHighRisk = "+97912345678"  // International Premium Rate Service: high risk by default
	numUS911    = "911"           // emergency in the US (the default region)
	numGB999    = "999"           // emergency in GB; an internal extension for a US user
)

// Issue 5, done-when 1 (and 6 for these blocks): RBAC by destination class through the edge with Kamailio
// as the PBX.
func TestDestinationClassesThroughEdge(t *testing.T) {
	k := edgetest.StartPBX(t, "alice", "ivan", "lobby", "emma", numGB, numUS911, numGB999)
	desks := deskPhones(t, k, numGB, numUS911, numGB999)
	e := startEdge(t, k, func(p *config.Policy) {
		p.DefaultRegion = "US"
		base := []string{"internal", "national", "mobile", "toll_free"}
		p.Roles = []config.PolicyRole{
			{Name: "staff", Classes: base},
			{Name: "travel", Classes: append(append([]string(nil), base...), "international")},
			// lobby may call national numbers but its budget cannot pay for a single minute.
			{Name: "lobby", Classes: base, Limits: config.PolicyLimits{DailyBudget: 0.5}},
		}
		p.Users = []config.PolicyUser{
			{Users: []string{"alice"}, Role: "staff"},
			{Users: []string{"ivan"}, Role: "travel"},
			{Users: []string{"lobby"}, Role: "lobby"},
			{Users: []string{"emma"}, Role: "staff", Region: "GB"},
		}
		p.Spend.DefaultPerMinute = 1
	})
	alice, ivan, lobby, emma := phone(t, e, "alice"), phone(t, e, "ivan"), phone(t, e, "lobby"), phone(t, e, "emma")

	// A role without international: 403, and the INVITE never reaches the PBX.
	expectRefused(t, alice, numGB)
	ev := waitSecEvent(t, e, match{"type": "policy_denied", "rule": "class", "user": "alice"}, eventFields...)
	if !strings.Contains(ev.Reason, "international") {
		t.Errorf("policy_denied reason %q does not name the class", ev.Reason)
	}
	if ev.SrcIP != "127.0.0.1" || ev.Transport != "TLS" || !strings.HasPrefix(ev.UserAgent, "sipedge-phone") {
		t.Errorf("policy_denied event has wrong source facts: %s", ev.line())
	}
	assertPBXNeverSaw(t, k, ev.CallID)

	// A role with international connects to the desk phone behind the PBX.
	c := expectConnected(t, ivan, desks[numGB], numGB)
	hangup(t, c, desks[numGB])

	// Premium rate and high-risk numbers are refused even for a role with international.
	for _, n := range []string{numPremium, numSatcom, numHighRisk} {
		expectRefused(t, ivan, n)
	}
	denied := findEvents(t, e, match{"type": "policy_denied", "rule": "class", "user": "ivan"})
	if len(denied) != 3 {
		t.Fatalf("policy_denied events for ivan: %d, want 3:\n%s", len(denied), dumpEvents(denied))
	}
	for i, want := range []string{"premium", "high_risk", "high_risk"} {
		if !strings.Contains(denied[i].Reason, want) {
			t.Errorf("denial %d reason %q, want it to name %s", i, denied[i].Reason, want)
		}
		assertPBXNeverSaw(t, k, denied[i].CallID)
	}

	// lobby is over its budget: a national call is refused by the spend rule ...
	expectRefused(t, lobby, numNational)
	waitSecEvent(t, e, match{"type": "spend_limit_reached", "rule": "spend", "user": "lobby"}, eventFields...)

	// ... but emergency numbers of the caller's region connect for every user, over budget or not.
	for _, caller := range []struct {
		name   string
		number string
	}{{"alice", numUS911}, {"ivan", numUS911}, {"lobby", numUS911}, {"emma", numGB999}} {
		ph := map[string]*softphone.Phone{"alice": alice, "ivan": ivan, "lobby": lobby, "emma": emma}[caller.name]
		c := expectConnected(t, ph, desks[caller.number], caller.number)
		hangup(t, c, desks[caller.number])
	}

	m := metrics(t, e)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("class", "deny"), 4, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("spend", "deny"), 1, false)
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("emergency", "allow"), 4, true)
	wantMetric(t, m, "sipedge_security_events_total", secType("policy_denied"), 4, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("spend_limit_reached"), 1, false)
}

// assertPBXNeverSaw checks that Kamailio's log has no request with this Call-ID.
func assertPBXNeverSaw(t *testing.T, k *testpeers.Kamailio, callID string) {
	t.Helper()
	if callID == "" {
		t.Error("security event without call_id")
		return
	}
	b, err := os.ReadFile(k.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "cid="+callID) {
		t.Errorf("the PBX received the refused call %s", callID)
	}
}
