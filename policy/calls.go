package policy

import (
	"fmt"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/sipedge/sipedge/secevent"
)

// CallFacts are what Call needs of an out-of-dialog INVITE from an identified user.
type CallFacts struct {
	CallID    string
	User      string // authenticated caller
	Dialled   string // user part of the Request-URI
	SrcIP     netip.Addr
	SrcPort   int
	Transport string
	UserAgent string
}

// ringTimeout is how long a reservation made by Call is kept without CallStarted or CallEnded.
const ringTimeout = 5 * time.Minute

// call is a call the policy counts: reserved by Call, answered by CallStarted, released by CallEnded.
type call struct {
	id, user  string
	class     Class
	intl      bool
	rate      float64
	reserved  time.Time
	answered  time.Time // zero until CallStarted
	exhausted bool      // budget end already reported
}

// Call decides whether user may call the dialled number: emergency numbers of the user's region are
// always allowed; then destination class (RBAC), geo, business hours, concurrent calls, calls per minute,
// international calls per hour, the global international cap and the daily spend budget. An allowed call
// is counted (a reservation under CallID) until CallEnded; the proxy must call CallEnded for every
// allowed call, answered or not (reservations not started within 5 minutes are released by Tick).
func (p *Policy) Call(f CallFacts) Decision {
	c := p.cfg.Load()
	now := p.now()
	ip := f.SrcIP.Unmap()
	s := c.resolve(f.User, p.roles(f.User))
	dest := c.classify(f.Dialled, s.region)
	x := decider{p: p, ip: ip, d: Decision{Allow: true, Dest: dest}, ev: secevent.Event{SrcIP: addrString(ip), SrcPort: f.SrcPort,
		Transport: f.Transport, User: f.User, UserAgent: f.UserAgent, CallID: f.CallID, Method: "INVITE"}}
	if dest.Class == ClassEmergency {
		p.m.count(RuleEmergency, "allow")
		p.log.Info("emergency call allowed", zap.String("user", f.User), zap.String("dialled", f.Dialled))
		return Decision{Allow: true, Rule: RuleEmergency, Reason: dest.Detail, Dest: dest}
	}
	stop := func() Decision {
		p.log.Info("call refused by policy", zap.String("user", f.User), zap.String("call_id", f.CallID),
			zap.String("dialled", f.Dialled), zap.String("class", string(dest.Class)), zap.String("rule", x.d.Rule),
			zap.String("reason", x.d.Reason))
		return x.d
	}
	if !s.role.allows(dest, f.Dialled) {
		rule := RuleClass
		if dest.Class == ClassFeatureCode {
			rule = RuleFeatureCode
		}
		if x.deny(secevent.PolicyDenied, c.dry.RBAC, rule, fmt.Sprintf("role %q may not call %s (%s)", s.role.name, dest.Class, dest.Detail)) {
			return stop()
		}
	}
	if c.geoCall.active() {
		country, has := p.country(ip)
		x.ev.Country = country
		if ok, why := c.geoAllows(c.geoCall, f.User, country, has, now); !ok {
			if x.deny(secevent.GeoDenied, c.dry.Geo, RuleGeoCall, "call refused: "+why) {
				return stop()
			}
		}
	}
	if !s.role.inHours(dest.Class, now) {
		if x.deny(secevent.PolicyDenied, c.dry.Hours, RuleHours, fmt.Sprintf("%s calls are outside business hours of role %q", dest.Class, s.role.name)) {
			return stop()
		}
	}
	p.mu.Lock()
	_, again := p.calls[f.CallID]
	_, retried := p.recent[f.CallID]
	delete(p.recent, f.CallID)
	p.mu.Unlock()
	// A Call-ID already counted (an INVITE repeated after a digest challenge) is not counted again.
	if !again && p.checkLimits(&x, c.dry.Limits, s, dest, now, !retried) {
		return stop()
	}
	if x.d.Rule == "" {
		p.m.count("call", "allow")
	}
	if !again {
		p.reserve(f.CallID, s.name, dest, now, !retried)
	}
	return x.d
}

// checkLimits applies the count and spend limits; true means stop (enforced denial).
func (p *Policy) checkLimits(x *decider, dry bool, s subject, dest Destination, now time.Time, rates bool) bool {
	l := s.limits
	if n := p.store.Add(concKey(s.name), 0); l.ConcurrentCalls >= 0 && n >= int64(l.ConcurrentCalls) {
		if x.deny(secevent.PolicyDenied, dry, RuleConcurrent, fmt.Sprintf("user has %d calls in progress (limit %d)", n, l.ConcurrentCalls)) {
			return true
		}
	}
	if rates && l.CallsPerMinute >= 0 && p.store.Count(cpmKey(s.name), now, time.Minute) >= l.CallsPerMinute {
		if x.deny(secevent.PolicyDenied, dry, RuleRateMinute, fmt.Sprintf("more than %d calls in a minute", l.CallsPerMinute)) {
			return true
		}
	}
	if dest.International {
		if rates && l.InternationalPerHour >= 0 && p.store.Count(iphKey(s.name), now, time.Hour) >= l.InternationalPerHour {
			if x.deny(secevent.PolicyDenied, dry, RuleInternationalHour, fmt.Sprintf("more than %d international calls in an hour", l.InternationalPerHour)) {
				return true
			}
		}
		if max, n := p.cfg.Load().maxIntl, p.store.Add(intlKey, 0); max >= 0 && n >= int64(max) {
			if x.deny(secevent.PolicyDenied, dry, RuleInternationalGlobal, fmt.Sprintf("%d international calls in progress across all users (cap %d)", n, max)) {
				return true
			}
		}
	}
	if l.DailyBudget >= 0 && dest.Rate > 0 {
		spent := p.spent(s.name, now)
		if spent+dest.Rate > l.DailyBudget {
			c := p.cfg.Load()
			if x.deny(secevent.SpendLimitReached, dry, RuleSpend, fmt.Sprintf("spent %.2f of %.2f %s today; a minute to %s costs %.2f",
				spent, l.DailyBudget, c.currency, dest.E164, dest.Rate)) {
				return true
			}
		}
	}
	return false
}

func (p *Policy) reserve(id, user string, dest Destination, now time.Time, rates bool) {
	p.store.Add(concKey(user), 1)
	if rates {
		p.store.Hit(cpmKey(user), now, time.Minute, 1<<20)
	}
	if dest.International {
		if rates {
			p.store.Hit(iphKey(user), now, time.Hour, 1<<20)
		}
		p.store.Add(intlKey, 1)
	}
	if id == "" {
		return
	}
	p.mu.Lock()
	p.calls[id] = &call{id: id, user: user, class: dest.Class, intl: dest.International, rate: dest.Rate, reserved: now}
	p.mu.Unlock()
}

// CallStarted marks a call answered: from now on it costs its rate per minute toward the user's daily
// budget. For a call reserved by Call, user, class and rate are taken from that decision and the
// arguments are ignored; for a call Call did not reserve (e.g. allowed before a restart) they start
// counting it.
func (p *Policy) CallStarted(id, user string, class Class, rate float64) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if cl, ok := p.calls[id]; ok {
		cl.answered = now
		return
	}
	if class == ClassEmergency || id == "" {
		return
	}
	intl := class == ClassInternational || class == ClassHighRisk
	p.store.Add(concKey(user), 1)
	if intl {
		p.store.Add(intlKey, 1)
	}
	p.calls[id] = &call{id: id, user: user, class: class, intl: intl, rate: rate, reserved: now, answered: now}
}

// CallEnded releases the call's counts and books its cost. Unknown ids are ignored.
func (p *Policy) CallEnded(id string) {
	p.mu.Lock()
	cl, ok := p.calls[id]
	delete(p.calls, id)
	if ok && cl.answered.IsZero() {
		p.recent[id] = p.now()
	}
	p.mu.Unlock()
	if ok {
		p.release(cl, p.now())
	}
}

func (p *Policy) release(cl *call, now time.Time) {
	p.store.Add(concKey(cl.user), -1)
	if cl.intl {
		p.store.Add(intlKey, -1)
	}
	if !cl.answered.IsZero() && cl.rate > 0 {
		key, exp := p.spendKey(cl.user, now)
		p.store.AddFloat(key, now.Sub(cl.answered).Minutes()*cl.rate, exp)
	}
}

// spent is user's spend today: finished calls plus the calls in progress on this edge.
func (p *Policy) spent(user string, now time.Time) float64 {
	key, exp := p.spendKey(user, now)
	v := p.store.AddFloat(key, 0, exp)
	p.mu.Lock()
	for _, cl := range p.calls {
		if cl.user == user && !cl.answered.IsZero() {
			v += now.Sub(cl.answered).Minutes() * cl.rate
		}
	}
	p.mu.Unlock()
	return v
}

func (p *Policy) spendKey(user string, now time.Time) (string, time.Time) {
	loc := p.cfg.Load().loc
	t := now.In(loc)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 1, 0, 0, 0, loc)
	return "spend:" + user + ":" + t.Format("2006-01-02"), next
}

// checkBudgets reports calls in progress whose user's budget is exhausted.
func (p *Policy) checkBudgets(now time.Time) {
	p.mu.Lock()
	users := map[string]bool{}
	for _, cl := range p.calls {
		if !cl.answered.IsZero() && cl.rate > 0 && !cl.exhausted {
			users[cl.user] = true
		}
	}
	p.mu.Unlock()
	c := p.cfg.Load()
	for user := range users {
		s := c.resolve(user, p.roles(user))
		spent := p.spent(user, now)
		if s.limits.DailyBudget < 0 || spent < s.limits.DailyBudget {
			continue
		}
		var ended []*call
		p.mu.Lock()
		for _, cl := range p.calls {
			if cl.user == user && !cl.answered.IsZero() && cl.rate > 0 && !cl.exhausted {
				cl.exhausted = true
				ended = append(ended, cl)
			}
		}
		p.mu.Unlock()
		for _, cl := range ended {
			reason := fmt.Sprintf("daily budget %.2f %s exhausted (spent %.2f)", s.limits.DailyBudget, c.currency, spent)
			ev := secevent.Event{User: user, CallID: cl.id, Rule: RuleSpend, Reason: reason, DryRun: c.dry.Limits}
			ev.Type = secevent.SpendLimitReached
			p.emit(ev)
			ev.Type = secevent.CallTerminatedByPolicy
			if c.dry.Limits {
				ev.Reason += "; not ended (dry run)"
			}
			p.emit(ev)
			p.m.count(RuleSpend, dryLabel(c.dry.Limits))
			p.log.Warn("call budget exhausted", zap.String("user", user), zap.String("call_id", cl.id), zap.Bool("dry_run", c.dry.Limits))
			if !c.dry.Limits && p.onBudget != nil {
				p.onBudget(cl.id)
			}
		}
	}
}

// releaseStale releases reservations that never started.
func (p *Policy) releaseStale(now time.Time) {
	var stale []*call
	p.mu.Lock()
	for id, t := range p.recent {
		if now.Sub(t) > time.Minute {
			delete(p.recent, id)
		}
	}
	for id, cl := range p.calls {
		if cl.answered.IsZero() && now.Sub(cl.reserved) > ringTimeout {
			stale = append(stale, cl)
			delete(p.calls, id)
		}
	}
	p.mu.Unlock()
	for _, cl := range stale {
		p.release(cl, now)
	}
}

// ActiveCalls is the number of calls the policy is counting on this edge.
func (p *Policy) ActiveCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

const intlKey = "conc:international"

func concKey(user string) string { return "conc:" + user }
func cpmKey(user string) string  { return "cpm:" + user }
func iphKey(user string) string  { return "iph:" + user }
