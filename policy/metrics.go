package policy

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the policy's Prometheus collectors. Labels are bounded: rule names and decisions only.
type metrics struct {
	decisions   *prometheus.CounterVec
	admitDeny   prometheus.Counter
	bansAdded   prometheus.Counter
	bansExpired prometheus.Counter
}

// checks are the entry points counted as rule labels for allowed decisions.
var checks = []string{"screen", "register", "call"}

func newMetrics(reg prometheus.Registerer, p *Policy) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_policy_decisions_total",
			Help: "Policy decisions by rule (or check, for allowed requests) and decision (allow, deny, dry_run)."},
			[]string{"rule", "decision"}),
		bansAdded: prometheus.NewCounter(prometheus.CounterOpts{Name: "sipedge_policy_bans_added_total",
			Help: "Source IPs banned (auth failures, scanners, floods)."}),
		bansExpired: prometheus.NewCounter(prometheus.CounterOpts{Name: "sipedge_policy_bans_expired_total",
			Help: "Bans that ran out."}),
	}
	for _, r := range allRules {
		for _, d := range []string{"deny", "dry_run"} {
			m.decisions.WithLabelValues(r, d)
		}
	}
	for _, c := range append(checks, RuleEmergency) {
		m.decisions.WithLabelValues(c, "allow")
	}
	m.admitDeny = m.decisions.WithLabelValues(RuleBan, "deny")
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_policy_bans_active",
		Help: "Source IPs banned right now."}, func() float64 { return float64(len(p.store.Bans(p.now()))) })
	calls := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_policy_calls_active",
		Help: "Calls the policy counts toward limits on this edge (ringing and answered)."},
		func() float64 { return float64(p.ActiveCalls()) })
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decisions, m.bansAdded, m.bansExpired, active, calls} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register policy metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) count(rule, decision string) { m.decisions.WithLabelValues(rule, decision).Inc() }
