package registrar

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newReg(t *testing.T, cfg Config) (*Registrar, *clock) {
	t.Helper()
	clk := newClock()
	cfg.Now = clk.Now
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r, clk
}

// ct is a contact without parameters.
func ct(uri string) ContactUpdate { return ContactUpdate{URI: uri, Expires: -1, Q: -1} }

// upd is a REGISTER with the given Call-ID and CSeq and no Expires header.
func upd(callID string, cseq uint32, cs ...ContactUpdate) Update {
	return Update{Contacts: cs, Expires: -1, CallID: callID, CSeq: cseq, FlowID: "flow-" + callID}
}

func contacts(bs []Binding) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Contact
	}
	return out
}

func mustApply(t *testing.T, r *Registrar, aor string, u Update) []Binding {
	t.Helper()
	bs, err := r.Apply(aor, u)
	if err != nil {
		t.Fatalf("Apply(%q): %v", aor, err)
	}
	return bs
}

func TestNewDefaultsAndValidate(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Config()
	if c.MinExpires != 60*time.Second || c.MaxExpires != time.Hour || c.DefaultExpires != time.Hour ||
		c.MaxBindingsPerAOR != 10 || c.Now == nil {
		t.Fatalf("defaults not applied: %+v", c)
	}
	for name, cfg := range map[string]Config{
		"MaxExpires":        {MinExpires: time.Hour, MaxExpires: time.Minute},
		"DefaultExpires":    {MinExpires: time.Minute, MaxExpires: time.Hour, DefaultExpires: 2 * time.Hour},
		"MaxBindingsPerAOR": {MaxBindingsPerAOR: -1},
		"MinExpires":        {MinExpires: time.Millisecond},
	} {
		_, err := New(cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v, want ErrInvalidConfig naming the field", name, err)
		}
	}
}

func TestExpiryInterval(t *testing.T) {
	withExp := func(c ContactUpdate, e int64) ContactUpdate { c.Expires = e; return c }
	tests := []struct {
		name       string
		contact    ContactUpdate
		header     int64
		want       time.Duration // 0 = removed / nothing stored
		wantErr    error
		wantMinSec int
	}{
		{name: "default", contact: ct("sip:a@h"), header: -1, want: 30 * time.Minute},
		{name: "header", contact: ct("sip:a@h"), header: 120, want: 120 * time.Second},
		{name: "param beats header", contact: withExp(ct("sip:a@h"), 300), header: 120, want: 300 * time.Second},
		{name: "param 0 beats header", contact: withExp(ct("sip:a@h"), 0), header: 120, want: 0},
		{name: "capped", contact: withExp(ct("sip:a@h"), 100000), header: -1, want: time.Hour},
		{name: "huge capped", contact: withExp(ct("sip:a@h"), maxDelta), header: -1, want: time.Hour},
		{name: "exactly min", contact: withExp(ct("sip:a@h"), 60), header: -1, want: time.Minute},
		{name: "too brief param", contact: withExp(ct("sip:a@h"), 59), header: -1, wantErr: ErrIntervalTooBrief, wantMinSec: 60},
		{name: "too brief header", contact: ct("sip:a@h"), header: 1, wantErr: ErrIntervalTooBrief, wantMinSec: 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, clk := newReg(t, Config{DefaultExpires: 30 * time.Minute})
			u := upd("c1", 1, tc.contact)
			u.Expires = tc.header
			bs, err := r.Apply("alice", u)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				var tb *IntervalTooBriefError
				if !errors.As(err, &tb) || tb.MinExpiresSeconds() != tc.wantMinSec || tb.MinExpires != time.Minute {
					t.Fatalf("err %v does not carry MinExpires %ds", err, tc.wantMinSec)
				}
				if code, _ := Status(err); code != 423 {
					t.Fatalf("Status = %d, want 423", code)
				}
				if r.Count() != 0 {
					t.Fatalf("binding stored despite 423")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 {
				if len(bs) != 0 || r.Count() != 0 {
					t.Fatalf("got bindings %v, want none", contacts(bs))
				}
				return
			}
			if len(bs) != 1 || !bs[0].Expires.Equal(clk.Now().Add(tc.want)) {
				t.Fatalf("got %+v, want one binding expiring in %v", bs, tc.want)
			}
			if got := bs[0].SecondsLeft(clk.Now()); got != int(tc.want/time.Second) {
				t.Fatalf("SecondsLeft = %d", got)
			}
		})
	}
}

func TestWildcard(t *testing.T) {
	star := func(callID string, cseq uint32, expires int64, cs ...ContactUpdate) Update {
		u := upd(callID, cseq, cs...)
		u.Wildcard, u.Expires = true, expires
		return u
	}
	tests := []struct {
		name      string
		u         Update
		wantErr   error
		wantCount int
	}{
		{name: "expires 0 removes all", u: star("c1", 2, 0), wantCount: 0},
		{name: "other call-id removes all", u: star("other", 1, 0), wantCount: 0},
		{name: "no Expires header", u: star("c1", 2, -1), wantErr: ErrBadWildcard, wantCount: 2},
		{name: "Expires 3600", u: star("c1", 2, 3600), wantErr: ErrBadWildcard, wantCount: 2},
		{name: "with another contact", u: star("c1", 2, 0, ct("sip:x@h")), wantErr: ErrBadWildcard, wantCount: 2},
		{name: "same call-id same cseq", u: star("c1", 1, 0), wantErr: ErrOutOfOrder, wantCount: 2},
		{name: "same call-id lower cseq", u: star("c1", 0, 0), wantErr: ErrOutOfOrder, wantCount: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newReg(t, Config{})
			mustApply(t, r, "alice", upd("c1", 1, ct("sip:a@h1"), ct("sip:a@h2")))
			mustApply(t, r, "bob", upd("c9", 1, ct("sip:b@h")))
			bs, err := r.Apply("alice", tc.u)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && len(bs) != 0 {
				t.Fatalf("returned %v after wildcard", contacts(bs))
			}
			if got := len(r.Lookup("alice")); got != tc.wantCount {
				t.Fatalf("alice has %d bindings, want %d", got, tc.wantCount)
			}
			if len(r.Lookup("bob")) != 1 {
				t.Fatalf("wildcard touched another AOR")
			}
			if errors.Is(err, ErrBadWildcard) {
				if code, _ := Status(err); code != 400 {
					t.Fatalf("Status = %d, want 400", code)
				}
			}
		})
	}
}

func TestCallIDCSeqOrdering(t *testing.T) {
	tests := []struct {
		name    string
		callID  string
		cseq    uint32
		wantErr error
	}{
		{name: "same call-id higher cseq refreshes", callID: "c1", cseq: 6},
		{name: "same call-id same cseq", callID: "c1", cseq: 5, wantErr: ErrOutOfOrder},
		{name: "same call-id lower cseq", callID: "c1", cseq: 4, wantErr: ErrOutOfOrder},
		{name: "other call-id lower cseq replaces", callID: "c2", cseq: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, clk := newReg(t, Config{})
			mustApply(t, r, "alice", upd("c1", 5, ct("sip:a@h")))
			clk.Advance(10 * time.Minute)
			bs, err := r.Apply("alice", upd(tc.callID, tc.cseq, ct("sip:a@h")))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			got := r.Lookup("alice")
			if len(got) != 1 {
				t.Fatalf("got %d bindings", len(got))
			}
			if tc.wantErr != nil {
				if code, reason := Status(err); code != 500 || reason != "Out of Order CSeq" {
					t.Fatalf("Status = %d %q", code, reason)
				}
				if got[0].CSeq != 5 || got[0].CallID != "c1" {
					t.Fatalf("binding changed by rejected request: %+v", got[0])
				}
				return
			}
			if got[0].CSeq != tc.cseq || got[0].CallID != tc.callID || !got[0].Expires.Equal(clk.Now().Add(time.Hour)) {
				t.Fatalf("binding not refreshed: %+v", got[0])
			}
			if len(bs) != 1 {
				t.Fatalf("Apply returned %d bindings", len(bs))
			}
		})
	}
}

func TestOutOfOrderRemoval(t *testing.T) {
	r, _ := newReg(t, Config{})
	mustApply(t, r, "alice", upd("c1", 5, ct("sip:a@h")))
	u := upd("c1", 5, ct("sip:a@h"))
	u.Expires = 0
	if _, err := r.Apply("alice", u); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("stale removal: err = %v, want ErrOutOfOrder", err)
	}
	if r.Count() != 1 {
		t.Fatal("stale removal removed the binding")
	}
	u.CSeq = 6
	mustApply(t, r, "alice", u)
	if r.Count() != 0 {
		t.Fatal("expires 0 did not remove the binding")
	}
	// Removing a binding that does not exist is not an error.
	mustApply(t, r, "alice", u)
}

func TestReplacement(t *testing.T) {
	inst := func(uri, instance string, regID int) ContactUpdate {
		c := ct(uri)
		c.Instance, c.RegID = instance, regID
		return c
	}
	const uuid = "urn:uuid:00000000-0000-1000-8000-00a0c91e6bf6"
	tests := []struct {
		name  string
		first ContactUpdate
		next  ContactUpdate
		want  []string // contacts after both, Lookup order (newest first)
	}{
		{name: "same URI", first: ct("sip:a@h:5060;transport=tcp"), next: ct("sip:a@h:5060;transport=tcp"),
			want: []string{"sip:a@h:5060;transport=tcp"}},
		{name: "equivalent URI (host case, param order)", first: ct("sip:a@HOST.example:5060;transport=tcp;ob"),
			next: ct("sip:a@host.example:5060;ob;transport=TCP"), want: []string{"sip:a@host.example:5060;ob;transport=TCP"}},
		{name: "different port", first: ct("sip:a@h:5060"), next: ct("sip:a@h:5062"),
			want: []string{"sip:a@h:5062", "sip:a@h:5060"}},
		{name: "instance+reg-id new flow", first: inst("sip:a@1.1.1.1:5060;ob", uuid, 1),
			next: inst("sip:a@2.2.2.2:6000;ob", "URN:UUID:00000000-0000-1000-8000-00A0C91E6BF6", 1),
			want: []string{"sip:a@2.2.2.2:6000;ob"}},
		{name: "same instance other reg-id", first: inst("sip:a@1.1.1.1;ob", uuid, 1), next: inst("sip:a@2.2.2.2;ob", uuid, 2),
			want: []string{"sip:a@2.2.2.2;ob", "sip:a@1.1.1.1;ob"}},
		{name: "instance without reg-id keeps URI rule", first: inst("sip:a@1.1.1.1", uuid, 0), next: inst("sip:a@2.2.2.2", uuid, 0),
			want: []string{"sip:a@2.2.2.2", "sip:a@1.1.1.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, clk := newReg(t, Config{})
			mustApply(t, r, "alice", upd("c1", 1, tc.first))
			clk.Advance(time.Second)
			next := upd("c2", 1, tc.next)
			next.FlowID = "new-flow"
			mustApply(t, r, "alice", next)
			got := r.Lookup("alice")
			if fmt.Sprint(contacts(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("contacts = %v, want %v", contacts(got), tc.want)
			}
			if got[0].FlowID != "new-flow" || got[0].CallID != "c2" || got[0].Instance != tc.next.Instance || got[0].RegID != tc.next.RegID {
				t.Fatalf("newest binding not from the new REGISTER: %+v", got[0])
			}
		})
	}
}

func TestMaxBindings(t *testing.T) {
	r, _ := newReg(t, Config{MaxBindingsPerAOR: 2})
	mustApply(t, r, "alice", upd("c1", 1, ct("sip:a@h1"), ct("sip:a@h2")))
	_, err := r.Apply("alice", upd("c2", 1, ct("sip:a@h3")))
	if !errors.Is(err, ErrTooManyBindings) {
		t.Fatalf("err = %v, want ErrTooManyBindings", err)
	}
	if code, _ := Status(err); code != 503 {
		t.Fatalf("Status = %d, want 503", code)
	}
	if got := contacts(r.Lookup("alice")); len(got) != 2 {
		t.Fatalf("store changed: %v", got)
	}
	// At the limit, refreshing or swapping one binding for another still works.
	mustApply(t, r, "alice", upd("c1", 2, ct("sip:a@h1")))
	u := upd("c1", 3, ct("sip:a@h2"), ct("sip:a@h3"))
	u.Contacts[0].Expires = 0
	if got := contacts(mustApply(t, r, "alice", u)); fmt.Sprint(got) != "[sip:a@h3 sip:a@h1]" {
		t.Fatalf("swap: got %v", got)
	}
	// The limit is per AOR.
	mustApply(t, r, "bob", upd("c3", 1, ct("sip:b@h1"), ct("sip:b@h2")))
}

func TestAtomicity(t *testing.T) {
	r, _ := newReg(t, Config{})
	mustApply(t, r, "alice", upd("c1", 5, ct("sip:a@old")))
	tooBrief := ct("sip:a@brief")
	tooBrief.Expires = 10
	if _, err := r.Apply("alice", upd("c1", 6, ct("sip:a@new"), tooBrief)); !errors.Is(err, ErrIntervalTooBrief) {
		t.Fatalf("err = %v", err)
	}
	// The second contact is out of order; the first, new one must not be committed.
	if _, err := r.Apply("alice", upd("c1", 5, ct("sip:a@new"), ct("sip:a@old"))); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("err = %v", err)
	}
	if got := contacts(r.Lookup("alice")); fmt.Sprint(got) != "[sip:a@old]" {
		t.Fatalf("partial update committed: %v", got)
	}
}

func TestQueryAndDuplicates(t *testing.T) {
	r, _ := newReg(t, Config{})
	// The same contact twice in one request is not "out of order" against itself; the last one wins.
	second := ct("sip:a@h")
	second.Q = 0.5
	bs := mustApply(t, r, "alice", upd("c1", 1, ct("sip:a@h"), second))
	if len(bs) != 1 || bs[0].Q != 0.5 {
		t.Fatalf("got %+v", bs)
	}
	// No contacts: a query returns the bindings and changes nothing, whatever the CSeq.
	bs = mustApply(t, r, "alice", upd("c1", 1))
	if len(bs) != 1 || bs[0].Contact != "sip:a@h" || bs[0].CSeq != 1 {
		t.Fatalf("query returned %+v", bs)
	}
	if bs := mustApply(t, r, "nobody", upd("c2", 1)); len(bs) != 0 {
		t.Fatalf("query of unknown AOR returned %v", bs)
	}
}

func TestApplyValidatesHandBuiltUpdates(t *testing.T) {
	r, _ := newReg(t, Config{})
	mod := func(f func(*Update)) Update { u := upd("c1", 1, ct("sip:a@h")); f(&u); return u }
	tests := map[string]struct {
		aor  string
		u    Update
		want string
	}{
		"empty aor":           {aor: "", u: upd("c1", 1, ct("sip:a@h")), want: "address-of-record"},
		"no call-id":          {aor: "a", u: mod(func(u *Update) { u.CallID = "" }), want: "Call-ID"},
		"negative Expires":    {aor: "a", u: mod(func(u *Update) { u.Expires = -2 }), want: "Expires"},
		"empty uri":           {aor: "a", u: mod(func(u *Update) { u.Contacts[0].URI = "" }), want: "URI"},
		"negative expires":    {aor: "a", u: mod(func(u *Update) { u.Contacts[0].Expires = -5 }), want: "expires"},
		"q too high":          {aor: "a", u: mod(func(u *Update) { u.Contacts[0].Q = 1.5 }), want: "q"},
		"reg-id w/o instance": {aor: "a", u: mod(func(u *Update) { u.Contacts[0].RegID = 1 }), want: "reg-id"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := r.Apply(tc.aor, tc.u)
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBadRequest naming %q", err, tc.want)
			}
			if code, _ := Status(err); code != 400 {
				t.Fatalf("Status = %d", code)
			}
		})
	}
	if r.Count() != 0 {
		t.Fatal("invalid update stored something")
	}
}
