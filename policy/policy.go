// Package policy decides whether sources, registrations and calls may proceed: RBAC by destination class,
// geo rules, toll-fraud limits and spend budgets, failed-authentication bans, flood limits and scanner
// detection. It does no I/O of its own: facts come in, a Decision with a rule name and a reason goes out,
// counters and bans live behind a Store, and security events go to a secevent.Emitter.
//
// Emergency numbers of the caller's region are always allowed by every rule. Every rule group has a dry
// run switch: the rule decides and reports (events with dry_run: true) but the request is allowed.
package policy

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/secevent"
)

// Rule names used in decisions, events and the rule metric label. The set is closed.
const (
	RuleBan                 = "ban"                  // source is banned (Admit)
	RuleScannerUA           = "scanner_ua"           // scanner User-Agent
	RuleScannerToUsers      = "scanner_to_users"     // too many distinct To users (extension scan)
	RuleFlood               = "flood"                // requests per second per IP
	RuleTLSConnections      = "tls_connections"      // new connections per minute per IP
	RuleAuthBan             = "auth_ban"             // failed authentications ban the IP
	RuleAuthThrottle        = "auth_throttle"        // failed authentications throttle an allowlisted IP+user
	RuleGeoRegister         = "geo_register"         // country of a REGISTER
	RuleGeoCall             = "geo_call"             // country of a call
	RuleClass               = "class"                // destination class not granted by the role
	RuleFeatureCode         = "feature_code"         // feature code not granted by the role
	RuleHours               = "hours"                // outside business hours for the class
	RuleConcurrent          = "concurrent"           // concurrent calls per user
	RuleRateMinute          = "rate_minute"          // calls per minute per user
	RuleInternationalHour   = "international_hour"   // international calls per hour per user
	RuleInternationalGlobal = "international_global" // concurrent international calls across all users
	RuleSpend               = "spend"                // daily spend budget
	RuleEmergency           = "emergency"            // emergency call: always allowed
)

var allRules = []string{RuleBan, RuleScannerUA, RuleScannerToUsers, RuleFlood, RuleTLSConnections, RuleAuthBan,
	RuleAuthThrottle, RuleGeoRegister, RuleGeoCall, RuleClass, RuleFeatureCode, RuleHours, RuleConcurrent,
	RuleRateMinute, RuleInternationalHour, RuleInternationalGlobal, RuleSpend, RuleEmergency}

// Decision is the outcome of a check.
type Decision struct {
	// Allow is true when the request may proceed (also when a rule denied it in dry run).
	Allow bool
	// Rule names the rule that denied (or, in dry run, would have denied) it; RuleEmergency for
	// emergency calls; "" otherwise.
	Rule string
	// Reason is the detail for logs and security events. Never send it to the caller: answer with the
	// generic reason phrase of Status.
	Reason string
	// DryRun is true when Rule denied in dry run and the request is allowed anyway.
	DryRun bool
	// Status is the SIP status to answer a denied request with (403); 0 when allowed or when Drop is set.
	Status int
	// Drop asks for the request to be dropped without an answer (floods, scanners).
	Drop bool
	// Dest is the classified destination (Call only).
	Dest Destination
}

// Options are the policy's collaborators. Every field is optional except GeoDB when geo rules are
// configured.
type Options struct {
	Store      Store                 // nil: a new MemoryStore
	GeoDB      GeoDB                 // country lookups (OpenMaxMind); required when policy.geo.database is set
	Now        func() time.Time      // nil: time.Now
	Log        *zap.Logger           // nil: no logging
	Registerer prometheus.Registerer // nil: metrics are not registered
	Emitter    secevent.Emitter      // nil: events are discarded
	// UserRoles returns the roles the users file gives a user (may be nil); the first one defined in
	// policy.roles wins over policy.users.
	UserRoles func(user string) []string
	// OnBudgetExhausted is called (from Tick, outside any lock) for every call in progress whose user's
	// daily budget ran out; the proxy ends it with BYE on both sides. It must not block.
	OnBudgetExhausted func(callID string)
}

// Policy is the policy engine. It is safe for concurrent use.
type Policy struct {
	cfg       atomic.Pointer[compiled]
	geo       atomic.Pointer[geoHolder]
	store     Store
	now       func() time.Time
	log       *zap.Logger
	sec       secevent.Emitter
	userRoles func(string) []string
	onBudget  func(string)
	m         *metrics

	mu        sync.Mutex
	calls     map[string]*call
	recent    map[string]time.Time
	lastSweep time.Time
}

type geoHolder struct{ db GeoDB }

// New builds a policy from a policy configuration (defaults are applied to a copy).
func New(cfg config.Policy, o Options) (*Policy, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	if c.raw.Geo.Database != "" && o.GeoDB == nil {
		return nil, fmt.Errorf("%w: policy.geo.database is set", ErrNoGeoDB)
	}
	p := &Policy{store: o.Store, now: o.Now, log: o.Log, sec: o.Emitter, userRoles: o.UserRoles,
		onBudget: o.OnBudgetExhausted, calls: map[string]*call{}, recent: map[string]time.Time{}}
	if p.store == nil {
		p.store = NewMemoryStore()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = zap.NewNop()
	}
	if p.sec == nil {
		p.sec = discard{}
	}
	p.cfg.Store(c)
	p.geo.Store(&geoHolder{o.GeoDB})
	if p.m, err = newMetrics(o.Registerer, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload replaces the rules. Bans, counters and calls in progress are kept. On error the old rules stay.
func (p *Policy) Reload(cfg config.Policy) error {
	c, err := compile(cfg)
	if err != nil {
		return err
	}
	if c.raw.Geo.Database != "" && p.geo.Load().db == nil {
		return fmt.Errorf("%w: policy.geo.database is set", ErrNoGeoDB)
	}
	p.cfg.Store(c)
	p.log.Info("policy reloaded", zap.Int("roles", len(c.roles)), zap.Int("user_rules", len(c.users)))
	return nil
}

// SetGeoDB replaces the country database (after the file changed on reload). db may be nil only when no
// geo rules are configured.
func (p *Policy) SetGeoDB(db GeoDB) { p.geo.Store(&geoHolder{db}) }

// Classify classifies a dialled number (Request-URI user part) for user without counting anything.
func (p *Policy) Classify(user, dialled string) Destination {
	c := p.cfg.Load()
	s := c.resolve(user, p.roles(user))
	return c.classify(dialled, s.region)
}

// UserLimits returns the effective limits, role and region of user.
func (p *Policy) UserLimits(user string) (l Limits, role, region string) {
	s := p.cfg.Load().resolve(user, p.roles(user))
	return s.limits, s.role.name, s.region
}

func (p *Policy) roles(user string) []string {
	if p.userRoles == nil || user == "" {
		return nil
	}
	return p.userRoles(user)
}

// Run calls Tick every interval until ctx ends.
func (p *Policy) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Tick()
		}
	}
}

// Tick expires bans (ban_expired events), ends calls whose user's budget ran out (OnBudgetExhausted),
// releases reservations of calls that never started and sweeps idle state. Call it about once a second
// (Run does).
func (p *Policy) Tick() {
	now := p.now()
	for _, b := range p.store.ExpireBans(now) {
		p.m.bansExpired.Inc()
		p.emit(secevent.Event{Type: secevent.BanExpired, SrcIP: b.IP.String(), Rule: b.Rule,
			Reason: fmt.Sprintf("ban of %s ended (offence %d)", b.Until.Sub(b.Since), b.Offence)})
	}
	p.checkBudgets(now)
	p.releaseStale(now)
	p.mu.Lock()
	sweep := now.Sub(p.lastSweep) >= sweepEvery
	if sweep {
		p.lastSweep = now
	}
	p.mu.Unlock()
	if sweep {
		p.store.Sweep(now)
	}
}

const sweepEvery = 30 * time.Second

// decider accumulates a decision over the rules of one check.
type decider struct {
	p  *Policy
	d  Decision
	ev secevent.Event // facts for events
	ip netip.Addr     // source, for the event's country
}

// deny records that rule denies with reason. In dry run the decision stays allowed and evaluation goes
// on; it returns true when the caller must stop (enforced denial).
func (x *decider) deny(t secevent.Type, dry bool, rule, reason string) bool {
	if x.ev.Country == "" && x.ip.IsValid() {
		x.ev.Country = x.p.countryOf(x.ip)
	}
	ev := x.ev
	ev.Type, ev.Rule, ev.Reason, ev.DryRun = t, rule, reason, dry
	x.p.emit(ev)
	if dry {
		x.p.m.count(rule, "dry_run")
		if x.d.Rule == "" {
			x.d.Rule, x.d.Reason, x.d.DryRun = rule, reason, true
		}
		return false
	}
	x.p.m.count(rule, "deny")
	x.d = Decision{Rule: rule, Reason: reason, Status: 403, Dest: x.d.Dest}
	return true
}

func (p *Policy) emit(e secevent.Event) {
	if err := p.sec.Emit(e); err != nil {
		p.log.Warn("security event not written", zap.String("event", string(e.Type)), zap.Error(err))
	}
}

type discard struct{}

func (discard) Emit(secevent.Event) error { return nil }

// addrString formats ip for events ("" for the zero address).
func addrString(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().String()
}
