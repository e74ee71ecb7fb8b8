package proxy

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/zap"
)

// Media anchors the media of calls: the relay implements it (wired by edgeapp). With no Media the SDP
// passes unchanged.
type Media interface {
	// Offer rewrites an SDP offer crossing the edge; an error refuses it (488).
	Offer(l MediaLeg, sdp []byte) ([]byte, error)
	// Answer rewrites the SDP answer to the last offer of the session.
	Answer(l MediaLeg, sdp []byte) ([]byte, error)
	// Reject drops the session's pending offer (a non-2xx answered a re-INVITE or UPDATE).
	Reject(session string)
	// End releases the session's ports and writes its end-of-call record.
	End(session, reason string)
}

// MediaLeg says which session an SDP body belongs to and which way it travels.
type MediaLeg struct {
	Session  string // one media session per dialog pass: Call-ID + the phone's flow at creation
	CallID   string
	From, To Side
	AccessIP netip.Addr // the edge's address on the phone's flow (advertised toward it)
}

func hasSDP(m hdrMsg) bool {
	if len(m.Body()) == 0 {
		return false
	}
	ct := m.GetHeader("Content-Type")
	return ct != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp")
}

// mediaSession names the media session of a request: its dialog's, or a new one for the access flow
// that starts it.
func (p *Proxy) mediaSession(in *inbound, b *branch) string {
	if in.dlg != nil {
		in.dlg.mu.Lock()
		defer in.dlg.mu.Unlock()
		return in.dlg.media
	}
	f := in.flow
	if in.side == sideCore && b != nil {
		f = b.flow
	}
	if f == nil {
		return callID(in.req)
	}
	return callID(in.req) + "/" + f.ID
}

// accessIP is the edge's local IP on the phone's flow of this exchange.
func (p *Proxy) accessIPFor(in *inbound, b *branch) netip.Addr {
	f := in.flow
	if in.side == sideCore && b != nil {
		f = b.flow
	}
	if f == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(f.Local)
	if err != nil || ap.Addr().IsUnspecified() {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// mediaRequest rewrites the SDP of a request for its branches: an offer (INVITE, UPDATE, re-INVITE) or the
// answer of a late offer (ACK, PRACK). A refused offer fails the request with 488.
func (p *Proxy) mediaRequest(in *inbound, brs []*branch) error {
	if p.media == nil || len(brs) == 0 || !hasSDP(in.req) {
		return nil
	}
	b := brs[0]
	in.mediaID = p.mediaSession(in, b)
	l := MediaLeg{Session: in.mediaID, CallID: callID(in.req), From: in.side, To: b.side, AccessIP: p.accessIPFor(in, b)}
	var body []byte
	var err error
	p.log.Debug("SDP in request", zap.String("session", l.Session), zap.String("method", string(in.req.Method)))
	switch in.req.Method {
	case sip.ACK, sip.PRACK:
		body, err = p.media.Answer(l, in.req.Body())
	default:
		in.offered = true
		if in.dlg == nil {
			// A new offer for the session (e.g. the INVITE repeated with credentials after a 407): the
			// failure of an earlier attempt must not close the session this one uses.
			p.mediaMu.Lock()
			p.mediaGen[in.mediaID]++
			in.mediaGen = p.mediaGen[in.mediaID]
			body, err = p.media.Offer(l, in.req.Body())
			p.mediaMu.Unlock()
		} else {
			body, err = p.media.Offer(l, in.req.Body())
		}
	}
	if err != nil {
		return reject(488, "Not Acceptable Here", "SDP: "+err.Error())
	}
	for _, br := range brs {
		br.out.SetBody(append([]byte(nil), body...))
	}
	return nil
}

// mediaResponse rewrites the SDP of a response going upstream: the answer to the request's offer, or an
// offer (a 2xx/18x to an INVITE without SDP). On failure the body is removed and, for a 2xx, the call is
// ended (its media cannot be anchored).
func (p *Proxy) mediaResponse(in *inbound, b *branch, r *sip.Response) {
	if p.media == nil || b == nil || !hasSDP(r) {
		return
	}
	switch in.req.Method {
	case sip.INVITE, sip.UPDATE, sip.PRACK:
	default:
		return
	}
	b.sdpMu.Lock()
	defer b.sdpMu.Unlock()
	if b.sdpOut != nil && b.sdpSt == r.StatusCode && bytes.Equal(b.sdpIn, r.Body()) {
		r.SetBody(append([]byte(nil), b.sdpOut...)) // a retransmission
		return
	}
	if in.mediaID == "" {
		in.mediaID = p.mediaSession(in, b)
	}
	l := MediaLeg{Session: in.mediaID, CallID: callID(in.req), From: b.side, To: in.side, AccessIP: p.accessIPFor(in, b)}
	var body []byte
	var err error
	p.log.Debug("SDP in response", zap.String("session", l.Session), zap.Int("status", r.StatusCode), zap.Bool("answer", in.offered),
		zap.String("cseq", r.CSeq().Value()))
	if in.offered {
		body, err = p.media.Answer(l, r.Body())
	} else {
		body, err = p.media.Offer(l, r.Body())
	}
	if err == nil {
		b.sdpIn, b.sdpOut, b.sdpSt = append([]byte(nil), r.Body()...), body, r.StatusCode
		r.SetBody(append([]byte(nil), body...))
		return
	}
	p.log.Info("SDP in a response refused", zap.String("call_id", l.CallID), zap.Int("status", r.StatusCode), zap.Error(err))
	r.SetBody(nil)
	r.RemoveHeader("Content-Type")
	if r.IsSuccess() {
		go func() {
			time.Sleep(500 * time.Millisecond) // let the ACK pass first
			ctx, cancel := context.WithTimeout(p.ctx, 35*time.Second)
			defer cancel()
			_ = p.EndCall(ctx, l.CallID, "media could not be anchored")
		}()
	}
}

// endFailedOffer releases the media of an initial INVITE that failed, unless a newer attempt of the same
// call (same session) has offered since.
func (p *Proxy) endFailedOffer(in *inbound) {
	if p.media == nil || in.mediaID == "" {
		return
	}
	p.mediaMu.Lock()
	defer p.mediaMu.Unlock()
	if p.mediaGen[in.mediaID] != in.mediaGen {
		return
	}
	delete(p.mediaGen, in.mediaID)
	p.media.End(in.mediaID, "call not answered")
}

// endMedia releases a session's media.
func (p *Proxy) endMedia(id, reason string) {
	if p.media != nil && id != "" {
		p.mediaMu.Lock()
		delete(p.mediaGen, id)
		p.mediaMu.Unlock()
		p.media.End(id, reason)
	}
}

// EndMediaSession ends the call of a media session (the relay's media timeout) with BYE to both sides.
func (p *Proxy) EndMediaSession(ctx context.Context, session, reason string) error {
	for _, d := range p.dialogs.list() {
		d.mu.Lock()
		match := d.media == session && d.method == "INVITE"
		cid := d.callID
		d.mu.Unlock()
		if match {
			return p.EndCall(ctx, cid, reason)
		}
	}
	p.endMedia(session, reason)
	return errors.New("no call for media session " + session)
}
