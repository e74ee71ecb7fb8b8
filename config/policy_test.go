package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func defaultPolicy() Policy {
	var p Policy
	p.applyDefaults()
	return p
}

func TestPolicyDefaultsValid(t *testing.T) {
	p := defaultPolicy()
	if errs := p.Validate(); len(errs) > 0 {
		t.Fatalf("default policy invalid: %v", errs)
	}
	if p.Bans.Threshold != 5 || p.Bans.Window.D() != 10*time.Minute || p.Bans.BanTime.D() != 10*time.Minute ||
		p.Bans.MaxBanTime.D() != 24*time.Hour {
		t.Errorf("ban defaults are not fail2ban-like: %+v", p.Bans)
	}
	if len(p.Scanner.UserAgents) != 9 || p.Scanner.UserAgents[0] != "friendly-scanner" {
		t.Errorf("scanner user agents: %v", p.Scanner.UserAgents)
	}
	if strings.Join(p.HighRiskPrefixes, ",") != "+979,+881,+882,+883" {
		t.Errorf("high risk prefixes: %v", p.HighRiskPrefixes)
	}
	// Defaults are idempotent and do not overwrite explicit values (including "empty list").
	q := Policy{Scanner: PolicyScanner{UserAgents: []string{}}, Limits: PolicyLimits{ConcurrentCalls: -1}}
	q.applyDefaults()
	q.applyDefaults()
	if len(q.Scanner.UserAgents) != 0 || q.Limits.ConcurrentCalls != -1 || q.Limits.CallsPerMinute != 10 {
		t.Errorf("defaults overwrote explicit values: %+v %+v", q.Scanner, q.Limits)
	}
}

// The reference generator renders every non-struct field with yamlValue; the policy section must render
// to YAML that decodes back to the defaults, and every field (also in list element types) has a doc tag.
func TestPolicyDefaultYAMLRoundTripsAndDocumented(t *testing.T) {
	p := defaultPolicy()
	var b strings.Builder
	var rec func(v reflect.Value, depth int)
	rec = func(v reflect.Value, depth int) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			ind := strings.Repeat("  ", depth)
			if f.Type.Kind() == reflect.Struct {
				b.WriteString(ind + name + ":\n")
				rec(v.Field(i), depth+1)
				continue
			}
			b.WriteString(ind + name + ": " + yamlValue(v.Field(i)) + "\n")
		}
	}
	rec(reflect.ValueOf(p), 0)
	var back Policy
	if err := yaml.Unmarshal([]byte(b.String()), &back); err != nil {
		t.Fatalf("rendered defaults do not parse: %v\n%s", err, b.String())
	}
	back.applyDefaults()
	if !reflect.DeepEqual(normalize(back), normalize(p)) {
		t.Fatalf("round trip changed the defaults:\n got %+v\nwant %+v", back, p)
	}
	var check func(t reflect.Type, path string)
	check = func(ty reflect.Type, path string) {
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if strings.TrimSpace(f.Tag.Get("doc")) == "" || f.Tag.Get("yaml") == "" {
				t.Errorf("%s.%s has no doc or yaml tag", path, f.Name)
			}
			et := f.Type
			if et.Kind() == reflect.Slice {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && et != reflect.TypeOf(Duration(0)) {
				check(et, path+"."+f.Name)
			}
		}
	}
	check(reflect.TypeOf(p), "policy")
}

// normalize treats nil and empty slices alike (YAML "[]" decodes to an empty slice).
func normalize(p Policy) Policy {
	fix := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	p.Bans.Allowlist = fix(p.Bans.Allowlist)
	p.Geo.Register.Allow, p.Geo.Register.Deny = fix(p.Geo.Register.Allow), fix(p.Geo.Register.Deny)
	p.Geo.Call.Allow, p.Geo.Call.Deny = fix(p.Geo.Call.Allow), fix(p.Geo.Call.Deny)
	if len(p.Roles) == 0 {
		p.Roles = nil
	}
	if len(p.Users) == 0 {
		p.Users = nil
	}
	if len(p.Travel) == 0 {
		p.Travel = nil
	}
	if len(p.Spend.Rates) == 0 {
		p.Spend.Rates = nil
	}
	return p
}

func TestPolicyValidateTable(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // paths that must be reported
	}{
		{"good full", `
default_region: GB
time_zone: Europe/London
roles:
  - name: staff
    classes: [internal, national, mobile, international]
    feature_codes: ["*97", "#"]
    limits: {concurrent_calls: 2, daily_budget: -1}
    hours: [{classes: [international], days: [mon-fri], from: "08:00", to: "18:00", time_zone: Europe/Berlin}]
users:
  - {users: [alice], role: staff, region: DE}
  - {pattern: "2[0-9]{3}", role: default}
  - {range: 1000-1999, role: staff}
spend: {rates: [{prefix: "+44", per_minute: 0.02}]}
geo: {database: x.mmdb, register: {deny: [CN]}, call: {allow: [GB, SE]}, unknown: deny}
travel: [{user: alice, countries: [US], until: 2030-01-31}]
bans: {allowlist: [192.0.2.0/24, 2001:db8::1]}
webhook: {url: "https://siem.example/hook"}
`, nil},
		{"bad region and tz", "default_region: XX\ntime_zone: Mars/Base\n", []string{"policy.default_region", "policy.time_zone"}},
		{"bad regex", "internal_extensions: \"[\"\n", []string{"policy.internal_extensions"}},
		{"bad prefix", "high_risk_prefixes: [\"979\"]\n", []string{"policy.high_risk_prefixes[0]"}},
		{"role errors", `
roles:
  - name: a
    classes: [international, feature_code]
    feature_codes: ["97"]
    limits: {concurrent_calls: -2, daily_budget: -3}
    hours: [{classes: [], days: [someday], from: "8", to: "25:00", time_zone: Nowhere/City}]
  - name: a
`, []string{"policy.roles[0].classes[1]", "policy.roles[0].feature_codes[0]", "policy.roles[0].limits.concurrent_calls",
			"policy.roles[0].limits.daily_budget", "policy.roles[0].hours[0].classes", "policy.roles[0].hours[0].days",
			"policy.roles[0].hours[0].from", "policy.roles[0].hours[0].to", "policy.roles[0].hours[0].time_zone", "policy.roles[1].name"}},
		{"user errors", `
users:
  - {role: nobody}
  - {pattern: "(", range: 9-1, role: default, region: ZZ}
`, []string{"policy.users[0]", "policy.users[0].role", "policy.users[1].pattern", "policy.users[1].range", "policy.users[1].region"}},
		{"geo without database", "geo: {register: {allow: [gb]}, unknown: maybe}\n",
			[]string{"policy.geo.database", "policy.geo.register.allow[0]", "policy.geo.unknown"}},
		{"travel", "travel: [{user: '', countries: [], until: tomorrow}]\n",
			[]string{"policy.travel[0].user", "policy.travel[0].countries", "policy.travel[0].until"}},
		{"protection", `
bans: {threshold: -1, ban_time: 1h, max_ban_time: 10m, allowlist: [office]}
flood: {requests_per_second: -5, burst: -1, tls_connections_per_minute: -7}
scanner: {user_agents: [" "], max_to_users_per_minute: -2}
webhook: {url: "ftp://x", queue_size: -1, max_attempts: -1, timeout: -1s}
spend: {rates: [{prefix: "+x", per_minute: -1}], default_per_minute: -1}
max_international_calls: -4
`, []string{"policy.bans.threshold", "policy.bans.max_ban_time", "policy.bans.allowlist[0]", "policy.flood.requests_per_second",
			"policy.flood.burst", "policy.flood.tls_connections_per_minute", "policy.scanner.user_agents[0]",
			"policy.scanner.max_to_users_per_minute", "policy.webhook.url", "policy.webhook.queue_size", "policy.webhook.max_attempts",
			"policy.webhook.timeout", "policy.spend.rates[0].prefix", "policy.spend.rates[0].per_minute",
			"policy.spend.default_per_minute", "policy.max_international_calls"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Policy
			if err := yaml.Unmarshal([]byte(tc.yaml), &p); err != nil {
				t.Fatalf("yaml: %v", err)
			}
			p.applyDefaults()
			got := map[string]bool{}
			var all []string
			p.validate(func(path, format string, a ...any) {
				got[path] = true
				all = append(all, path)
			})
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("no error for %s; got %v", w, all)
				}
			}
			if len(tc.want) == 0 && len(all) > 0 {
				t.Errorf("unexpected errors: %v", all)
			}
			if len(all) != len(got) {
				t.Errorf("a path was reported twice: %v", all)
			}
			if len(tc.want) > 0 && len(all) != len(tc.want) {
				t.Errorf("got %d errors %v, want %d", len(all), all, len(tc.want))
			}
		})
	}
}

func TestPolicyParsers(t *testing.T) {
	days, err := ParseDays([]string{"fri-mon", "wed"})
	want := uint8(1<<time.Friday | 1<<time.Saturday | 1<<time.Sunday | 1<<time.Monday | 1<<time.Wednesday)
	if err != nil || days != want {
		t.Errorf("ParseDays = %07b, %v; want %07b", days, err, want)
	}
	if all, _ := ParseDays(nil); all != 0x7f {
		t.Errorf("empty days = %07b, want every day", all)
	}
	for s, want := range map[string]time.Duration{"00:00": 0, "08:30": 8*time.Hour + 30*time.Minute, "24:00": 24 * time.Hour} {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"8", "24:01", "12:5", "ab:cd", "-1:00"} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) accepted", s)
		}
	}
	loc, _ := time.LoadLocation("Europe/London")
	exp, err := PolicyTravel{Until: "2030-07-01"}.Expiry(loc)
	if err != nil || !exp.Equal(time.Date(2030, 7, 2, 0, 0, 0, 0, loc)) {
		t.Errorf("date expiry = %v, %v (want the end of 1 July in London)", exp, err)
	}
	exp, err = PolicyTravel{Until: "2030-07-01T12:00:00Z"}.Expiry(loc)
	if err != nil || !exp.Equal(time.Date(2030, 7, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 expiry = %v, %v", exp, err)
	}
	if pf, err := ParsePrefix("::ffff:192.0.2.7"); err != nil || pf.String() != "192.0.2.7/32" {
		t.Errorf("ParsePrefix(mapped) = %v, %v", pf, err)
	}
	if pf, err := ParsePrefix("10.1.2.3/8"); err != nil || pf.String() != "10.0.0.0/8" {
		t.Errorf("ParsePrefix(cidr) = %v, %v", pf, err)
	}
	if lo, hi, err := ParseNumberRange("1000-1999"); err != nil || lo != 1000 || hi != 1999 {
		t.Errorf("ParseNumberRange = %d, %d, %v", lo, hi, err)
	}
	re, _ := CompileWhole("1[0-9]{2}")
	if !re.MatchString("123") || re.MatchString("1234") || re.MatchString("x123") {
		t.Error("CompileWhole does not anchor")
	}
}
