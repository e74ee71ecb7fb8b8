package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipedge/sipedge/config"
)

// Limits are one user's effective toll-fraud limits; -1 is unlimited.
type Limits struct {
	ConcurrentCalls      int
	CallsPerMinute       int
	InternationalPerHour int
	DailyBudget          float64
}

// compiled is an immutable, ready-to-use form of config.Policy; Reload swaps it atomically.
type compiled struct {
	raw         config.Policy
	loc         *time.Location
	region      string
	internal    *regexp.Regexp
	highRisk    []string
	roles       map[string]*role
	defaultRole *role
	users       []userRule
	travel      map[string][]travel
	base        Limits
	maxIntl     int
	rates       []rate
	defaultRate float64
	currency    string
	geoRegister geoRule
	geoCall     geoRule
	unknownDeny bool
	allowlist   []netip.Prefix
	scannerUAs  []string // lower case
	dry         config.PolicyDryRun
}

type role struct {
	name     string
	classes  map[Class]bool
	features []string
	allFeats bool
	limits   config.PolicyLimits
	hours    []hours
}

type hours struct {
	classes  map[Class]bool
	days     uint8
	from, to time.Duration
	loc      *time.Location
}

type userRule struct {
	names   map[string]bool
	pattern *regexp.Regexp
	hasRng  bool
	lo, hi  uint64
	role    string
	region  string
	limits  config.PolicyLimits
}

type travel struct {
	countries map[string]bool
	until     time.Time
}

type rate struct {
	prefix    string
	perMinute float64
}

type geoRule struct {
	allow, deny map[string]bool
}

func (g geoRule) active() bool { return len(g.allow)+len(g.deny) > 0 }

// builtinClasses are granted by the built-in role used when policy.default_role names no configured role.
var builtinClasses = []Class{ClassInternal, ClassNational, ClassMobile, ClassTollFree}

// compile checks and converts a (defaulted) policy configuration.
func compile(p config.Policy) (*compiled, error) {
	p.ApplyDefaults()
	if errs := p.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrConfig, errs)
	}
	c := &compiled{raw: p, region: p.DefaultRegion, highRisk: p.HighRiskPrefixes, maxIntl: p.MaxInternationalCalls,
		defaultRate: p.Spend.DefaultPerMinute, currency: p.Spend.Currency, unknownDeny: p.Geo.Unknown == "deny",
		dry: p.DryRun, roles: map[string]*role{}, travel: map[string][]travel{}}
	c.loc, _ = time.LoadLocation(p.TimeZone)
	c.internal, _ = config.CompileWhole(p.InternalExtensions)
	c.base = Limits{p.Limits.ConcurrentCalls, p.Limits.CallsPerMinute, p.Limits.InternationalPerHour, p.Limits.DailyBudget}
	for _, r := range p.Roles {
		c.roles[r.Name] = c.compileRole(r)
	}
	if c.defaultRole = c.roles[p.DefaultRole]; c.defaultRole == nil {
		c.defaultRole = &role{name: p.DefaultRole, classes: map[Class]bool{}}
		for _, k := range builtinClasses {
			c.defaultRole.classes[k] = true
		}
		c.roles[p.DefaultRole] = c.defaultRole
	}
	for _, u := range p.Users {
		ur := userRule{names: map[string]bool{}, role: u.Role, region: u.Region, limits: u.Limits}
		for _, n := range u.Users {
			ur.names[n] = true
		}
		if u.Pattern != "" {
			ur.pattern, _ = config.CompileWhole(u.Pattern)
		}
		if u.Range != "" {
			ur.lo, ur.hi, _ = config.ParseNumberRange(u.Range)
			ur.hasRng = true
		}
		c.users = append(c.users, ur)
	}
	for _, t := range p.Travel {
		until, _ := t.Expiry(c.loc)
		tr := travel{countries: set(t.Countries), until: until}
		c.travel[t.User] = append(c.travel[t.User], tr)
	}
	for _, r := range p.Spend.Rates {
		c.rates = append(c.rates, rate{r.Prefix, r.PerMinute})
	}
	c.geoRegister = geoRule{set(p.Geo.Register.Allow), set(p.Geo.Register.Deny)}
	c.geoCall = geoRule{set(p.Geo.Call.Allow), set(p.Geo.Call.Deny)}
	for _, s := range p.Bans.Allowlist {
		pf, _ := config.ParsePrefix(s)
		c.allowlist = append(c.allowlist, pf)
	}
	for _, ua := range p.Scanner.UserAgents {
		c.scannerUAs = append(c.scannerUAs, strings.ToLower(ua))
	}
	return c, nil
}

func (c *compiled) compileRole(r config.PolicyRole) *role {
	ro := &role{name: r.Name, classes: map[Class]bool{}, limits: r.Limits}
	for _, k := range r.Classes {
		ro.classes[Class(k)] = true
	}
	for _, f := range r.FeatureCodes {
		if f == "*" {
			ro.allFeats = true
		}
		ro.features = append(ro.features, f)
	}
	for _, h := range r.Hours {
		hw := hours{classes: map[Class]bool{}, loc: c.loc}
		for _, k := range h.Classes {
			hw.classes[Class(k)] = true
		}
		hw.days, _ = config.ParseDays(h.Days)
		hw.from, _ = config.ParseClock(h.From)
		hw.to, _ = config.ParseClock(h.To)
		if h.TimeZone != "" {
			hw.loc, _ = time.LoadLocation(h.TimeZone)
		}
		ro.hours = append(ro.hours, hw)
	}
	return ro
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// subject is a resolved user: role, region and effective limits.
type subject struct {
	name   string
	role   *role
	region string
	limits Limits
}

// resolve finds the user's role, region and limits. fileRoles are the user's roles from the users file.
func (c *compiled) resolve(user string, fileRoles []string) subject {
	s := subject{name: user, role: c.defaultRole, region: c.region, limits: c.base}
	var entry *userRule
	for i := range c.users {
		if c.users[i].matches(user) {
			entry = &c.users[i]
			break
		}
	}
	if entry != nil {
		if r := c.roles[entry.role]; r != nil {
			s.role = r
		}
		if entry.region != "" {
			s.region = entry.region
		}
	}
	for _, fr := range fileRoles {
		if r := c.roles[fr]; r != nil {
			s.role = r
			break
		}
	}
	s.limits = overlay(s.limits, s.role.limits)
	if entry != nil {
		s.limits = overlay(s.limits, entry.limits)
	}
	return s
}

func (u *userRule) matches(user string) bool {
	if u.names[user] || (u.pattern != nil && u.pattern.MatchString(user)) {
		return true
	}
	if u.hasRng && user != "" && !strings.HasPrefix(user, "+") {
		if n, err := strconv.ParseUint(user, 10, 64); err == nil {
			return n >= u.lo && n <= u.hi
		}
	}
	return false
}

func overlay(l Limits, o config.PolicyLimits) Limits {
	if o.ConcurrentCalls != 0 {
		l.ConcurrentCalls = o.ConcurrentCalls
	}
	if o.CallsPerMinute != 0 {
		l.CallsPerMinute = o.CallsPerMinute
	}
	if o.InternationalPerHour != 0 {
		l.InternationalPerHour = o.InternationalPerHour
	}
	if o.DailyBudget != 0 {
		l.DailyBudget = o.DailyBudget
	}
	return l
}

// allows reports whether the role may call dest (dialled is the raw dialled string, for feature codes).
func (r *role) allows(dest Destination, dialled string) bool {
	if dest.Class == ClassEmergency {
		return true
	}
	if dest.Class == ClassFeatureCode {
		if r.allFeats {
			return true
		}
		return slices.ContainsFunc(r.features, func(f string) bool { return strings.HasPrefix(dialled, f) })
	}
	return r.classes[dest.Class]
}

// inHours reports whether class may be called at now under the role's business hours. Classes named in
// no window are not restricted.
func (r *role) inHours(class Class, now time.Time) bool {
	restricted := false
	for _, h := range r.hours {
		if !h.classes[class] {
			continue
		}
		restricted = true
		if h.contains(now) {
			return true
		}
	}
	return !restricted
}

func (h hours) contains(now time.Time) bool {
	t := now.In(h.loc)
	mid := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
	off := t.Sub(mid)
	day := t.Weekday()
	if h.from <= h.to {
		return h.days&(1<<day) != 0 && off >= h.from && off < h.to
	}
	// Overnight window: the evening part belongs to the listed day, the morning part to the day before.
	if off >= h.from && h.days&(1<<day) != 0 {
		return true
	}
	prev := (day + 6) % 7
	return off < h.to && h.days&(1<<prev) != 0
}

// allowlisted reports whether ip is in the ban allowlist.
func (c *compiled) allowlisted(ip netip.Addr) bool {
	for _, p := range c.allowlist {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// geoAllows applies rule to the country of the source (has is false when it has none) for user at now.
// It returns whether the source may proceed and a detail for logs.
func (c *compiled) geoAllows(g geoRule, user, country string, has bool, now time.Time) (bool, string) {
	if !g.active() {
		return true, ""
	}
	if has {
		for _, t := range c.travel[user] {
			if t.countries[country] && now.Before(t.until) {
				return true, "travel exception"
			}
		}
	}
	switch {
	case !has && c.unknownDeny:
		return false, "source address has no country"
	case !has:
		return true, ""
	case g.deny[country]:
		return false, "country " + country + " is denied"
	case len(g.allow) > 0 && !g.allow[country]:
		return false, "country " + country + " is not allowed"
	}
	return true, ""
}
