package proxy

import (
	"crypto/rand"
	"encoding/base32"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Flow is one phone connection on the access side (RFC 5626: a TLS/TCP connection, or a UDP
// source address). A flow is bound to at most one user: the identity the PBX (passthrough) or the edge
// (local auth, mutual TLS) accepted. Every request on the flow must come from that user.
type Flow struct {
	ID        string // opaque token carried in Path and Record-Route
	Transport string // "TLS", "TCP" or "UDP"
	Remote    string // phone's source IP:port
	Local     string // edge's local IP:port the flow arrived on
	Listener  string // UDP: the access socket's address (requests to the phone leave from it)
	Created   time.Time

	mu       sync.Mutex
	conn     sip.Connection // nil for UDP
	user     string         // authenticated user; "" until a REGISTER succeeds
	certUser string         // user named by a verified client certificate
	expires  time.Time      // UDP: the flow lives as long as its registration
	closed   bool
	bindings []FlowBinding // registrations accepted on this flow
}

// FlowBinding is one registered contact of a flow, as the registrar (PBX or local) accepted it.
type FlowBinding struct {
	Contact  string    `json:"contact"`
	Instance string    `json:"instance,omitempty"` // +sip.instance (RFC 5626)
	RegID    int       `json:"reg_id,omitempty"`
	Expires  time.Time `json:"expires"`
}

// FlowInfo is a snapshot of a flow for the admin API and tests.
type FlowInfo struct {
	ID        string        `json:"id"`
	Transport string        `json:"transport"`
	Remote    string        `json:"remote"`
	User      string        `json:"user,omitempty"`
	Bindings  []FlowBinding `json:"bindings,omitempty"`
}

// User returns the user bound to the flow ("" if none).
func (f *Flow) User() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.user
}

func (f *Flow) bind(user string, expires time.Time, bs []FlowBinding) {
	f.mu.Lock()
	f.user = user
	if expires.After(f.expires) {
		f.expires = expires
	}
	if bs != nil {
		f.bindings = bs
	}
	f.mu.Unlock()
}

// Info returns a snapshot of the flow.
func (f *Flow) Info() FlowInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FlowInfo{ID: f.ID, Transport: f.Transport, Remote: f.Remote, User: f.user,
		Bindings: append([]FlowBinding(nil), f.bindings...)}
}

// SrcIP is the flow's source IP.
func (f *Flow) SrcIP() netip.Addr {
	ap, _ := netip.ParseAddrPort(f.Remote)
	return ap.Addr().Unmap()
}

// SrcPort is the flow's source port.
func (f *Flow) SrcPort() int {
	ap, _ := netip.ParseAddrPort(f.Remote)
	return int(ap.Port())
}

func (f *Flow) reliable() bool { return f.Transport != "UDP" }

// flowTable indexes flows by token and by transport+source.
type flowTable struct {
	mu    sync.Mutex
	byID  map[string]*Flow
	byKey map[string]*Flow
	now   func() time.Time
}

func newFlowTable(now func() time.Time) *flowTable {
	return &flowTable{byID: map[string]*Flow{}, byKey: map[string]*Flow{}, now: now}
}

func flowKey(transport, remote string) string { return strings.ToUpper(transport) + "|" + remote }

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newToken(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + b32.EncodeToString(b[:])
}

// lookupOrCreate returns the flow of a connection (conn nil for UDP), creating it on first use. A new
// connection from the same source address as an old, closed one gets a new flow.
func (t *flowTable) lookupOrCreate(transport, remote, local, listener string, conn sip.Connection, certUser string) (*Flow, bool) {
	k := flowKey(transport, remote)
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.byKey[k]; ok {
		f.mu.Lock()
		same := !f.closed && (conn == nil || f.conn == conn)
		f.mu.Unlock()
		if same {
			return f, false
		}
		t.removeLocked(f)
	}
	f := &Flow{ID: newToken("f"), Transport: strings.ToUpper(transport), Remote: remote, Local: local,
		Listener: listener, Created: t.now(), conn: conn, certUser: certUser, user: certUser}
	t.byID[f.ID] = f
	t.byKey[k] = f
	return f, true
}

func (t *flowTable) get(id string) *Flow {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

func (t *flowTable) byRemote(transport, remote string) *Flow {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byKey[flowKey(transport, remote)]
}

// closeRemote marks the flow of a closed connection dead and removes it; it returns the flow (or nil).
func (t *flowTable) closeRemote(transport, remote string) *Flow {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.byKey[flowKey(transport, remote)]
	if f != nil {
		t.removeLocked(f)
	}
	return f
}

func (t *flowTable) removeLocked(f *Flow) {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	delete(t.byID, f.ID)
	if t.byKey[flowKey(f.Transport, f.Remote)] == f {
		delete(t.byKey, flowKey(f.Transport, f.Remote))
	}
}

// sweep removes UDP flows whose registration expired and unauthenticated flows idle for longer than
// idle; it returns the removed flows.
func (t *flowTable) sweep(idle time.Duration) []*Flow {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*Flow
	for _, f := range t.byID {
		f.mu.Lock()
		dead := !f.reliable() && ((f.user != "" && now.After(f.expires)) || (f.user == "" && now.Sub(f.Created) > idle))
		f.mu.Unlock()
		if dead {
			out = append(out, f)
		}
	}
	for _, f := range out {
		t.removeLocked(f)
	}
	return out
}

func (t *flowTable) list() []*Flow {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Flow, 0, len(t.byID))
	for _, f := range t.byID {
		out = append(out, f)
	}
	return out
}

func (t *flowTable) counts() (total, authenticated int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.byID {
		total++
		if f.User() != "" {
			authenticated++
		}
	}
	return
}
