package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // business hours and the spend day must work in minimal containers without zoneinfo

	"github.com/nyaruka/phonenumbers"
)

// Policy configures the policy engine: roles and destination classes, geo rules, toll-fraud limits,
// failed-authentication bans, flood and scanner protection, and security event delivery.
//
// Integer limits use -1 for "unlimited" / "disabled"; 0 in a role or user entry means "inherit".
type Policy struct {
	DefaultRegion         string         `yaml:"default_region" doc:"ISO 3166 region (e.g. GB, US, DE) used to normalise dialled numbers to E.164 and to recognise the region's emergency numbers, for users whose entry in policy.users names no region. Set it to where your users are: emergency numbers (112, 911, 999, 000, ...) are recognised per region and always allowed."`
	TimeZone              string         `yaml:"time_zone" doc:"IANA time zone for business hours without their own time_zone and for the day boundary of the daily spend budget."`
	InternalExtensions    string         `yaml:"internal_extensions" doc:"Regular expression (matched against the whole dialled user part) for internal PBX extensions (class internal). Keep it to your extension plan: a number it matches is never treated as an outside destination."`
	HighRiskPrefixes      []string       `yaml:"high_risk_prefixes" doc:"E.164 prefixes (+ and digits) of high-risk destinations (class high_risk). Numbers of the non-geographic region 001 and numbers that are not valid for any region are high risk regardless of this list."`
	DefaultRole           string         `yaml:"default_role" doc:"Role of users that match no entry in policy.users and have no role in the users file. If no role of this name is defined in policy.roles, a built-in role is used that allows internal, national, mobile and toll_free (never international, premium or high_risk)."`
	Roles                 []PolicyRole   `yaml:"roles" doc:"Roles: each entry has name, classes (destination classes it may call: internal, national, mobile, toll_free, international, premium, high_risk; emergency is always allowed), feature_codes (dial prefixes starting with * or # it may use, \"*\" for all), limits (overriding policy.limits) and hours (business-hours windows, each with classes, days such as [mon-fri, sat], from and to as HH:MM and an optional time_zone; a class listed in any window may only be called inside one of its windows)."`
	Users                 []PolicyUser   `yaml:"users" doc:"Role assignments, first match wins: each entry has users (exact user names), pattern (regular expression matched against the whole user name) and/or range (numeric user names FIRST-LAST, e.g. 1000-1999), the role, an optional region (overriding default_region) and optional limits (overriding the role's). A role named in the users file (auth.users_file) takes precedence over the entry's role."`
	Limits                PolicyLimits   `yaml:"limits" doc:"Toll-fraud limits that apply to every user unless the role or the user entry overrides them. Emergency calls are never counted or limited."`
	MaxInternationalCalls int            `yaml:"max_international_calls" doc:"Cap on concurrent calls to destinations outside the caller's region, across all users (-1: no cap)."`
	Spend                 PolicySpend    `yaml:"spend" doc:"Rate table for the daily spend budget."`
	Geo                   PolicyGeo      `yaml:"geo" doc:"Country rules by source IP address (MaxMind country database)."`
	Travel                []PolicyTravel `yaml:"travel" doc:"Temporary travel exceptions to the geo rules: each entry has user, countries (ISO codes the user may register and call from) and until (RFC 3339 time, or a date YYYY-MM-DD meaning the end of that day in time_zone)."`
	Bans                  PolicyBans     `yaml:"bans" doc:"Failed-authentication bans (like fail2ban). Banned source IPs are dropped before their messages are parsed."`
	Flood                 PolicyFlood    `yaml:"flood" doc:"Per source IP flood limits (like Kamailio's pike). Requests over the limit are dropped without an answer."`
	Scanner               PolicyScanner  `yaml:"scanner" doc:"Scanner detection: a matching User-Agent or behaviour bans the source IP at once."`
	DryRun                PolicyDryRun   `yaml:"dry_run" doc:"Per rule group dry run: the rule decides and logs (security events carry dry_run: true) but does not enforce."`
	Webhook               PolicyWebhook  `yaml:"webhook" doc:"Optional HTTP delivery of security events (JSON POST per event). The security log file stays the source of truth: events dropped here are still in the file."`
}

// PolicyRole is one role: what its users may call and how much.
type PolicyRole struct {
	Name         string        `yaml:"name" doc:"Role name, referenced by policy.users, policy.default_role and the users file."`
	Classes      []string      `yaml:"classes" doc:"Destination classes the role may call: internal, national, mobile, toll_free, international, premium, high_risk (emergency is always allowed)."`
	FeatureCodes []string      `yaml:"feature_codes" doc:"Feature-code prefixes (starting with * or #) the role may dial; \"*\" allows every feature code."`
	Limits       PolicyLimits  `yaml:"limits" doc:"Limits for the role's users; 0 inherits policy.limits, -1 is unlimited."`
	Hours        []PolicyHours `yaml:"hours" doc:"Business-hours windows restricting some classes to certain times."`
}

// PolicyHours is one business-hours window for some destination classes.
type PolicyHours struct {
	Classes  []string `yaml:"classes" doc:"Classes restricted to this window (e.g. [international])."`
	Days     []string `yaml:"days" doc:"Days: mon, tue, wed, thu, fri, sat, sun or ranges such as mon-fri."`
	From     string   `yaml:"from" doc:"Start time HH:MM (inclusive)."`
	To       string   `yaml:"to" doc:"End time HH:MM (exclusive; 24:00 is the end of the day). A window with to before from runs past midnight."`
	TimeZone string   `yaml:"time_zone" doc:"IANA time zone of the window; empty: policy.time_zone."`
}

// PolicyUser assigns a role (and optionally a region and limits) to users.
type PolicyUser struct {
	Users   []string     `yaml:"users" doc:"Exact user names."`
	Pattern string       `yaml:"pattern" doc:"Regular expression matched against the whole user name."`
	Range   string       `yaml:"range" doc:"Numeric user names FIRST-LAST, e.g. 1000-1999."`
	Role    string       `yaml:"role" doc:"Role of the matched users."`
	Region  string       `yaml:"region" doc:"Region for number normalisation and emergency numbers; empty: policy.default_region."`
	Limits  PolicyLimits `yaml:"limits" doc:"Per-user limits overriding the role's; 0 inherits, -1 is unlimited."`
}

// PolicyLimits are the per-user toll-fraud limits. 0 inherits, -1 is unlimited.
type PolicyLimits struct {
	ConcurrentCalls      int     `yaml:"concurrent_calls" doc:"Calls (ringing or answered) a user may have at once (-1: unlimited)."`
	CallsPerMinute       int     `yaml:"calls_per_minute" doc:"Calls a user may start in any 60 seconds (-1: unlimited)."`
	InternationalPerHour int     `yaml:"international_per_hour" doc:"Calls outside the user's region a user may start in any hour (-1: unlimited)."`
	DailyBudget          float64 `yaml:"daily_budget" doc:"Spend a user may reach per day in policy.spend.currency, estimated from the rate table; a call that would exceed it is refused and a call in progress that exhausts it is ended (-1: unlimited)."`
}

// PolicySpend is the rate table used to estimate call cost.
type PolicySpend struct {
	Currency         string       `yaml:"currency" doc:"Currency of prices and budgets (a label for logs)."`
	Rates            []PolicyRate `yaml:"rates" doc:"Price per minute by E.164 prefix, longest prefix wins: each entry has prefix (e.g. \"+44\") and per_minute."`
	DefaultPerMinute float64      `yaml:"default_per_minute" doc:"Price per minute of outside destinations that match no rate. With no rates and 0 here the spend budget never triggers (the count limits still apply)."`
}

// PolicyRate is one rate-table entry.
type PolicyRate struct {
	Prefix    string  `yaml:"prefix" doc:"E.164 prefix: + and digits."`
	PerMinute float64 `yaml:"per_minute" doc:"Price per minute."`
}

// PolicyGeo configures country rules.
type PolicyGeo struct {
	Database string        `yaml:"database" doc:"MaxMind country database (.mmdb, GeoLite2/GeoIP2 Country or City); relative paths are under data_dir. Empty: no geo rules (the lists below must then be empty)."`
	Register PolicyGeoRule `yaml:"register" doc:"Countries REGISTER requests may come from."`
	Call     PolicyGeoRule `yaml:"call" doc:"Countries calls may be placed from."`
	Unknown  string        `yaml:"unknown" doc:"What to do with source addresses that have no country (private, loopback, not in the database) for a rule (register or call) that has an allow or deny list: allow or deny."`
}

// PolicyGeoRule is an allow and a deny list of ISO country codes.
type PolicyGeoRule struct {
	Allow []string `yaml:"allow" doc:"ISO country codes allowed; empty: every country not denied."`
	Deny  []string `yaml:"deny" doc:"ISO country codes denied."`
}

// PolicyTravel is a temporary per-user exception to the geo rules.
type PolicyTravel struct {
	User      string   `yaml:"user" doc:"User name."`
	Countries []string `yaml:"countries" doc:"ISO country codes the user may register and call from."`
	Until     string   `yaml:"until" doc:"Expiry: RFC 3339 time or YYYY-MM-DD (end of that day in policy.time_zone)."`
}

// PolicyBans configures failed-authentication bans.
type PolicyBans struct {
	Threshold     int      `yaml:"threshold" doc:"Failed authentications from one source IP within window that ban it."`
	Window        Duration `yaml:"window" doc:"Sliding window for counting failed authentications."`
	BanTime       Duration `yaml:"ban_time" doc:"Length of a first ban; each further ban of the same IP within offence_memory doubles it."`
	MaxBanTime    Duration `yaml:"max_ban_time" doc:"Longest ban."`
	OffenceMemory Duration `yaml:"offence_memory" doc:"How long a ban counts toward the length of the next one."`
	Allowlist     []string `yaml:"allowlist" doc:"CIDRs (e.g. an office NAT) that are never banned as a whole and are exempt from flood and behavioural scanner limits; there only the offending IP+user pair is throttled for the ban time."`
}

// PolicyFlood configures per-IP flood limits.
type PolicyFlood struct {
	RequestsPerSecond       float64 `yaml:"requests_per_second" doc:"Sustained SIP requests per second one source IP may send (-1: no limit)."`
	Burst                   int     `yaml:"burst" doc:"Requests one source IP may send in a burst above requests_per_second."`
	TLSConnectionsPerMinute int     `yaml:"tls_connections_per_minute" doc:"New TCP/TLS connections one source IP may open per minute (-1: no limit)."`
	BanAfter                int     `yaml:"ban_after" doc:"Dropped flood requests from one IP within a minute that ban it (-1: never ban for floods; UDP sources can be spoofed)."`
}

// PolicyScanner configures scanner detection.
type PolicyScanner struct {
	UserAgents          []string `yaml:"user_agents" doc:"User-Agent substrings (case-insensitive) of SIP scanners; a match bans the source IP at the first request."`
	MaxToUsersPerMinute int      `yaml:"max_to_users_per_minute" doc:"Distinct To users one source IP may address in unauthenticated requests per minute before it is banned as an extension scanner (-1: off)."`
}

// PolicyDryRun switches rule groups to dry run.
type PolicyDryRun struct {
	RBAC    bool `yaml:"rbac" doc:"Destination classes and feature codes (rules class, feature_code)."`
	Geo     bool `yaml:"geo" doc:"Country rules (geo_register, geo_call)."`
	Hours   bool `yaml:"hours" doc:"Business hours (hours)."`
	Limits  bool `yaml:"limits" doc:"Fraud limits (concurrent, rate_minute, international_hour, international_global, spend), including ending calls that exhaust the budget."`
	Auth    bool `yaml:"auth" doc:"Failed-authentication bans and throttles (auth_ban, auth_throttle)."`
	Flood   bool `yaml:"flood" doc:"Flood limits (flood, tls_connections)."`
	Scanner bool `yaml:"scanner" doc:"Scanner detection (scanner_ua, scanner_to_users)."`
}

// PolicyWebhook configures webhook delivery of security events.
type PolicyWebhook struct {
	URL         string   `yaml:"url" doc:"http(s) URL that receives each security event as a JSON POST. Empty: no webhook."`
	Timeout     Duration `yaml:"timeout" doc:"Time one delivery attempt may take."`
	QueueSize   int      `yaml:"queue_size" doc:"Events waiting for delivery; when full, new events are dropped (and counted) instead of blocking."`
	MaxAttempts int      `yaml:"max_attempts" doc:"Delivery attempts per event (on network errors, 429 and 5xx) before it is dropped."`
	Backoff     Duration `yaml:"backoff" doc:"Wait before the first retry; doubled for each further retry."`
	MaxBackoff  Duration `yaml:"max_backoff" doc:"Longest wait between retries."`
}

// PolicyClasses are the destination class names a role may grant.
var PolicyClasses = []string{"internal", "national", "mobile", "toll_free", "international", "premium", "high_risk", "emergency"}

// DefaultScannerUserAgents are the User-Agent substrings of well-known SIP scanners.
var DefaultScannerUserAgents = []string{"friendly-scanner", "sipvicious", "sipcli", "VaxSIPUserAgent", "pplsip",
	"sundayddr", "iWar", "sip-scan", "smap"}

func (p *Policy) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defI := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	defF := func(f *float64, v float64) {
		if *f == 0 {
			*f = v
		}
	}
	defD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&p.DefaultRegion, "US")
	def(&p.TimeZone, "UTC")
	def(&p.InternalExtensions, "[1-9][0-9]{2,4}")
	if p.HighRiskPrefixes == nil {
		p.HighRiskPrefixes = []string{"+979", "+881", "+882", "+883"}
	}
	def(&p.DefaultRole, "default")
	defI(&p.Limits.ConcurrentCalls, 4)
	defI(&p.Limits.CallsPerMinute, 10)
	defI(&p.Limits.InternationalPerHour, 10)
	defF(&p.Limits.DailyBudget, 20)
	defI(&p.MaxInternationalCalls, 20)
	def(&p.Spend.Currency, "EUR")
	def(&p.Geo.Unknown, "allow")
	defI(&p.Bans.Threshold, 5)
	defD(&p.Bans.Window, 10*time.Minute)
	defD(&p.Bans.BanTime, 10*time.Minute)
	defD(&p.Bans.MaxBanTime, 24*time.Hour)
	defD(&p.Bans.OffenceMemory, 24*time.Hour)
	defF(&p.Flood.RequestsPerSecond, 20)
	defI(&p.Flood.Burst, 40)
	defI(&p.Flood.TLSConnectionsPerMinute, 30)
	defI(&p.Flood.BanAfter, -1)
	if p.Scanner.UserAgents == nil {
		p.Scanner.UserAgents = append([]string(nil), DefaultScannerUserAgents...)
	}
	defI(&p.Scanner.MaxToUsersPerMinute, 20)
	defD(&p.Webhook.Timeout, 5*time.Second)
	defI(&p.Webhook.QueueSize, 1000)
	defI(&p.Webhook.MaxAttempts, 5)
	defD(&p.Webhook.Backoff, time.Second)
	defD(&p.Webhook.MaxBackoff, time.Minute)
}

func (p *Policy) validate(add func(path, format string, a ...any)) {
	const pre = "policy."
	if !ValidRegion(p.DefaultRegion) {
		add(pre+"default_region", "%q is not a region with a calling code (use an ISO code such as GB, US, DE)", p.DefaultRegion)
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" {
		add(pre+"time_zone", "%q is not an IANA time zone", p.TimeZone)
	}
	if _, err := CompileWhole(p.InternalExtensions); err != nil || p.InternalExtensions == "" {
		add(pre+"internal_extensions", "not a valid regular expression: %v", errOrEmpty(err))
	}
	for i, s := range p.HighRiskPrefixes {
		if !validE164Prefix(s) {
			add(fmt.Sprintf(pre+"high_risk_prefixes[%d]", i), "%q is not an E.164 prefix (+ and digits)", s)
		}
	}
	roles := map[string]bool{}
	for i, r := range p.Roles {
		rp := fmt.Sprintf(pre+"roles[%d]", i)
		if r.Name == "" {
			add(rp+".name", "must not be empty")
		} else if roles[r.Name] {
			add(rp+".name", "duplicate role %q", r.Name)
		}
		roles[r.Name] = true
		validClasses(rp+".classes", r.Classes, add)
		for j, fc := range r.FeatureCodes {
			if fc == "" || (fc[0] != '*' && fc[0] != '#') {
				add(fmt.Sprintf("%s.feature_codes[%d]", rp, j), "%q must start with * or #", fc)
			}
		}
		validLimits(rp+".limits", r.Limits, add)
		for j, h := range r.Hours {
			hp := fmt.Sprintf("%s.hours[%d]", rp, j)
			if len(h.Classes) == 0 {
				add(hp+".classes", "must name at least one class")
			}
			validClasses(hp+".classes", h.Classes, add)
			if _, err := ParseDays(h.Days); err != nil {
				add(hp+".days", "%v", err)
			}
			if _, err := ParseClock(h.From); err != nil {
				add(hp+".from", "%v", err)
			}
			if _, err := ParseClock(h.To); err != nil {
				add(hp+".to", "%v", err)
			}
			if h.TimeZone != "" {
				if _, err := time.LoadLocation(h.TimeZone); err != nil {
					add(hp+".time_zone", "%q is not an IANA time zone", h.TimeZone)
				}
			}
		}
	}
	if p.DefaultRole == "" {
		add(pre+"default_role", "must not be empty")
	}
	for i, u := range p.Users {
		up := fmt.Sprintf(pre+"users[%d]", i)
		if len(u.Users) == 0 && u.Pattern == "" && u.Range == "" {
			add(up, "needs users, pattern or range")
		}
		if u.Pattern != "" {
			if _, err := CompileWhole(u.Pattern); err != nil {
				add(up+".pattern", "not a valid regular expression: %v", err)
			}
		}
		if u.Range != "" {
			if _, _, err := ParseNumberRange(u.Range); err != nil {
				add(up+".range", "%v", err)
			}
		}
		if u.Role == "" {
			add(up+".role", "must not be empty")
		} else if !roles[u.Role] && u.Role != p.DefaultRole {
			add(up+".role", "role %q is not defined in policy.roles", u.Role)
		}
		if u.Region != "" && !ValidRegion(u.Region) {
			add(up+".region", "%q is not a region with a calling code", u.Region)
		}
		validLimits(up+".limits", u.Limits, add)
	}
	validLimits(pre+"limits", p.Limits, add)
	if p.MaxInternationalCalls < -1 || p.MaxInternationalCalls == 0 {
		add(pre+"max_international_calls", "must be -1 (no cap) or at least 1")
	}
	if p.Spend.Currency == "" {
		add(pre+"spend.currency", "must not be empty")
	}
	for i, r := range p.Spend.Rates {
		rp := fmt.Sprintf(pre+"spend.rates[%d]", i)
		if !validE164Prefix(r.Prefix) {
			add(rp+".prefix", "%q is not an E.164 prefix (+ and digits)", r.Prefix)
		}
		if r.PerMinute < 0 {
			add(rp+".per_minute", "must not be negative")
		}
	}
	if p.Spend.DefaultPerMinute < 0 {
		add(pre+"spend.default_per_minute", "must not be negative")
	}
	p.validateGeo(add)
	for i, t := range p.Travel {
		tp := fmt.Sprintf(pre+"travel[%d]", i)
		if t.User == "" {
			add(tp+".user", "must not be empty")
		}
		if len(t.Countries) == 0 {
			add(tp+".countries", "must name at least one country")
		}
		validCountries(tp+".countries", t.Countries, add)
		loc, _ := time.LoadLocation(p.TimeZone)
		if _, err := t.Expiry(loc); err != nil {
			add(tp+".until", "%v", err)
		}
	}
	p.validateProtection(add)
}

func (p *Policy) validateGeo(add func(path, format string, a ...any)) {
	const pre = "policy.geo."
	validCountries(pre+"register.allow", p.Geo.Register.Allow, add)
	validCountries(pre+"register.deny", p.Geo.Register.Deny, add)
	validCountries(pre+"call.allow", p.Geo.Call.Allow, add)
	validCountries(pre+"call.deny", p.Geo.Call.Deny, add)
	if p.Geo.Unknown != "allow" && p.Geo.Unknown != "deny" {
		add(pre+"unknown", "%q is not one of [allow deny]", p.Geo.Unknown)
	}
	if p.Geo.Database == "" && (len(p.Geo.Register.Allow)+len(p.Geo.Register.Deny)+len(p.Geo.Call.Allow)+len(p.Geo.Call.Deny) > 0) {
		add(pre+"database", "country lists are set but no database is configured")
	}
}

func (p *Policy) validateProtection(add func(path, format string, a ...any)) {
	const pre = "policy."
	if p.Bans.Threshold < 1 {
		add(pre+"bans.threshold", "must be at least 1")
	}
	for _, d := range []struct {
		path string
		d    Duration
	}{{"bans.window", p.Bans.Window}, {"bans.ban_time", p.Bans.BanTime}, {"bans.max_ban_time", p.Bans.MaxBanTime},
		{"bans.offence_memory", p.Bans.OffenceMemory}, {"webhook.timeout", p.Webhook.Timeout},
		{"webhook.backoff", p.Webhook.Backoff}, {"webhook.max_backoff", p.Webhook.MaxBackoff}} {
		if d.d <= 0 {
			add(pre+d.path, "must be a positive duration")
		}
	}
	if p.Bans.MaxBanTime < p.Bans.BanTime {
		add(pre+"bans.max_ban_time", "must not be shorter than bans.ban_time")
	}
	for i, s := range p.Bans.Allowlist {
		if _, err := ParsePrefix(s); err != nil {
			add(fmt.Sprintf(pre+"bans.allowlist[%d]", i), "%v", err)
		}
	}
	if p.Flood.RequestsPerSecond < 0 && p.Flood.RequestsPerSecond != -1 {
		add(pre+"flood.requests_per_second", "must be positive or -1 (no limit)")
	}
	if p.Flood.Burst < 1 {
		add(pre+"flood.burst", "must be at least 1")
	}
	minusOneOrPositive(pre+"flood.tls_connections_per_minute", p.Flood.TLSConnectionsPerMinute, add)
	minusOneOrPositive(pre+"flood.ban_after", p.Flood.BanAfter, add)
	minusOneOrPositive(pre+"scanner.max_to_users_per_minute", p.Scanner.MaxToUsersPerMinute, add)
	for i, ua := range p.Scanner.UserAgents {
		if strings.TrimSpace(ua) == "" {
			add(fmt.Sprintf(pre+"scanner.user_agents[%d]", i), "must not be empty")
		}
	}
	if p.Webhook.URL != "" {
		if u, err := url.Parse(p.Webhook.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(pre+"webhook.url", "%q is not an http(s) URL", p.Webhook.URL)
		}
	}
	if p.Webhook.QueueSize < 1 {
		add(pre+"webhook.queue_size", "must be at least 1")
	}
	if p.Webhook.MaxAttempts < 1 {
		add(pre+"webhook.max_attempts", "must be at least 1")
	}
}

func minusOneOrPositive(path string, v int, add func(path, format string, a ...any)) {
	if v < 1 && v != -1 {
		add(path, "must be at least 1, or -1 to disable")
	}
}

func validLimits(path string, l PolicyLimits, add func(path, format string, a ...any)) {
	for _, f := range []struct {
		name string
		v    int
	}{{"concurrent_calls", l.ConcurrentCalls}, {"calls_per_minute", l.CallsPerMinute},
		{"international_per_hour", l.InternationalPerHour}} {
		if f.v < -1 {
			add(path+"."+f.name, "must be -1 (unlimited), 0 (inherit) or positive")
		}
	}
	if l.DailyBudget < 0 && l.DailyBudget != -1 {
		add(path+".daily_budget", "must be -1 (unlimited), 0 (inherit) or positive")
	}
}

func validClasses(path string, cs []string, add func(path, format string, a ...any)) {
	for i, c := range cs {
		ok := false
		for _, k := range PolicyClasses {
			ok = ok || c == k
		}
		if !ok {
			add(fmt.Sprintf("%s[%d]", path, i), "%q is not a class; use one of %v (feature codes go in feature_codes)", c, PolicyClasses)
		}
	}
}

var countryRe = regexp.MustCompile(`^[A-Z]{2}$`)

func validCountries(path string, cs []string, add func(path, format string, a ...any)) {
	for i, c := range cs {
		if !countryRe.MatchString(c) {
			add(fmt.Sprintf("%s[%d]", path, i), "%q is not an ISO 3166 country code (two capital letters)", c)
		}
	}
}

func validE164Prefix(s string) bool {
	if len(s) < 2 || s[0] != '+' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func errOrEmpty(err error) any {
	if err == nil {
		return "empty"
	}
	return err
}

// ValidRegion reports whether r is a region phonenumbers knows a calling code for.
func ValidRegion(r string) bool {
	return r != "" && phonenumbers.GetCountryCodeForRegion(r) != 0
}

// CompileWhole compiles a regular expression that must match the whole input.
func CompileWhole(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// ParseNumberRange parses "FIRST-LAST" (decimal, FIRST <= LAST).
func ParseNumberRange(s string) (lo, hi uint64, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.ParseUint(strings.TrimSpace(a), 10, 64)
		if err == nil {
			hi, err = strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		}
	}
	if !ok || err != nil || lo > hi {
		return 0, 0, fmt.Errorf("%q is not a range FIRST-LAST of numbers (e.g. 1000-1999)", s)
	}
	return lo, hi, nil
}

// ParsePrefix parses a CIDR or a bare IP address (a /32 or /128), unmapping IPv4-mapped IPv6.
func ParsePrefix(s string) (netip.Prefix, error) {
	if pf, err := netip.ParsePrefix(s); err == nil {
		if pf.Addr().Is4In6() && pf.Bits() >= 96 {
			pf = netip.PrefixFrom(pf.Addr().Unmap(), pf.Bits()-96)
		}
		return pf.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or IP address", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseDays parses day names (mon..sun) and ranges (mon-fri, fri-mon) into a bit set indexed by
// time.Weekday. An empty list means every day.
func ParseDays(days []string) (uint8, error) {
	if len(days) == 0 {
		return 0x7f, nil
	}
	var set uint8
	for _, d := range days {
		a, b, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "-")
		from, ok1 := dayNames[a]
		to, ok2 := from, true
		if isRange {
			to, ok2 = dayNames[b]
		}
		if !ok1 || !ok2 {
			return 0, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun) or range such as mon-fri", d)
		}
		for w := from; ; w = (w + 1) % 7 {
			set |= 1 << w
			if w == to {
				break
			}
		}
	}
	return set, nil
}

// ParseClock parses HH:MM (00:00 to 24:00) into the offset from midnight.
func ParseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// Expiry returns when the exception ends: an RFC 3339 time, or the end of a YYYY-MM-DD date in loc.
func (t PolicyTravel) Expiry(loc *time.Location) (time.Time, error) {
	if ts, err := time.Parse(time.RFC3339, t.Until); err == nil {
		return ts, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation("2006-01-02", t.Until, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a date YYYY-MM-DD", t.Until)
	}
	return d.AddDate(0, 0, 1), nil
}

// ApplyDefaults fills the zero-valued policy fields with their defaults (the same as Config.ApplyDefaults
// does for the policy section). It is idempotent.
func (p *Policy) ApplyDefaults() { p.applyDefaults() }

// Validate checks a defaulted policy section on its own; paths start with "policy.".
func (p *Policy) Validate() Errors {
	var errs Errors
	p.validate(func(path, format string, a ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, a...)})
	})
	return errs
}
