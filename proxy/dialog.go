package proxy

import (
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// leg is one party of a dialog as the edge sees it.
type leg struct {
	flowID string    // access leg: the phone's flow; "" for a core leg
	user   string    // access leg: the flow's user
	tag    string    // the party's tag
	target sip.Uri   // its remote target (Contact)
	routes []sip.Uri // core leg: route set from the edge toward it (hidden from the access side)
	uri    string    // its From/To header value (name-addr with tag), for requests the edge sends itself
	cseq   uint32    // highest CSeq seen in requests from it
}

func (l *leg) access() bool { return l.flowID != "" }

// dialog is a dialog the edge record-routed (INVITE, SUBSCRIBE, REFER), tracked so the edge can route
// in-dialog requests without exposing core addresses and can end a call itself.
type dialog struct {
	mu        sync.Mutex
	callID    string
	method    string // the dialog-forming method
	a, b      leg    // a: the dialog's caller (From), b: its callee (To)
	confirmed bool
	created   time.Time
	expires   time.Time // zero: no expiry (INVITE dialogs end with BYE)
	ended     bool
	media     string // media session id (relay)
	dialled   string // Request-URI user of the dialog-forming request
	answered  time.Time
}

// dialogKey includes the side leg a is on: a call that passes the edge twice (phone -> edge -> PBX ->
// edge -> phone, a "spiral") is two dialogs here with the same Call-ID and tags.
func dialogKey(callID, tagA, tagB string, aSide Side) string {
	return callID + "\x00" + tagA + "\x00" + tagB + "\x00" + aSide.String()
}

func (d *dialog) aSide() Side {
	if d.a.access() {
		return sideAccess
	}
	return sideCore
}

type dialogTable struct {
	mu sync.Mutex
	m  map[string]*dialog
}

func newDialogTable() *dialogTable { return &dialogTable{m: map[string]*dialog{}} }

// find returns the dialog of an in-dialog request that arrived on side s, and whether it comes from
// leg a (the sending party's leg must be on s).
func (t *dialogTable) find(req *sip.Request, s Side) (*dialog, bool) {
	cid := callID(req)
	ft, tt := fromTag(req), toTag(req)
	t.mu.Lock()
	defer t.mu.Unlock()
	if d, ok := t.m[dialogKey(cid, ft, tt, s)]; ok {
		return d, true
	}
	for _, as := range []Side{sideAccess, sideCore} {
		if d, ok := t.m[dialogKey(cid, tt, ft, as)]; ok && d.b.access() == (s == sideAccess) {
			return d, false
		}
	}
	return nil, false
}

// upsert stores d unless a dialog with the same key exists; it returns the stored one.
func (t *dialogTable) upsert(d *dialog) (*dialog, bool) {
	k := dialogKey(d.callID, d.a.tag, d.b.tag, d.aSide())
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.m[k]; ok {
		return old, false
	}
	t.m[k] = d
	return d, true
}

func (t *dialogTable) remove(d *dialog) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, dialogKey(d.callID, d.a.tag, d.b.tag, d.aSide()))
}

// dropEarly removes the unconfirmed dialogs of a call whose INVITE failed.
func (t *dialogTable) dropEarly(callID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, d := range t.m {
		if d.callID == callID {
			d.mu.Lock()
			c := d.confirmed
			d.mu.Unlock()
			if !c {
				delete(t.m, k)
			}
		}
	}
}

// sweep drops expired subscriptions and early dialogs that never got confirmed.
func (t *dialogTable) sweep(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, d := range t.m {
		d.mu.Lock()
		stale := (!d.expires.IsZero() && now.After(d.expires)) || (!d.confirmed && now.Sub(d.created) > timerC+time.Minute)
		d.mu.Unlock()
		if stale {
			delete(t.m, k)
		}
	}
}

// calls counts confirmed INVITE dialogs.
func (t *dialogTable) calls() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, d := range t.m {
		d.mu.Lock()
		if d.method == "INVITE" && d.confirmed {
			n++
		}
		d.mu.Unlock()
	}
	return n
}

// list returns a snapshot of the dialogs.
func (t *dialogTable) list() []*dialog {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*dialog, 0, len(t.m))
	for _, d := range t.m {
		out = append(out, d)
	}
	return out
}

// info describes the call for the policy hooks.
func (d *dialog) info(why string) CallInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	return CallInfo{CallID: d.callID, Session: d.media, Caller: d.a.user, Callee: d.b.user, Dialled: d.dialled,
		Started: d.answered, EndedWhy: why}
}

func callID(m sip.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func fromTag(m sip.Message) string {
	if h := m.From(); h != nil && h.Params != nil {
		t, _ := h.Params.Get("tag")
		return t
	}
	return ""
}

func toTag(m sip.Message) string {
	if h := m.To(); h != nil && h.Params != nil {
		t, _ := h.Params.Get("tag")
		return t
	}
	return ""
}

func isDialogForming(m sip.RequestMethod) bool {
	switch strings.ToUpper(string(m)) {
	case "INVITE", "SUBSCRIBE", "REFER":
		return true
	}
	return false
}
