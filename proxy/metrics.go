package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus series; labels are bounded (side, class, result).
type metrics struct {
	requests            *prometheus.CounterVec
	responses           *prometheus.CounterVec
	malformed           *prometheus.CounterVec
	auth                *prometheus.CounterVec
	registrations       *prometheus.CounterVec
	forkedRegistrations *prometheus.CounterVec
	connRefused         *prometheus.CounterVec
	flowFailed          prometheus.Counter
	noTarget            prometheus.Counter
	calls               prometheus.Counter
	udpResets           prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, p *Proxy) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_sip_requests_total",
			Help: "SIP requests received, by side (access, core)."}, []string{"side"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_sip_responses_total",
			Help: "SIP responses sent upstream, by side and class (1xx..6xx)."}, []string{"side", "class"}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_sip_malformed_total",
			Help: "Requests refused by validation (400, 483, 416, 420, 505)."}, []string{"side"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_auth_total",
			Help: "Authentication outcomes (local digest checks and PBX verdicts seen in passthrough)."}, []string{"result"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_registrations_total",
			Help: "REGISTER outcomes: ok, rejected (401/403/407), failed."}, []string{"result"}),
		forkedRegistrations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_registration_fork_total",
			Help: "Outcomes of REGISTERs forked to secondary PBX targets (pbx.mode all)."}, []string{"class"}),
		connRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_connections_refused_total",
			Help: "Access connections refused before any SIP was read."}, []string{"reason"}),
		flowFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "sipedge_flow_failed_total",
			Help: "Requests answered 430 Flow Failed because the phone's connection was gone."}),
		noTarget: prometheus.NewCounter(prometheus.CounterOpts{Name: "sipedge_no_pbx_target_total",
			Help: "Requests answered 503 because no PBX target was healthy."}),
		calls: prometheus.NewCounter(prometheus.CounterOpts{Name: "sipedge_calls_total",
			Help: "Calls answered (INVITE dialogs confirmed)."}),
		udpResets: prometheus.NewCounter(prometheus.CounterOpts{Name: "sipedge_udp_source_resets_total",
			Help: "Times the access UDP listener started a fresh source-address table (after many distinct sources)."}),
	}
	gauges := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_flows", Help: "Access flows (connections) known."},
			func() float64 { n, _ := p.flows.counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_flows_registered", Help: "Access flows bound to a user."},
			func() float64 { _, n := p.flows.counts(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_dialogs", Help: "Dialogs tracked."},
			func() float64 { return float64(len(p.dialogs.list())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_calls_active", Help: "Confirmed INVITE dialogs."},
			func() float64 { return float64(p.dialogs.calls()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sipedge_transactions_active",
			Help: "Proxied transactions waiting for their final response."},
			func() float64 { return float64(p.forwarding.Load()) }),
	}
	for _, c := range append([]prometheus.Collector{m.requests, m.responses, m.malformed, m.auth, m.registrations,
		m.forkedRegistrations, m.connRefused, m.flowFailed, m.noTarget, m.calls, m.udpResets}, gauges...) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
