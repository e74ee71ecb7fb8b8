package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sipedge/sipedge/secevent"
)

// ScreenFacts are what Screen needs of an access-side request (after parsing and validation).
type ScreenFacts struct {
	SrcIP     netip.Addr
	SrcPort   int
	Transport string // UDP, TCP, TLS
	Method    string
	UserAgent string
	FromUser  string // user part of the From URI
	ToUser    string // user part of the To URI
	CallID    string
	User      string // authenticated user of the flow, "" before identification
}

// RegisterFacts are what Register needs of a REGISTER.
type RegisterFacts struct {
	SrcIP     netip.Addr
	SrcPort   int
	Transport string
	User      string // the user registering (To user, or the authenticated user)
	UserAgent string
	CallID    string
}

// AuthFacts describe one authentication outcome.
type AuthFacts struct {
	SrcIP     netip.Addr
	SrcPort   int
	Transport string
	Method    string
	User      string // user name as claimed
	UserAgent string
	CallID    string
}

// Admit reports whether a source may send anything at all: false for banned IPs. It is called for every
// datagram and new connection before parsing and does not allocate.
func (p *Policy) Admit(ip netip.Addr) bool {
	if p.store.Banned(ip, p.now()) {
		p.m.admitDeny.Inc()
		return false
	}
	return true
}

// Connection checks a new TCP/TLS connection from ip against the per-IP connection rate.
func (p *Policy) Connection(ip netip.Addr) Decision {
	ip = ip.Unmap()
	c := p.cfg.Load()
	limit := c.raw.Flood.TLSConnectionsPerMinute
	if limit < 1 || c.allowlisted(ip) {
		return Decision{Allow: true}
	}
	now := p.now()
	if n := p.store.Hit("conn:"+ip.String(), now, time.Minute, limit+1); n <= limit {
		return Decision{Allow: true}
	}
	reason := fmt.Sprintf("more than %d new connections in a minute", limit)
	p.reportFlood(ip, secevent.Event{SrcIP: ip.String(), Country: p.countryOf(ip)}, RuleTLSConnections, reason, c.dry.Flood, now)
	if c.dry.Flood {
		p.m.count(RuleTLSConnections, "dry_run")
		return Decision{Allow: true, Rule: RuleTLSConnections, Reason: reason, DryRun: true}
	}
	p.m.count(RuleTLSConnections, "deny")
	return Decision{Rule: RuleTLSConnections, Reason: reason, Drop: true}
}

// Screen applies the scanner, flood and failed-authentication-throttle rules to a request. A scanner
// User-Agent or an extension scan (many distinct To users in unauthenticated requests) bans the IP at once
// (allowlisted IPs are refused but not banned); requests over the flood limit are dropped.
func (p *Policy) Screen(f ScreenFacts) Decision {
	ip := f.SrcIP.Unmap()
	c := p.cfg.Load()
	now := p.now()
	allowed := c.allowlisted(ip)
	x := decider{p: p, ip: ip, d: Decision{Allow: true}, ev: secevent.Event{SrcIP: addrString(ip), SrcPort: f.SrcPort,
		Transport: f.Transport, User: f.User, UserAgent: f.UserAgent, CallID: f.CallID, Method: f.Method}}
	if f.UserAgent != "" {
		ua := strings.ToLower(f.UserAgent)
		for _, s := range c.scannerUAs {
			if strings.Contains(ua, s) {
				x.ev.Country = p.countryOf(ip)
				reason := fmt.Sprintf("scanner User-Agent %q", f.UserAgent)
				if !allowed {
					p.ban(x.ev, RuleScannerUA, reason, c.dry.Scanner, now)
				}
				if x.deny(secevent.ScannerDetected, c.dry.Scanner, RuleScannerUA, reason) {
					x.d.Drop, x.d.Status = true, 0
					return x.d
				}
				break
			}
		}
	}
	if !allowed && c.raw.Flood.RequestsPerSecond > 0 {
		if !p.store.Take("rps:"+ip.String(), now, c.raw.Flood.RequestsPerSecond, c.raw.Flood.Burst) {
			reason := fmt.Sprintf("more than %g requests per second (burst %d)", c.raw.Flood.RequestsPerSecond, c.raw.Flood.Burst)
			p.reportFlood(ip, x.ev, RuleFlood, reason, c.dry.Flood, now)
			if ba := c.raw.Flood.BanAfter; ba > 0 && p.store.Hit("flooddrop:"+ip.String(), now, time.Minute, ba) >= ba {
				p.store.Reset("flooddrop:" + ip.String())
				p.ban(x.ev, RuleFlood, fmt.Sprintf("%d flood requests in a minute", ba), c.dry.Flood, now)
			}
			if c.dry.Flood {
				p.m.count(RuleFlood, "dry_run")
				if x.d.Rule == "" {
					x.d.Rule, x.d.Reason, x.d.DryRun = RuleFlood, reason, true
				}
			} else {
				p.m.count(RuleFlood, "deny")
				return Decision{Rule: RuleFlood, Reason: reason, Drop: true}
			}
		}
	}
	if max := c.raw.Scanner.MaxToUsersPerMinute; !allowed && max > 0 && f.User == "" && f.ToUser != "" {
		key := "tousers:" + ip.String()
		if n := p.store.Distinct(key, f.ToUser, now, time.Minute, max+1); n > max {
			p.store.Reset(key)
			x.ev.Country = p.countryOf(ip)
			reason := fmt.Sprintf("more than %d distinct To users in a minute", max)
			p.ban(x.ev, RuleScannerToUsers, reason, c.dry.Scanner, now)
			if x.deny(secevent.ScannerDetected, c.dry.Scanner, RuleScannerToUsers, reason) {
				x.d.Drop, x.d.Status = true, 0
				return x.d
			}
		}
	}
	claimed := f.FromUser
	if strings.EqualFold(f.Method, "REGISTER") {
		claimed = f.ToUser
	}
	if claimed != "" && allowed && p.store.Flag(throttleKey(ip, claimed), now) {
		p.m.count(RuleAuthThrottle, "deny")
		return Decision{Rule: RuleAuthThrottle, Reason: "too many failed authentications for this user from this address", Status: 403}
	}
	if x.d.Rule == "" {
		p.m.count("screen", "allow")
	}
	return x.d
}

// reportFlood emits one flood_detected event per IP and rule per minute.
func (p *Policy) reportFlood(ip netip.Addr, ev secevent.Event, rule, reason string, dry bool, now time.Time) {
	key := "floodrep:" + rule + ":" + ip.String()
	if p.store.Flag(key, now) {
		return
	}
	p.store.SetFlag(key, now.Add(time.Minute))
	ev.Type, ev.Rule, ev.Reason, ev.DryRun = secevent.FloodDetected, rule, reason, dry
	if ev.Country == "" {
		ev.Country = p.countryOf(ip)
	}
	p.emit(ev)
	p.log.Info("flood detected", zap.String("rule", rule), zap.String("src_ip", ip.String()), zap.String("reason", reason))
}

// Register applies the geo rules to a REGISTER.
func (p *Policy) Register(f RegisterFacts) Decision {
	ip := f.SrcIP.Unmap()
	c := p.cfg.Load()
	if !c.geoRegister.active() {
		p.m.count("register", "allow")
		return Decision{Allow: true}
	}
	country, has := p.country(ip)
	x := decider{p: p, ip: ip, d: Decision{Allow: true}, ev: secevent.Event{SrcIP: addrString(ip), SrcPort: f.SrcPort,
		Transport: f.Transport, Country: country, User: f.User, UserAgent: f.UserAgent, CallID: f.CallID, Method: "REGISTER"}}
	if ok, why := c.geoAllows(c.geoRegister, f.User, country, has, p.now()); !ok {
		if x.deny(secevent.GeoDenied, c.dry.Geo, RuleGeoRegister, "registration refused: "+why) {
			p.log.Info("registration refused by policy", zap.String("user", f.User), zap.String("src_ip", addrString(ip)),
				zap.String("rule", RuleGeoRegister), zap.String("reason", why))
			return x.d
		}
	}
	if x.d.Rule == "" {
		p.m.count("register", "allow")
	}
	return x.d
}

// AuthFailed counts a failed authentication. Past bans.threshold failures within bans.window the source
// IP is banned (allowlisted IPs: only the IP+user pair is throttled).
func (p *Policy) AuthFailed(f AuthFacts) {
	ip := f.SrcIP.Unmap()
	if !ip.IsValid() {
		return
	}
	c := p.cfg.Load()
	now := p.now()
	b := c.raw.Bans
	ev := secevent.Event{SrcIP: ip.String(), SrcPort: f.SrcPort, Transport: f.Transport, User: f.User,
		UserAgent: f.UserAgent, CallID: f.CallID, Method: f.Method}
	reason := fmt.Sprintf("%d failed authentications in %s", b.Threshold, b.Window)
	if c.allowlisted(ip) {
		key := "authfail:" + ip.String() + "|" + f.User
		if p.store.Hit(key, now, b.Window.D(), b.Threshold) < b.Threshold {
			return
		}
		p.store.Reset(key)
		n := p.store.Hit("throttles:"+ip.String()+"|"+f.User, now, b.OffenceMemory.D(), 64)
		d := banLength(b.BanTime.D(), b.MaxBanTime.D(), n)
		if !c.dry.Auth {
			p.store.SetFlag(throttleKey(ip, f.User), now.Add(d))
		}
		ev.Country = p.countryOf(ip)
		ev.Type, ev.Rule, ev.DryRun = secevent.PolicyDenied, RuleAuthThrottle, c.dry.Auth
		ev.Reason = fmt.Sprintf("%s for user %q from an allowlisted address; user throttled for %s", reason, f.User, d)
		p.m.count(RuleAuthThrottle, dryLabel(c.dry.Auth))
		p.emit(ev)
		return
	}
	key := "authfail:" + ip.String()
	if p.store.Hit(key, now, b.Window.D(), b.Threshold) < b.Threshold {
		return
	}
	p.store.Reset(key)
	ev.Country = p.countryOf(ip)
	p.ban(ev, RuleAuthBan, reason, c.dry.Auth, now)
	p.m.count(RuleAuthBan, dryLabel(c.dry.Auth))
}

// AuthSucceeded forgets the failures of the IP+user pair (not those of the IP).
func (p *Policy) AuthSucceeded(f AuthFacts) {
	ip := f.SrcIP.Unmap()
	if ip.IsValid() {
		p.store.Reset("authfail:" + ip.String() + "|" + f.User)
	}
}

// Unban lifts the ban of ip (a ban_removed event) and reports whether there was one.
func (p *Policy) Unban(ip netip.Addr) bool {
	b, ok := p.store.Unban(ip.Unmap())
	if ok {
		p.emit(secevent.Event{Type: secevent.BanRemoved, SrcIP: b.IP.String(), Rule: b.Rule, Reason: "ban lifted by an operator"})
		p.log.Info("ban lifted", zap.String("src_ip", b.IP.String()))
	}
	return ok
}

// Bans lists the bans in force.
func (p *Policy) Bans() []Ban { return p.store.Bans(p.now()) }

// ban bans the source of ev for a time that doubles with each offence. In dry run it only reports.
func (p *Policy) ban(ev secevent.Event, rule, reason string, dry bool, now time.Time) {
	c := p.cfg.Load()
	ip, err := netip.ParseAddr(ev.SrcIP)
	if err != nil || c.allowlisted(ip) {
		return
	}
	n := p.store.AddOffence(ip, now, c.raw.Bans.OffenceMemory.D())
	d := banLength(c.raw.Bans.BanTime.D(), c.raw.Bans.MaxBanTime.D(), n)
	if !dry {
		p.store.Ban(Ban{IP: ip, Since: now, Until: now.Add(d), Rule: rule, Reason: reason, Offence: n})
		p.m.bansAdded.Inc()
	}
	ev.Type, ev.Rule, ev.DryRun = secevent.BanAdded, rule, dry
	ev.Reason = fmt.Sprintf("%s; banned for %s (offence %d)", reason, d, n)
	p.emit(ev)
	p.log.Warn("source banned", zap.String("src_ip", ev.SrcIP), zap.String("rule", rule), zap.Duration("for", d),
		zap.Int("offence", n), zap.Bool("dry_run", dry))
}

// banLength is base doubled for every offence after the first, capped at max.
func banLength(base, max time.Duration, offence int) time.Duration {
	d := base
	for i := 1; i < offence && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func throttleKey(ip netip.Addr, user string) string { return "throttle:" + ip.String() + "|" + user }

func dryLabel(dry bool) string {
	if dry {
		return "dry_run"
	}
	return "deny"
}
