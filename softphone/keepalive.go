package softphone

import (
	"net/netip"
	"time"
)

// keepalive runs the RFC 5626 keepalives of one flow (section 4.4): a CRLF
// ping answered by a CRLF pong on TCP/TLS, a STUN Binding request answered
// with the mapped address on UDP. An unanswered ping (after PongTimeout) or,
// on UDP, a changed mapped address means the flow failed. A UDP peer that has
// never answered STUN (a registrar without RFC 5626 support) still gets the
// requests, which keep a NAT binding open, but silence is not a failure
// there. It is driven by supervise's select loop and owns only timers.
type keepalive struct {
	p        *Phone
	f        *flow
	interval time.Duration
	next     *time.Timer // next ping
	deadline *time.Timer // answer deadline while a ping is outstanding
	resend   *time.Timer // STUN retransmission (UDP)
	rto      time.Duration
	stun     stunTxID
}

// stunRTO is the first STUN retransmission timeout (RFC 5389 section 7.2.1); it doubles.
const stunRTO = 500 * time.Millisecond

func (p *Phone) newKeepalive(f *flow) *keepalive {
	k := &keepalive{p: p, f: f, interval: p.acct.Keepalive}
	if k.interval <= 0 {
		return k
	}
	first := keepaliveDelay(k.interval)
	if f.network == "UDP" {
		first = 0 // learn the mapped address right after registering
	}
	k.next = time.NewTimer(first)
	return k
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func (k *keepalive) nextC() <-chan time.Time     { return timerC(k.next) }
func (k *keepalive) deadlineC() <-chan time.Time { return timerC(k.deadline) }
func (k *keepalive) resendC() <-chan time.Time   { return timerC(k.resend) }

func (k *keepalive) stop() {
	for _, t := range []*time.Timer{k.next, k.deadline, k.resend} {
		if t != nil {
			t.Stop()
		}
	}
}

// ping sends a keepalive and arms the answer deadline; false means the flow is broken.
func (k *keepalive) ping() bool {
	var err error
	if k.f.network == "UDP" {
		k.stun = newSTUNTxID()
		k.f.expectSTUN(k.stun)
		err = k.sendSTUN()
		k.rto = stunRTO
		k.resend = time.NewTimer(k.rto)
	} else {
		err = k.f.ping()
	}
	if err != nil {
		k.p.log.Warn("keepalive failed", "error", err)
		return false
	}
	k.deadline = time.NewTimer(k.p.opts.PongTimeout)
	return true
}

func (k *keepalive) sendSTUN() error {
	_, err := k.p.udp.WriteTo(stunRequest(k.stun), k.f.raddr)
	return err
}

// retransmit resends the outstanding STUN request with a doubled timeout.
func (k *keepalive) retransmit() {
	_ = k.sendSTUN()
	k.rto *= 2
	k.resend.Reset(k.rto)
}

// answered ends the outstanding ping and schedules the next one.
func (k *keepalive) answered() {
	for _, t := range []**time.Timer{&k.deadline, &k.resend} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
	k.next.Reset(keepaliveDelay(k.interval))
}

// expired handles a missing answer; true means the flow failed.
func (k *keepalive) expired() bool {
	if k.f.network != "UDP" || k.p.stunAnswered.Load() {
		k.p.log.Warn("no keepalive answer from the edge; the flow failed")
		return true
	}
	if k.p.stunSilent.CompareAndSwap(false, true) {
		k.p.log.Warn("the edge does not answer STUN keepalives; they only keep the NAT binding open")
	}
	k.answered()
	return false
}

// streamActivity takes bytes received on a TCP/TLS flow as the pong of an outstanding ping.
func (k *keepalive) streamActivity() {
	if k.f.network != "UDP" && k.deadline != nil {
		k.answered()
	}
}

// stunAnswer takes the mapped address of a Binding response; false means the
// mapping changed (a NAT rebinding) and the flow must be registered again.
func (k *keepalive) stunAnswer(mapped netip.AddrPort) bool {
	if k.deadline == nil {
		return true // a late duplicate
	}
	k.answered()
	k.p.stunAnswered.Store(true)
	prev := k.f.setMapped(mapped)
	if prev.IsValid() && prev != mapped {
		k.p.log.Info("the edge sees us at a new address; registering again", "was", prev, "now", mapped)
		return false
	}
	return true
}
