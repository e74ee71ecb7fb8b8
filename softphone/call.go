package softphone

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Call states.
const (
	StateDialing = "dialing" // outgoing INVITE sent, no ringing yet
	StateRinging = "ringing" // far end ringing (outgoing) or ringing here (incoming)
	StateActive  = "active"  // answered
	StateEnded   = "ended"
)

// Directions.
const (
	DirOut = "out"
	DirIn  = "in"
)

// MediaOptions select a call's audio source and sink.
type MediaOptions struct {
	// Play is the source spec: tone:FREQ, file:PATH.wav, silence (default),
	// device (the default capture device) or device:NAME (the capture device
	// whose name contains NAME, case-insensitive; see AudioDevices).
	Play string `json:"play,omitempty"`
	// Record is a WAV path (or file:PATH, null, device, device:NAME) for the
	// received audio; empty discards it. device plays it on the default
	// playback device, device:NAME on the one whose name contains NAME.
	Record string `json:"record,omitempty"`
}

// CallInfo is a snapshot of a call for status output.
type CallInfo struct {
	ID        string     `json:"id"`
	Direction string     `json:"direction"`
	State     string     `json:"state"`
	Remote    string     `json:"remote"`
	Name      string     `json:"name,omitempty"`
	Hold      string     `json:"hold,omitempty"` // local, remote, both
	Muted     bool       `json:"muted,omitempty"`
	Codec     string     `json:"codec,omitempty"`
	SRTP      string     `json:"srtp,omitempty"`
	Started   time.Time  `json:"started"`
	Answered  *time.Time `json:"answered,omitempty"`
	Code      int        `json:"code,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

type decision struct {
	answer bool
	code   int
	reason string
	mo     *MediaOptions
}

// Call is one call (either direction) of a Phone. Its methods are safe for concurrent use.
type Call struct {
	p   *Phone
	id  string
	dir string

	mu         sync.Mutex
	state      string
	remote     sip.Uri
	name       string
	dlg        *dialog
	sdp        localSDP
	neg        Negotiated
	med        *mediaSession
	mopts      MediaOptions
	localHold  bool
	remoteHold bool
	muted      bool
	created    time.Time
	answered   time.Time
	endCode    int
	endReason  string
	endErr     error
	finalStats *CallStats

	done       chan struct{}
	answeredCh chan struct{}
	cancelCh   chan struct{}
	cancelOnce sync.Once

	// outgoing
	invReq  *sip.Request
	invTx   sip.ClientTransaction
	ack     *sip.Request
	winTag  string        // To tag of the 2xx that made the call (forks: fork.go)
	won     chan struct{} // closed when the first 2xx arrived
	wonOnce sync.Once

	// incoming
	decide chan decision
	acks   chan *sip.Request

	opMu      sync.Mutex // serializes re-INVITE, REFER
	reinvOut  bool       // an outgoing re-INVITE is pending (for 491)
	xfer      chan int   // NOTIFY sipfrag status codes of our REFER
	replaces  *Call      // call this one replaces (hung up once answered)
	ackOffer  bool       // we offered in a 2xx; the answer comes in the ACK
	lateOffer bool       // our INVITE had no SDP: the 2xx offers, the ACK answers
	early     bool       // early media is playing (a provisional response carried the SDP answer)
	digits    string     // DTMF digits received (RTP events and SIP INFO)

	wg sync.WaitGroup
}

func (p *Phone) newCall(dir string, remote sip.Uri, name string, mo MediaOptions) (*Call, error) {
	codecs, err := codecInfos(p.acct.Codecs)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.nextCall++
	id := fmt.Sprintf("c%d", p.nextCall)
	p.mu.Unlock()
	if name == "" && p.opts.Contacts != nil {
		name = p.opts.Contacts.NameFor(remote)
	}
	c := &Call{
		p: p, id: id, dir: dir, state: StateDialing, remote: remote, name: name, mopts: mo,
		created: time.Now(), done: make(chan struct{}), answeredCh: make(chan struct{}),
		cancelCh: make(chan struct{}), decide: make(chan decision, 1), acks: make(chan *sip.Request, 8),
		xfer: make(chan int, 8), won: make(chan struct{}),
	}
	if dir == DirIn {
		c.state = StateRinging
	}
	c.sdp = localSDP{codecs: codecs, srtp: p.acct.SRTP}
	return c, nil
}

func (p *Phone) addCall(c *Call) {
	p.mu.Lock()
	p.calls[c.id] = c
	p.mu.Unlock()
}

// Call returns the call with the given id.
func (p *Phone) Call(id string) (*Call, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.calls[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchCall, id)
	}
	return c, nil
}

// Calls returns snapshots of the current calls.
func (p *Phone) Calls() []CallInfo {
	p.mu.Lock()
	cs := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	out := make([]CallInfo, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Info())
	}
	return out
}

// callByDialog finds the call whose dialog matches an incoming in-dialog request.
func (p *Phone) callByRequest(req *sip.Request) *Call {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return nil
	}
	ft, _ := from.Params.Get("tag")
	tt, _ := to.Params.Get("tag")
	return p.callByTags(string(*cid), ft, tt)
}

// dialogCall finds the call of an in-dialog request. A request that matches
// no call gets 481; with checkSeq, one whose CSeq is not above the last one
// gets 500 (RFC 3261 section 12.2.2). It returns nil when it responded.
func (p *Phone) dialogCall(req *sip.Request, tx sip.ServerTransaction, checkSeq bool) *Call {
	c := p.callByRequest(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return nil
	}
	if checkSeq && !c.dlg.checkRemoteSeq(req.CSeq().SeqNo) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return nil
	}
	return c
}

// callByTags finds a call by Call-ID, remote tag and local tag.
func (p *Phone) callByTags(callID, remoteTag, localTag string) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		c.mu.Lock()
		d := c.dlg
		c.mu.Unlock()
		if d != nil && d.matches(callID, remoteTag, localTag) {
			return c
		}
	}
	return nil
}

// callByResponse finds the outgoing call a response belongs to.
func (p *Phone) callByResponse(res *sip.Response) *Call {
	cid, from, to := res.CallID(), res.From(), res.To()
	if cid == nil || from == nil || to == nil {
		return nil
	}
	ft, _ := from.Params.Get("tag")
	tt, _ := to.Params.Get("tag")
	return p.callByTags(string(*cid), tt, ft)
}

// ID returns the phone-local call id ("c1", "c2", ...).
func (c *Call) ID() string { return c.id }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Answered is closed when the call is connected.
func (c *Call) Answered() <-chan struct{} { return c.answeredCh }

// Info returns a snapshot of the call.
func (c *Call) Info() CallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := CallInfo{ID: c.id, Direction: c.dir, State: c.state, Remote: c.remote.String(), Name: c.name,
		Muted: c.muted, Started: c.created, Code: c.endCode, Reason: c.endReason}
	switch {
	case c.localHold && c.remoteHold:
		i.Hold = "both"
	case c.localHold:
		i.Hold = "local"
	case c.remoteHold:
		i.Hold = "remote"
	}
	if !c.answered.IsZero() {
		t := c.answered
		i.Answered = &t
		i.Codec = c.neg.Codec.Name
		i.SRTP = c.neg.Suite()
	}
	return i
}

// Err returns why the call ended (a *StatusError for SIP failures), or nil.
func (c *Call) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endErr
}

// WaitAnswered blocks until the call is answered, ends, or ctx is done.
func (c *Call) WaitAnswered(ctx context.Context) error {
	select {
	case <-c.answeredCh:
		return nil
	case <-c.done:
		if err := c.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%w: call ended before it was answered", ErrCallState)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait blocks until the call's goroutines have finished.
func (c *Call) wait() { c.wg.Wait() }

func (c *Call) event(t EventType) Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Event{Type: t, Call: c.id, Direction: c.dir, Remote: c.remote.String(), Name: c.name}
}

// setRinging marks an outgoing call as ringing at the far end.
func (c *Call) setRinging() {
	c.mu.Lock()
	if c.state != StateDialing {
		c.mu.Unlock()
		return
	}
	c.state = StateRinging
	c.mu.Unlock()
	c.p.emit(c.event(EventRinging))
}

// setActive marks the call connected and starts its quality reporting.
func (c *Call) setActive() {
	c.mu.Lock()
	if c.state == StateEnded || c.state == StateActive {
		c.mu.Unlock()
		return
	}
	c.state = StateActive
	c.answered = time.Now()
	repl := c.replaces
	c.mu.Unlock()
	close(c.answeredCh)
	e := c.event(EventAnswered)
	c.mu.Lock()
	e.Stats = &CallStats{Codec: c.neg.Codec.Name, SRTP: c.neg.Suite()}
	c.mu.Unlock()
	c.p.emit(e)
	c.wg.Add(1)
	go c.qualityLoop()
	if repl != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = repl.Hangup(ctx)
		}()
	}
}

func (c *Call) qualityLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.p.opts.QualityInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			s := c.Stats()
			e := c.event(EventQuality)
			e.Stats = &s
			c.p.emit(e)
		}
	}
}

// Stats returns the call's current statistics.
func (c *Call) Stats() CallStats {
	c.mu.Lock()
	med, final := c.med, c.finalStats
	neg, answered := c.neg, c.answered
	c.mu.Unlock()
	if final != nil {
		return *final
	}
	var s CallStats
	if med != nil {
		s = med.Stats()
	}
	return c.withCallFields(s, neg, answered)
}

// withCallFields completes media statistics with what the call knows: codec,
// SRTP suite, duration since the answer and the DTMF digits received.
func (c *Call) withCallFields(s CallStats, neg Negotiated, answered time.Time) CallStats {
	s.Codec, s.SRTP = neg.Codec.Name, neg.Suite()
	if !answered.IsZero() {
		s.Duration = Seconds(time.Since(answered))
	}
	c.mu.Lock()
	s.DTMFReceived = c.digits
	c.mu.Unlock()
	return s
}
