package softphone

import (
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// dialog is the RFC 3261 section 12 state of one call's dialog. The phone
// builds in-dialog requests itself so it controls CSeq, routing and Contact
// for re-INVITE, REFER, NOTIFY and INFO in both roles.
type dialog struct {
	mu           sync.Mutex
	callID       string
	localTag     string
	remoteTag    string
	local        sip.Uri
	localName    string
	remote       sip.Uri
	remoteName   string
	remoteTarget sip.Uri
	routeSet     []sip.Uri
	localSeq     uint32
	remoteSeq    uint32
}

// dialogUAC builds the dialog of an outgoing INVITE from a 2xx (or 1xx with
// a tag). From, Call-ID and CSeq are the INVITE's, copied into every response;
// target is the remote target when the response has no Contact.
func dialogUAC(res *sip.Response, target sip.Uri) (*dialog, error) {
	from, to, cid, cseq := res.From(), res.To(), res.CallID(), res.CSeq()
	if from == nil || to == nil || cid == nil || cseq == nil {
		return nil, fmt.Errorf("%w: response lacks From, To, Call-ID or CSeq", ErrBadURI)
	}
	d := &dialog{callID: string(*cid), local: from.Address, localName: from.DisplayName,
		remote: to.Address, remoteName: to.DisplayName, localSeq: cseq.SeqNo}
	d.localTag, _ = from.Params.Get("tag")
	d.remoteTag, _ = to.Params.Get("tag")
	d.remoteTarget = target
	if c := res.Contact(); c != nil {
		d.remoteTarget = c.Address
	}
	if d.remoteTarget.Host == "" {
		return nil, fmt.Errorf("%w: 2xx without Contact", ErrBadURI)
	}
	rr := routeList(res, "Record-Route")
	for i := len(rr) - 1; i >= 0; i-- { // UAC: reverse order
		d.routeSet = append(d.routeSet, rr[i])
	}
	return d, nil
}

// dialogUAS builds the dialog of an incoming INVITE answered with localTag.
func dialogUAS(req *sip.Request, localTag string) (*dialog, error) {
	from, to, cid := req.From(), req.To(), req.CallID()
	if from == nil || to == nil || cid == nil || req.CSeq() == nil {
		return nil, fmt.Errorf("%w: request lacks From, To, Call-ID or CSeq", ErrBadURI)
	}
	d := &dialog{callID: string(*cid), local: to.Address, localName: to.DisplayName, localTag: localTag,
		remote: from.Address, remoteName: from.DisplayName, remoteSeq: req.CSeq().SeqNo, localSeq: uint32(newSessionNumber() & 0x7fff)}
	d.remoteTag, _ = from.Params.Get("tag")
	d.remoteTarget = from.Address
	if c := req.Contact(); c != nil {
		d.remoteTarget = c.Address
	}
	d.routeSet = routeList(req, "Record-Route")
	return d, nil
}

// routeList returns the URIs of every value of a Route-like header, in order.
func routeList(m sip.Message, name string) []sip.Uri {
	var out []sip.Uri
	for _, h := range m.GetHeaders(name) {
		for _, v := range splitHeaderList(h.Value()) {
			var u sip.Uri
			if _, err := sip.ParseAddressValue(v, &u, nil); err == nil {
				out = append(out, u)
			}
		}
	}
	return out
}

// request builds an in-dialog request (CSeq incremented except for ACK, which
// takes cseq). Every request leaves on the phone's flow.
func (d *dialog) request(p *Phone, method sip.RequestMethod, ackSeq uint32) *sip.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	ruri := d.remoteTarget
	routes := d.routeSet
	if len(routes) > 0 && !routes[0].UriParams.Has("lr") {
		// Strict router (RFC 3261 section 12.2.1.1).
		ruri = routes[0]
		routes = append(append([]sip.Uri{}, routes[1:]...), d.remoteTarget)
	}
	req := sip.NewRequest(method, *ruri.Clone())
	req.SetTransport(p.target.Network)
	req.SetDestination(p.dest)
	for _, r := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	from := &sip.FromHeader{DisplayName: d.localName, Address: *d.local.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	to := &sip.ToHeader{DisplayName: d.remoteName, Address: *d.remote.Clone(), Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	seq := ackSeq
	if method != sip.ACK {
		d.localSeq++
		seq = d.localSeq
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	return req
}

// learnSeq records a CSeq a resend (after a challenge) used.
func (d *dialog) learnSeq(seq uint32) {
	d.mu.Lock()
	d.localSeq = max(d.localSeq, seq)
	d.mu.Unlock()
}

// checkRemoteSeq validates and records the CSeq of an incoming in-dialog request.
func (d *dialog) checkRemoteSeq(seq uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.remoteSeq != 0 && seq <= d.remoteSeq {
		return false
	}
	d.remoteSeq = seq
	return true
}

// updateTarget applies a target refresh (Contact of a re-INVITE or its 2xx).
func (d *dialog) updateTarget(m sip.Message) {
	var c *sip.ContactHeader
	switch v := m.(type) {
	case *sip.Request:
		c = v.Contact()
	case *sip.Response:
		c = v.Contact()
	}
	if c != nil {
		d.mu.Lock()
		d.remoteTarget = c.Address
		d.mu.Unlock()
	}
}

// matches reports whether an incoming request belongs to this dialog.
func (d *dialog) matches(callID, fromTag, toTag string) bool {
	return d.callID == callID && d.remoteTag == fromTag && d.localTag == toTag
}

// replacesValue is this dialog as an RFC 3891 Replaces value seen from the
// remote party (its to-tag is the remote tag, its from-tag ours).
func (d *dialog) replacesValue() string {
	return d.callID + ";to-tag=" + d.remoteTag + ";from-tag=" + d.localTag
}

// referToWithReplaces builds the Refer-To URI of an attended transfer to target.
func referToWithReplaces(target sip.Uri, replaces string) string {
	u := target.Clone()
	u.UriParams = nil
	u.Headers = nil
	return "<" + u.String() + "?Replaces=" + url.QueryEscape(replaces) + ">"
}

// parseReplaces parses a Replaces header value: call-id;to-tag=X;from-tag=Y[;early-only].
func parseReplaces(v string) (callID, toTag, fromTag string, ok bool) {
	parts := strings.Split(strings.TrimSpace(v), ";")
	if len(parts) < 3 || parts[0] == "" {
		return "", "", "", false
	}
	callID = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = val
		case "from-tag":
			fromTag = val
		}
	}
	return callID, toTag, fromTag, toTag != "" && fromTag != ""
}
