package edgeapp

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/policy"
	"github.com/sipedge/sipedge/policy/webhook"
	"github.com/sipedge/sipedge/proxy"
)

// newPolicy builds the policy engine (and its geo database and webhook) from the configuration.
func (a *App) newPolicy() error {
	cfg := a.Cfg
	o := policy.Options{Store: policy.NewMemoryStore(), Log: a.Log.Named("policy"), Registerer: a.Registry, Emitter: a.Sec,
		UserRoles: func(u string) []string {
			if a.Users == nil {
				return nil
			}
			usr, ok := a.Users.Lookup(u)
			if !ok {
				return nil
			}
			return usr.Roles
		},
		OnBudgetExhausted: func(callID string) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
				defer cancel()
				if a.Proxy != nil {
					_ = a.Proxy.EndCall(ctx, callID, "spend limit reached")
				}
			}()
		},
	}
	if db := cfg.Policy.Geo.Database; db != "" {
		geo, err := policy.OpenMaxMind(cfg.Path(db))
		if err != nil {
			return fmt.Errorf("policy.geo.database: %w", err)
		}
		o.GeoDB = geo
		a.closers = append(a.closers, geo.Close)
		a.geoPath = db
	}
	p, err := policy.New(cfg.Policy, o)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	a.Policy = p
	if w := cfg.Policy.Webhook; w.URL != "" {
		s, err := webhook.New(webhook.Config{URL: w.URL, Timeout: w.Timeout.D(), QueueSize: w.QueueSize,
			MaxAttempts: w.MaxAttempts, Backoff: w.Backoff.D(), MaxBackoff: w.MaxBackoff.D(), Log: a.Log.Named("webhook"),
			Registerer: a.Registry})
		if err != nil {
			return fmt.Errorf("policy.webhook: %w", err)
		}
		a.Sec.Subscribe(s.Send)
		a.closers = append(a.closers, func() error { s.Close(); return nil })
	}
	return nil
}

// reloadPolicy applies a new policy section (and a changed geo database) without dropping state.
func (a *App) reloadPolicy(cfg *config.Config) error {
	if db := cfg.Policy.Geo.Database; db != "" && db != a.geoPath {
		geo, err := policy.OpenMaxMind(cfg.Path(db))
		if err != nil {
			return fmt.Errorf("policy.geo.database: %w", err)
		}
		a.Policy.SetGeoDB(geo)
		a.closers = append(a.closers, geo.Close)
		a.geoPath = db
	}
	return a.Policy.Reload(cfg.Policy)
}

// policyHooks connects the proxy's request chain to the policy engine.
func (a *App) policyHooks() proxy.Hooks {
	p := a.Policy
	refuse := func(d policy.Decision) *proxy.Rejection {
		if d.Allow {
			return nil
		}
		status := d.Status
		if status == 0 && !d.Drop {
			status = 403
		}
		return &proxy.Rejection{Status: status, Reason: reasonPhrase(status), Detail: d.Rule + ": " + d.Reason, Drop: d.Drop}
	}
	hv := func(r *sip.Request, name string) string {
		if h := r.GetHeader(name); h != nil {
			return h.Value()
		}
		return ""
	}
	return proxy.Hooks{
		Admit:      p.Admit,
		Connection: func(ip netip.Addr) bool { return p.Connection(ip).Allow },
		Screen: func(_ context.Context, r *proxy.Request) *proxy.Rejection {
			f := policy.ScreenFacts{SrcIP: r.SrcIP, SrcPort: r.SrcPort, Transport: r.Transport, Method: string(r.SIP.Method),
				UserAgent: hv(r.SIP, "User-Agent"), User: r.User}
			if h := r.SIP.From(); h != nil {
				f.FromUser = h.Address.User
			}
			if h := r.SIP.To(); h != nil {
				f.ToUser = h.Address.User
			}
			if h := r.SIP.CallID(); h != nil {
				f.CallID = h.Value()
			}
			return refuse(p.Screen(f))
		},
		Register: func(_ context.Context, r *proxy.Request) *proxy.Rejection {
			return refuse(p.Register(policy.RegisterFacts{SrcIP: r.SrcIP, SrcPort: r.SrcPort, Transport: r.Transport,
				User: r.User, UserAgent: hv(r.SIP, "User-Agent"), CallID: hv(r.SIP, "Call-ID")}))
		},
		Authorize: func(_ context.Context, r *proxy.Request) *proxy.Rejection {
			if r.SIP.Method != sip.INVITE {
				return nil
			}
			return refuse(p.Call(policy.CallFacts{CallID: hv(r.SIP, "Call-ID"), User: r.User, Dialled: r.SIP.Recipient.User,
				SrcIP: r.SrcIP, SrcPort: r.SrcPort, Transport: r.Transport, UserAgent: hv(r.SIP, "User-Agent")}))
		},
		AuthResult: func(e proxy.AuthEvent) {
			f := policy.AuthFacts{SrcIP: e.SrcIP, SrcPort: e.SrcPort, Transport: e.Transport, Method: e.Method, User: e.User,
				UserAgent: e.UserAgent, CallID: e.CallID}
			if e.OK {
				p.AuthSucceeded(f)
			} else {
				p.AuthFailed(f)
			}
		},
		CallStarted: func(c proxy.CallInfo) {
			if c.Caller != "" {
				p.CallStarted(c.CallID, c.Caller, "", 0)
			}
		},
		CallEnded: func(c proxy.CallInfo) { p.CallEnded(c.CallID) },
	}
}

func reasonPhrase(status int) string {
	switch status {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Forbidden"
}
