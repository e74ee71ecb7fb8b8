package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/secevent"
)

const rbacYAML = `
default_region: GB
roles:
  - {name: staff, classes: [internal, national, mobile, toll_free], feature_codes: ["*97"]}
  - {name: intl, classes: [internal, national, mobile, toll_free, international], feature_codes: ["*"]}
  - {name: risky, classes: [internal, national, premium, high_risk, international]}
users:
  - {users: [alice], role: intl}
  - {range: 2000-2999, role: staff}
  - {pattern: "ops-.*", role: risky}
`

func dial(f *fixture, id, user, dialled string) Decision {
	return f.p.Call(CallFacts{CallID: id, User: user, Dialled: dialled, SrcIP: ip("198.51.100.7"), SrcPort: 5061, Transport: "TLS"})
}

func TestCallRBAC(t *testing.T) {
	cases := []struct {
		user, dialled string
		allow         bool
		rule          string
	}{
		{"alice", "+33142685300", true, ""}, // international granted
		{"2001", "+33142685300", false, RuleClass},
		{"2001", "02071838750", true, ""},
		{"2001", "1234", true, ""},
		{"2001", "09012345678", false, RuleClass}, // premium
		{"2001", "+979123456789", false, RuleClass},
		{"2001", "*97", true, ""},
		{"2001", "*98", false, RuleFeatureCode},
		{"alice", "*1234", true, ""},
		{"ops-1", "09012345678", true, ""},
		{"ops-1", "*97", false, RuleFeatureCode},
		{"nobody", "02071838750", true, ""},          // built-in default role: national
		{"nobody", "+33142685300", false, RuleClass}, // built-in default role: no international
		{"nobody", "+881612345678", false, RuleClass},
		// Emergency numbers are allowed for every role.
		{"2001", "999", true, RuleEmergency},
		{"nobody", "112", true, RuleEmergency},
	}
	for i, tc := range cases {
		f := newFixture(t, rbacYAML)
		d := dial(f, fmt.Sprint("c", i), tc.user, tc.dialled)
		if d.Allow != tc.allow || d.Rule != tc.rule {
			t.Errorf("%s -> %s: allow %v rule %q (%s); want %v %q", tc.user, tc.dialled, d.Allow, d.Rule, d.Reason, tc.allow, tc.rule)
		}
		if !tc.allow {
			if d.Status != 403 || d.Drop {
				t.Errorf("%s -> %s: status %d drop %v, want 403", tc.user, tc.dialled, d.Status, d.Drop)
			}
			ev := f.rec.of(secevent.PolicyDenied)
			if len(ev) != 1 || ev[0].Rule != tc.rule || ev[0].User != tc.user || ev[0].CallID == "" || ev[0].SrcIP != "198.51.100.7" {
				t.Errorf("%s -> %s: policy_denied events %+v", tc.user, tc.dialled, ev)
			}
			if f.decisions(tc.rule, "deny") != 1 {
				t.Errorf("deny metric for %s not counted", tc.rule)
			}
		}
	}
}

func TestCallUsersFileRoleWins(t *testing.T) {
	f := newFixture(t, rbacYAML, func(o *Options) {
		o.UserRoles = func(u string) []string {
			if u == "2005" {
				return []string{"unknown-role", "intl"}
			}
			return nil
		}
	})
	if d := dial(f, "a", "2005", "+33142685300"); !d.Allow {
		t.Errorf("users-file role intl not applied: %+v", d)
	}
	if _, role, region := f.p.UserLimits("2006"); role != "staff" || region != "GB" {
		t.Errorf("2006 resolved to role %q region %q", role, region)
	}
}

func TestCallLimits(t *testing.T) {
	f := newFixture(t, `
default_region: GB
max_international_calls: 3
limits: {concurrent_calls: 2, calls_per_minute: 3, international_per_hour: 2, daily_budget: -1}
roles: [{name: intl, classes: [national, international], limits: {international_per_hour: 4}}]
users:
  - {users: [bob], role: intl, limits: {concurrent_calls: 5, calls_per_minute: -1}}
  - {users: [alice, bob, carol], role: intl}
`)
	// Concurrent: the third simultaneous call is refused; ending one frees a slot.
	if !dial(f, "1", "alice", "02071838750").Allow || !dial(f, "2", "alice", "02071838750").Allow {
		t.Fatal("first two calls refused")
	}
	if d := dial(f, "3", "alice", "02071838750"); d.Allow || d.Rule != RuleConcurrent {
		t.Fatalf("third concurrent call: %+v", d)
	}
	// The same Call-ID again (INVITE after a digest challenge) is not counted twice.
	if d := dial(f, "2", "alice", "02071838750"); !d.Allow {
		t.Fatalf("repeated Call-ID refused: %+v", d)
	}
	f.p.CallEnded("1")
	// Calls per minute: 3 in this minute already (1, 2, and the next one) -> the fourth is refused.
	if d := dial(f, "4", "alice", "02071838750"); !d.Allow {
		t.Fatalf("call after a slot was freed: %+v", d)
	}
	f.p.CallEnded("2")
	f.p.CallEnded("4")
	if d := dial(f, "5", "alice", "02071838750"); d.Allow || d.Rule != RuleRateMinute {
		t.Fatalf("fourth call in a minute: %+v", d)
	}
	f.clk.Add(61 * time.Second)
	if d := dial(f, "6", "alice", "02071838750"); !d.Allow {
		t.Fatalf("call after the minute window: %+v", d)
	}
	f.p.CallEnded("6")

	// International per hour: the role allows 4 (overriding the base 2).
	for i := 0; i < 4; i++ {
		f.clk.Add(61 * time.Second)
		id := fmt.Sprint("i", i)
		if d := dial(f, id, "alice", "+33142685300"); !d.Allow {
			t.Fatalf("international call %d: %+v", i, d)
		}
		f.p.CallEnded(id)
	}
	f.clk.Add(61 * time.Second)
	if d := dial(f, "i5", "alice", "+33142685300"); d.Allow || d.Rule != RuleInternationalHour {
		t.Fatalf("fifth international call in the hour: %+v", d)
	}
	if d := dial(f, "n", "alice", "02071838750"); !d.Allow {
		t.Fatalf("national call refused by the international limit: %+v", d)
	}
	f.p.CallEnded("n")
	f.clk.Add(time.Hour)
	if d := dial(f, "i6", "alice", "+33142685300"); !d.Allow {
		t.Fatalf("international call after the hour: %+v", d)
	}

	// Global international cap (3): alice has one, bob (per-user override: 5 concurrent) takes two more.
	if !dial(f, "b1", "bob", "+33142685300").Allow || !dial(f, "b2", "bob", "+33142685300").Allow {
		t.Fatal("bob's international calls refused")
	}
	if d := dial(f, "c1", "carol", "+33142685300"); d.Allow || d.Rule != RuleInternationalGlobal {
		t.Fatalf("international call over the global cap: %+v", d)
	}
	if d := dial(f, "c2", "carol", "02071838750"); !d.Allow {
		t.Fatalf("national call refused by the global international cap: %+v", d)
	}
	f.p.CallEnded("b1")
	if d := dial(f, "c3", "carol", "+33142685300"); !d.Allow {
		t.Fatalf("international call after one ended: %+v", d)
	}
	if l, _, _ := f.p.UserLimits("bob"); l.ConcurrentCalls != 5 || l.CallsPerMinute != -1 || l.InternationalPerHour != 4 {
		t.Errorf("bob's limits = %+v", l)
	}
	// Emergency calls ignore every limit and are not counted.
	before := f.p.ActiveCalls()
	for i := 0; i < 5; i++ {
		if d := dial(f, fmt.Sprint("e", i), "carol", "999"); !d.Allow || d.Rule != RuleEmergency {
			t.Fatalf("emergency call %d: %+v", i, d)
		}
	}
	if f.p.ActiveCalls() != before {
		t.Errorf("emergency calls were counted")
	}
}

func TestCallStaleReservationReleased(t *testing.T) {
	f := newFixture(t, "limits: {concurrent_calls: 1}\ndefault_region: GB")
	if !dial(f, "1", "u", "02071838750").Allow {
		t.Fatal("refused")
	}
	if d := dial(f, "2", "u", "02071838750"); d.Allow {
		t.Fatal("second concurrent call allowed")
	}
	f.clk.Add(ringTimeout + time.Second)
	f.p.Tick()
	if d := dial(f, "3", "u", "02071838750"); !d.Allow {
		t.Fatalf("reservation never started was not released: %+v", d)
	}
	// An answered call is not released by the ring timeout.
	f.p.CallStarted("3", "", "", 0)
	f.clk.Add(ringTimeout + time.Second)
	f.p.Tick()
	if d := dial(f, "4", "u", "02071838750"); d.Allow {
		t.Fatal("answered call was released")
	}
}

func TestSpendBudget(t *testing.T) {
	var ended []string
	f := newFixture(t, `
default_region: GB
limits: {daily_budget: 1.0}
spend: {currency: GBP, rates: [{prefix: "+33", per_minute: 0.10}]}
roles: [{name: intl, classes: [national, international]}]
users: [{users: [bob], role: intl, limits: {daily_budget: -1}}, {users: [alice, bob], role: intl}]
`, func(o *Options) { o.OnBudgetExhausted = func(id string) { ended = append(ended, id) } })
	d := dial(f, "1", "alice", "+33142685300")
	if !d.Allow || d.Dest.Rate != 0.10 || d.Dest.Class != ClassInternational {
		t.Fatalf("first call: %+v", d)
	}
	f.p.CallStarted("1", "alice", d.Dest.Class, d.Dest.Rate)
	f.clk.Add(5 * time.Minute) // 0.50 spent
	f.p.Tick()
	if len(ended) != 0 {
		t.Fatalf("call ended before the budget ran out")
	}
	f.p.CallEnded("1")
	// 0.50 booked; a second call runs until the budget is exhausted mid-call.
	d = dial(f, "2", "alice", "+33142685300")
	f.p.CallStarted("2", "alice", d.Dest.Class, d.Dest.Rate)
	f.clk.Add(4*time.Minute + 59*time.Second)
	f.p.Tick()
	if len(ended) != 0 {
		t.Fatalf("ended at 0.99 spent")
	}
	f.clk.Add(2 * time.Second)
	f.p.Tick()
	f.p.Tick() // reported once only
	if len(ended) != 1 || ended[0] != "2" {
		t.Fatalf("budget callback = %v, want [2]", ended)
	}
	if ev := f.rec.of(secevent.SpendLimitReached); len(ev) != 1 || ev[0].CallID != "2" || ev[0].User != "alice" || !strings.Contains(ev[0].Reason, "GBP") {
		t.Errorf("spend_limit_reached events: %+v", ev)
	}
	if ev := f.rec.of(secevent.CallTerminatedByPolicy); len(ev) != 1 || ev[0].Rule != RuleSpend || ev[0].DryRun {
		t.Errorf("call_terminated_by_policy events: %+v", ev)
	}
	f.p.CallEnded("2")
	// Over budget: a priced call is refused, a free (national, unrated) one and an emergency call are not.
	if d := dial(f, "3", "alice", "+33142685300"); d.Allow || d.Rule != RuleSpend {
		t.Fatalf("call over budget: %+v", d)
	}
	if d := dial(f, "4", "alice", "02071838750"); !d.Allow {
		t.Fatalf("free call over budget: %+v", d)
	}
	if d := dial(f, "5", "alice", "112"); !d.Allow || d.Rule != RuleEmergency {
		t.Fatalf("emergency call over budget: %+v", d)
	}
	// bob has no budget.
	d = dial(f, "6", "bob", "+33142685300")
	f.p.CallStarted("6", "bob", d.Dest.Class, d.Dest.Rate)
	f.clk.Add(10 * time.Hour)
	f.p.Tick()
	if len(ended) != 1 {
		t.Errorf("unlimited user's call ended: %v", ended)
	}
	f.p.CallEnded("6")
	// A new day (in policy.time_zone) starts with a fresh budget.
	f.clk.Add(24 * time.Hour)
	if d := dial(f, "7", "alice", "+33142685300"); !d.Allow {
		t.Fatalf("call on the next day: %+v", d)
	}
}

func TestSpendBudgetBlocksCallThatWouldExceed(t *testing.T) {
	f := newFixture(t, `
default_region: GB
limits: {daily_budget: 0.15}
spend: {rates: [{prefix: "+33", per_minute: 0.10}]}
roles: [{name: intl, classes: [international]}]
default_role: intl
`)
	d := dial(f, "1", "u", "+33142685300")
	f.p.CallStarted("1", "u", d.Dest.Class, d.Dest.Rate)
	f.clk.Add(time.Minute) // 0.10 spent (in progress): another minute would reach 0.20 > 0.15
	if d := dial(f, "2", "u", "+33142685300"); d.Allow || d.Rule != RuleSpend {
		t.Fatalf("call that would exceed the budget: %+v", d)
	}
}

func TestBusinessHours(t *testing.T) {
	f := newFixture(t, `
default_region: GB
roles:
  - name: office
    classes: [national, international]
    hours:
      - {classes: [international], days: [mon-fri], from: "09:00", to: "17:00", time_zone: Europe/London}
      - {classes: [international], days: [sat], from: "22:00", to: "02:00"}
default_role: office
`)
	cases := []struct {
		at    time.Time
		allow bool
	}{
		{time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC), true},   // Monday 10:00 London
		{time.Date(2030, 1, 7, 17, 0, 0, 0, time.UTC), false},  // Monday 17:00 (to is exclusive)
		{time.Date(2030, 1, 7, 8, 59, 0, 0, time.UTC), false},  // before opening
		{time.Date(2030, 7, 8, 8, 30, 0, 0, time.UTC), true},   // Monday 09:30 BST
		{time.Date(2030, 1, 12, 12, 0, 0, 0, time.UTC), false}, // Saturday noon
		{time.Date(2030, 1, 12, 23, 0, 0, 0, time.UTC), true},  // Saturday 23:00 (overnight window)
		{time.Date(2030, 1, 13, 1, 0, 0, 0, time.UTC), true},   // Sunday 01:00, still Saturday's window
		{time.Date(2030, 1, 14, 1, 0, 0, 0, time.UTC), false},  // Monday 01:00
	}
	for i, tc := range cases {
		f.clk.t = tc.at
		d := dial(f, fmt.Sprint("h", i), "u", "+33142685300")
		if d.Allow != tc.allow || (!tc.allow && d.Rule != RuleHours) {
			t.Errorf("%v: %+v, want allow %v", tc.at, d, tc.allow)
		}
		f.p.CallEnded(fmt.Sprint("h", i))
		// National calls are not restricted; emergency calls never.
		if d := dial(f, fmt.Sprint("n", i), "u", "02071838750"); !d.Allow {
			t.Errorf("%v: national call refused: %+v", tc.at, d)
		}
		f.p.CallEnded(fmt.Sprint("n", i))
		f.clk.Add(time.Minute)
	}
}

func TestCallDryRun(t *testing.T) {
	base := `
default_region: GB
limits: {concurrent_calls: 1}
roles: [{name: office, classes: [national], hours: [{classes: [international], days: [sun], from: "00:00", to: "01:00"}]}]
default_role: office
geo: {database: x.mmdb, call: {deny: [SE]}}
`
	geo := func(o *Options) { o.GeoDB = fakeGeo{ip("198.51.100.7"): "SE"} }
	// Enforced: the first rule (class) denies.
	f := newFixture(t, base, geo)
	if d := dial(f, "1", "u", "+33142685300"); d.Allow || d.Rule != RuleClass {
		t.Fatalf("enforced: %+v", d)
	}
	// Each group in dry run in turn: the next group's rule decides.
	steps := []struct {
		dry  string
		rule string
	}{{"rbac: true", RuleGeoCall}, {"rbac: true, geo: true", RuleHours}, {"rbac: true, geo: true, hours: true", RuleConcurrent}}
	for _, s := range steps {
		f := newFixture(t, base+"dry_run: {"+s.dry+"}\n", geo)
		dial(f, "x", "u", "02071838750") // takes the one concurrent slot if allowed
		f.rec.reset()
		d := dial(f, "1", "u", "+33142685300")
		if d.Allow || d.Rule != s.rule {
			t.Errorf("dry run {%s}: %+v, want denied by %s", s.dry, d, s.rule)
		}
		if n := len(f.rec.of(secevent.PolicyDenied)) + len(f.rec.of(secevent.GeoDenied)); n < 2 {
			t.Errorf("dry run {%s}: the dry-run denials were not reported (%d events)", s.dry, n)
		}
	}
	// Everything in dry run: allowed, first would-be rule reported, events flagged dry_run.
	f = newFixture(t, base+"dry_run: {rbac: true, geo: true, hours: true, limits: true}\n", geo)
	dial(f, "x", "u", "02071838750")
	f.rec.reset()
	d := dial(f, "1", "u", "+33142685300")
	if !d.Allow || !d.DryRun || d.Rule != RuleClass || d.Status != 0 {
		t.Fatalf("all dry run: %+v", d)
	}
	evs := append(f.rec.of(secevent.PolicyDenied), f.rec.of(secevent.GeoDenied)...)
	if len(evs) != 4 {
		t.Errorf("want 4 dry-run events (class, geo, hours, concurrent), got %+v", evs)
	}
	for _, e := range evs {
		if !e.DryRun {
			t.Errorf("event not flagged dry_run: %+v", e)
		}
	}
	if f.decisions(RuleClass, "dry_run") != 1 || f.decisions(RuleClass, "deny") != 0 {
		t.Errorf("dry-run metrics wrong")
	}
}

func TestSpendDryRunDoesNotEndCalls(t *testing.T) {
	var ended []string
	f := newFixture(t, `
limits: {daily_budget: 0.1}
spend: {default_per_minute: 0.1}
roles: [{name: r, classes: [national, international]}]
default_role: r
dry_run: {limits: true}
`, func(o *Options) { o.OnBudgetExhausted = func(id string) { ended = append(ended, id) } })
	d := dial(f, "1", "u", "+33142685300")
	f.p.CallStarted("1", "u", d.Dest.Class, d.Dest.Rate)
	f.clk.Add(2 * time.Minute)
	f.p.Tick()
	if len(ended) != 0 {
		t.Errorf("dry run ended a call: %v", ended)
	}
	if ev := f.rec.of(secevent.CallTerminatedByPolicy); len(ev) != 1 || !ev[0].DryRun {
		t.Errorf("dry-run termination not reported: %+v", ev)
	}
}

func TestReloadKeepsState(t *testing.T) {
	f := newFixture(t, "default_region: GB\nlimits: {concurrent_calls: 1}")
	if !dial(f, "1", "u", "02071838750").Allow {
		t.Fatal("refused")
	}
	f.p.AuthFailed(AuthFacts{SrcIP: ip("203.0.113.9"), User: "x"})
	for i := 0; i < 5; i++ {
		f.p.AuthFailed(AuthFacts{SrcIP: ip("203.0.113.8"), User: "x"})
	}
	if err := f.p.Reload(parsePolicy(t, "default_region: XX")); err == nil {
		t.Fatal("bad config accepted")
	}
	if err := f.p.Reload(parsePolicy(t, "default_region: GB\nlimits: {concurrent_calls: 1}\nbans: {threshold: 2}")); err != nil {
		t.Fatal(err)
	}
	if d := dial(f, "2", "u", "02071838750"); d.Allow || d.Rule != RuleConcurrent {
		t.Errorf("call in progress forgotten by reload: %+v", d)
	}
	if f.p.Admit(ip("203.0.113.8")) {
		t.Error("ban forgotten by reload")
	}
	f.p.AuthFailed(AuthFacts{SrcIP: ip("203.0.113.9"), User: "x"})
	if f.p.Admit(ip("203.0.113.9")) {
		t.Error("failure counted before the reload was forgotten (new threshold 2)")
	}
	f.p.CallEnded("1")
	if !dial(f, "3", "u", "02071838750").Allow {
		t.Error("slot not freed after reload")
	}
}

func TestDenialEventsCarryCountry(t *testing.T) {
	f := newFixture(t, "default_region: GB", func(o *Options) { o.GeoDB = fakeGeo{ip("198.51.100.7"): "CN"} })
	if d := dial(f, "1", "u", "+979123456789"); d.Allow {
		t.Fatal("high-risk call allowed")
	}
	if ev := f.rec.of(secevent.PolicyDenied); len(ev) != 1 || ev[0].Country != "CN" || ev[0].Method != "INVITE" || ev[0].Transport != "TLS" {
		t.Errorf("event: %+v", ev)
	}
}

func TestCallStartedWithoutReservation(t *testing.T) {
	var ended []string
	f := newFixture(t, "default_region: GB\nlimits: {concurrent_calls: 1, daily_budget: 1}",
		func(o *Options) { o.OnBudgetExhausted = func(id string) { ended = append(ended, id) } })
	f.p.CallStarted("old", "u", ClassInternational, 0.5) // e.g. a call allowed before a restart
	if d := dial(f, "new", "u", "02071838750"); d.Allow || d.Rule != RuleConcurrent {
		t.Errorf("unreserved call not counted: %+v", d)
	}
	f.clk.Add(2*time.Minute + time.Second)
	f.p.Tick()
	if len(ended) != 1 || ended[0] != "old" {
		t.Errorf("budget of an unreserved call not enforced: %v", ended)
	}
	f.p.CallEnded("old")
	f.p.CallStarted("sos", "u", ClassEmergency, 1)
	if f.p.ActiveCalls() != 0 {
		t.Error("emergency call counted")
	}
}
