package proxy

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/sipedge/sipedge/proxy/health"
)

// target is a PBX target resolved for sending.
type target struct {
	health.Target
	dest      string // host:port
	transport string // upper case
}

func toTarget(t health.Target) target {
	var u sip.Uri
	_ = sip.ParseUri(t.URI, &u)
	dest, tr := destOf(u)
	return target{Target: t, dest: dest, transport: tr}
}

// pickTarget is the first healthy PBX target (failover order).
func (p *Proxy) pickTarget() (target, bool) {
	if p.health == nil {
		return target{}, false
	}
	t, ok := p.health.Pick()
	if !ok {
		return target{}, false
	}
	return toTarget(t), true
}

// healthyTargets lists the healthy targets in configured order.
func (p *Proxy) healthyTargets() []target {
	if p.health == nil {
		return nil
	}
	var out []target
	for _, t := range p.health.All() {
		out = append(out, toTarget(t))
	}
	return out
}

// markTargetFailed takes a target out of rotation after a transport failure, until a probe succeeds.
func (p *Proxy) markTargetFailed(dest string) {
	for _, t := range p.targets {
		if toTarget(t).dest == dest {
			p.health.MarkFailed(t)
		}
	}
}

// probe sends OPTIONS to a target; any response means it is alive.
func (p *Proxy) probe(ctx context.Context, t health.Target) (int, error) {
	tt := toTarget(t)
	var ruri sip.Uri
	if err := sip.ParseUri(t.URI, &ruri); err != nil {
		return 0, err
	}
	req := sip.NewRequest(sip.OPTIONS, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "sipedge", Host: p.coreEP.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: ruri, Params: sip.NewParams()})
	cid := sip.CallIDHeader(sip.GenerateTagN(20))
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.OPTIONS})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("User-Agent", "sipedge"))
	cl := sip.ContentLengthHeader(0)
	req.AppendHeader(&cl)
	req.SetDestination(tt.dest)
	req.SetTransport(tt.transport)
	addVia(req, tt.transport, p.coreEP.Addr())
	tx, err := p.coreTxl.Request(ctx, req)
	if err != nil {
		return 0, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res == nil {
				return 0, tx.Err()
			}
			if res.StatusCode >= 200 {
				return res.StatusCode, nil
			}
		case <-tx.Done():
			return 0, tx.Err()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
