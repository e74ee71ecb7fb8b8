package registrar

import (
	"fmt"
	"strings"
	"time"
)

// ContactUpdate is one Contact header value of a REGISTER.
type ContactUpdate struct {
	// URI is the contact URI as sent.
	URI string
	// Expires is the expires parameter in seconds, -1 if absent.
	Expires int64
	// Q is the q parameter (0..1), -1 if absent.
	Q float64
	// Instance is the +sip.instance value without quotes and angle brackets, "" if absent.
	Instance string
	// RegID is the RFC 5626 reg-id, 0 if absent; it needs an Instance.
	RegID int
}

// Update describes one REGISTER request.
type Update struct {
	// Contacts are the Contact values in order, the wildcard excluded.
	Contacts []ContactUpdate
	// Expires is the Expires header in seconds, -1 if absent.
	Expires int64
	// Wildcard is set when the request had "Contact: *".
	Wildcard bool
	// CallID is the request's Call-ID.
	CallID string
	// CSeq is the request's CSeq number.
	CSeq uint32
	// FlowID is the opaque id of the connection the request came on ("" if none, e.g. UDP without flows).
	FlowID string
}

// validate checks the fields ParseUpdate would have rejected, for callers that build an Update by hand.
func (u *Update) validate() error {
	if u.CallID == "" {
		return badRequest("missing Call-ID")
	}
	if u.Expires < -1 {
		return badRequest("Expires header %d is negative", u.Expires)
	}
	for _, c := range u.Contacts {
		switch {
		case c.URI == "":
			return badRequest("empty contact URI")
		case c.Expires < -1:
			return badRequest("contact %q: expires parameter %d is negative", c.URI, c.Expires)
		case c.Q != -1 && !(c.Q >= 0 && c.Q <= 1):
			return badRequest("contact %q: q %v is not within 0..1", c.URI, c.Q)
		case c.RegID < 0:
			return badRequest("contact %q: reg-id %d is negative", c.URI, c.RegID)
		case c.RegID > 0 && c.Instance == "":
			return badRequest("contact %q: reg-id without +sip.instance", c.URI)
		}
	}
	return nil
}

// Apply runs RFC 3261 §10.3 steps 6-8 (with the RFC 5626 §6 instance/reg-id rule) for one REGISTER to aor and
// returns the bindings of aor afterwards, sorted as Lookup sorts them (for the 200 OK's Contact list).
// An Update without contacts and without wildcard is a query: nothing changes.
//
// The update is atomic: on any error no binding changes. Errors: ErrBadRequest, ErrBadWildcard,
// ErrOutOfOrder, *IntervalTooBriefError (ErrIntervalTooBrief), ErrTooManyBindings; see Status.
//
// Matching: a contact replaces an existing binding with an equivalent URI (RFC 3261 §19.1.4), and, when it
// carries both +sip.instance and reg-id, one with the same instance (case-insensitive) and reg-id even if the
// URI differs (a new flow of the same UA). Expiry: the contact's expires parameter, else the Expires header,
// else DefaultExpires; 0 removes; below MinExpires is refused; above MaxExpires is capped.
func (r *Registrar) Apply(aor string, u Update) ([]Binding, error) {
	if aor == "" {
		return nil, badRequest("empty address-of-record (To user)")
	}
	if err := u.validate(); err != nil {
		return nil, err
	}
	if u.Wildcard && (len(u.Contacts) > 0 || u.Expires != 0) {
		return nil, fmt.Errorf("%w (got %d other contacts, Expires %d)", ErrBadWildcard, len(u.Contacts), u.Expires)
	}
	// Step 7, first half: every interval is checked before anything changes.
	intervals := make([]time.Duration, len(u.Contacts))
	for i, c := range u.Contacts {
		d, err := r.interval(c, u.Expires)
		if err != nil {
			return nil, err
		}
		intervals[i] = d
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	work := make([]record, 0, len(r.aors[aor])+len(u.Contacts))
	for _, rec := range r.aors[aor] {
		if rec.live(now) {
			work = append(work, rec)
		}
	}

	if u.Wildcard {
		for _, rec := range work {
			if err := checkOrder(rec.b, u); err != nil {
				return nil, err
			}
		}
		r.storeLocked(aor, nil)
		return []Binding{}, nil
	}

	stored := len(work) // work[:stored] came from the store; later records were added by this request.
	seq := r.seq
	for i, c := range u.Contacts {
		kept := work[:0:0]
		keptStored := 0
		for j, rec := range work {
			if !matches(rec.b, c) {
				kept = append(kept, rec)
				if j < stored {
					keptStored++
				}
				continue
			}
			if j < stored {
				if err := checkOrder(rec.b, u); err != nil {
					return nil, err
				}
			}
		}
		work, stored = kept, keptStored
		if intervals[i] == 0 {
			continue
		}
		q := c.Q
		if q < 0 {
			q = 1
		}
		seq++
		work = append(work, record{seq: seq, b: Binding{
			AOR: aor, Contact: c.URI, Instance: c.Instance, RegID: c.RegID, FlowID: u.FlowID,
			CallID: u.CallID, CSeq: u.CSeq, Expires: now.Add(intervals[i]), Q: q,
		}})
	}
	if len(work) > r.cfg.MaxBindingsPerAOR {
		return nil, fmt.Errorf("%w: %d bindings, limit %d", ErrTooManyBindings, len(work), r.cfg.MaxBindingsPerAOR)
	}
	r.seq = seq
	r.storeLocked(aor, work)
	return r.liveLocked(aor, now), nil
}

// interval is step 7's expiration for one contact: 0 to remove, else within MinExpires..MaxExpires.
func (r *Registrar) interval(c ContactUpdate, headerExpires int64) (time.Duration, error) {
	secs := c.Expires
	if secs < 0 {
		secs = headerExpires
	}
	if secs < 0 {
		return r.cfg.DefaultExpires, nil
	}
	if secs > int64(r.cfg.MaxExpires/time.Second) {
		return r.cfg.MaxExpires, nil
	}
	d := time.Duration(secs) * time.Second
	if d > 0 && d < r.cfg.MinExpires {
		return 0, &IntervalTooBriefError{Contact: c.URI, Requested: d, MinExpires: r.cfg.MinExpires}
	}
	return d, nil
}

// checkOrder is step 7's Call-ID/CSeq rule for an existing binding the request touches.
func checkOrder(b Binding, u Update) error {
	if b.CallID == u.CallID && u.CSeq <= b.CSeq {
		return fmt.Errorf("%w: contact %q has CSeq %d for Call-ID %q, request has %d", ErrOutOfOrder,
			b.Contact, b.CSeq, u.CallID, u.CSeq)
	}
	return nil
}

// matches reports whether contact c is the same binding as b.
func matches(b Binding, c ContactUpdate) bool {
	if c.Instance != "" && c.RegID > 0 && b.RegID == c.RegID && strings.EqualFold(b.Instance, c.Instance) {
		return true
	}
	return SameURI(b.Contact, c.URI)
}
