package e2e

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
)

const extDesk = "200" // an internal extension: a desk phone at the PBX

// Issue 5, done-when 2 (and 1 "emergency over budget", 6): toll-fraud limits through the edge with Kamailio
// as the PBX. Each user has its own limit so that the refusals are attributable to one rule.
func TestFraudLimitsThroughEdge(t *testing.T) {
	k := edgetest.StartPBX(t, "conny", "minnie", "hugo", "gina", "sam", extDesk, numGB, numUS911)
	desks := deskPhones(t, k, extDesk, numGB, numUS911)
	users := []config.PolicyUser{
		{Users: []string{"conny"}, Role: "intl", Limits: config.PolicyLimits{ConcurrentCalls: 1}},
		{Users: []string{"minnie"}, Role: "intl", Limits: config.PolicyLimits{CallsPerMinute: 2}},
		{Users: []string{"hugo"}, Role: "intl", Limits: config.PolicyLimits{InternationalPerHour: 1}},
		{Users: []string{"gina"}, Role: "intl"},
		{Users: []string{"sam"}, Role: "intl", Limits: config.PolicyLimits{DailyBudget: 100}},
	}
	e := startEdge(t, k, func(p *config.Policy) {
		p.Roles = []config.PolicyRole{{Name: "intl", Classes: []string{"internal", "national", "mobile", "toll_free", "international"}}}
		p.Users = users
		p.MaxInternationalCalls = 1
		p.Limits.DailyBudget = 1000
		p.Spend.Rates = []config.PolicyRate{{Prefix: "+44", PerMinute: 60}} // one unit per second
	})
	conny, minnie, hugo, gina, sam := phone(t, e, "conny"), phone(t, e, "minnie"), phone(t, e, "hugo"),
		phone(t, e, "gina"), phone(t, e, "sam")

	// Concurrent calls: conny may have one call at a time.
	c := expectConnected(t, conny, desks[extDesk], extDesk)
	expectRefused(t, conny, extDesk)
	waitSecEvent(t, e, match{"type": "policy_denied", "rule": "concurrent", "user": "conny"}, eventFields...)
	hangup(t, c, desks[extDesk])
	c = expectConnected(t, conny, desks[extDesk], extDesk) // the slot is free again
	hangup(t, c, desks[extDesk])

	// Calls per minute: minnie may start two calls a minute; the third is refused.
	for range 2 {
		c = expectConnected(t, minnie, desks[extDesk], extDesk)
		hangup(t, c, desks[extDesk])
	}
	expectRefused(t, minnie, extDesk)
	waitSecEvent(t, e, match{"type": "policy_denied", "rule": "rate_minute", "user": "minnie"}, eventFields...)

	// International calls per hour: hugo may make one; while it is up, the global cap of one concurrent
	// international call refuses gina's.
	c = expectConnected(t, hugo, desks[numGB], numGB)
	expectRefused(t, gina, numGB)
	waitSecEvent(t, e, match{"type": "policy_denied", "rule": "international_global", "user": "gina"}, eventFields...)
	hangup(t, c, desks[numGB])
	expectRefused(t, hugo, numGB)
	waitSecEvent(t, e, match{"type": "policy_denied", "rule": "international_hour", "user": "hugo"}, eventFields...)

	// Daily spend: sam's call costs one unit a second. The policy only admits a call whose first minute
	// the remaining budget covers, so a call can never exhaust it in less than a minute on its own; to
	// stay fast, the operator lowers sam's budget below what the call has already cost (a live reload,
	// as on SIGHUP). The next policy tick (every second) finds the spend over the budget and the edge
	// ends the call with a BYE to both sides.
	c = expectConnected(t, sam, desks[numGB], numGB)
	time.Sleep(1500 * time.Millisecond)
	cfg := *e.Cfg
	cfg.Policy.Users = append([]config.PolicyUser(nil), users...)
	cfg.Policy.Users[4].Limits.DailyBudget = 1
	start := time.Now()
	if err := e.App.Reload(&cfg); err != nil {
		t.Fatalf("reload: %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("call still up 5 s after its budget ran out")
	}
	closed := waitB(t, desks[numGB], 5*time.Second, testpeers.EventCallClosed)
	t.Logf("call ended %v after the budget ran out (callee: %q, caller: %d %s)", time.Since(start).Round(time.Millisecond),
		closed.Param, c.Info().Code, c.Info().Reason)
	if i := c.Info(); i.Answered == nil || i.Reason != "remote hangup" {
		t.Errorf("sam's call: want answered, then ended by a BYE from the edge: %+v", i)
	}
	term := waitSecEvent(t, e, match{"type": "call_terminated_by_policy", "rule": "spend", "user": "sam"}, "user", "call_id", "rule")
	if closed.ID != term.CallID {
		t.Errorf("call_terminated_by_policy names Call-ID %q, the callee's call was %q", term.CallID, closed.ID)
	}
	waitSecEvent(t, e, match{"type": "spend_limit_reached", "rule": "spend", "user": "sam", "call_id": term.CallID}, "user", "call_id", "rule")
	if len(e.App.Proxy.Dialogs()) != 0 {
		t.Errorf("dialogs left after the policy ended the call: %+v", e.App.Proxy.Dialogs())
	}
	if log, _ := os.ReadFile(k.LogPath()); !bytes.Contains(log, []byte("<- BYE")) || !bytes.Contains(log, []byte("cid="+term.CallID)) {
		t.Error("the PBX did not see the edge's BYE toward the callee")
	}

	// Over budget, a new international call is refused up front, but the emergency number connects.
	expectRefused(t, sam, numGB)
	denied := waitSecEvent(t, e, match{"type": "spend_limit_reached", "rule": "spend", "user": "sam", "method": "INVITE"}, eventFields...)
	if !strings.Contains(denied.Reason, "spent") {
		t.Errorf("spend refusal reason %q", denied.Reason)
	}
	c = expectConnected(t, sam, desks[numUS911], numUS911)
	hangup(t, c, desks[numUS911])

	m := metrics(t, e)
	for _, r := range []string{"concurrent", "rate_minute", "international_hour", "international_global"} {
		wantMetric(t, m, "sipedge_policy_decisions_total", decisions(r, "deny"), 1, false)
	}
	wantMetric(t, m, "sipedge_policy_decisions_total", decisions("spend", "deny"), 2, false) // mid-call end + refusal
	wantMetric(t, m, "sipedge_security_events_total", secType("call_terminated_by_policy"), 1, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("spend_limit_reached"), 2, false)
	wantMetric(t, m, "sipedge_security_events_total", secType("policy_denied"), 4, false)
	for deadline := time.Now().Add(2 * time.Second); metric(t, metrics(t, e), "sipedge_policy_calls_active", nil) != 0; {
		if time.Now().After(deadline) {
			t.Errorf("sipedge_policy_calls_active = %v after every call ended, want 0", metric(t, metrics(t, e), "sipedge_policy_calls_active", nil))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}
