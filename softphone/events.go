package softphone

import (
	"sync"
	"time"
)

// EventType names an event on the phone's event stream.
type EventType string

// Event types. The JSON names are part of the control protocol (docs/phone-control.md).
const (
	EventRegistration EventType = "registration" // State: registering, registered, unregistered, failed, reconnecting
	EventIncoming     EventType = "incoming"     // a new incoming call is ringing here
	EventRinging      EventType = "ringing"      // the far end of an outgoing call is ringing; State "early_media" once early media plays
	EventAnswered     EventType = "answered"     // a call is connected (either direction)
	EventHold         EventType = "hold"         // State: local, remote, none (resumed)
	EventDTMF         EventType = "dtmf"         // a digit was received (Digit)
	EventQuality      EventType = "quality"      // periodic call statistics (Stats)
	EventTransfer     EventType = "transfer"     // transfer progress (State, Code)
	EventEnded        EventType = "ended"        // a call is over (Code, Reason, Stats)
)

// Event is one entry of the phone's event stream.
type Event struct {
	Type    EventType `json:"event"`
	Time    time.Time `json:"time"`
	Account string    `json:"account,omitempty"`
	// Call is the phone's local call identifier.
	Call string `json:"call,omitempty"`
	// State qualifies the event (registration state, hold side, transfer state).
	State string `json:"state,omitempty"`
	// Direction is "in" or "out" for call events.
	Direction string `json:"direction,omitempty"`
	// Remote is the peer's SIP URI; Name the display name or contact name.
	Remote string `json:"remote,omitempty"`
	Name   string `json:"name,omitempty"`
	// Code and Reason carry a SIP status (failures, endings, transfer progress).
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Digit is a DTMF digit (dtmf events).
	Digit string `json:"digit,omitempty"`
	// Stats are the call statistics (quality and ended events).
	Stats *CallStats `json:"stats,omitempty"`
	// Error explains a failure in words.
	Error string `json:"error,omitempty"`
}

// bus fans events out to subscribers without ever blocking the publisher:
// a subscriber that does not keep up loses events (its channel is buffered).
type bus struct {
	mu   sync.Mutex
	subs map[int]chan Event
	next int
}

// subscribe returns a channel of events and a function that unsubscribes and closes it.
func (b *bus) subscribe(buffer int) (<-chan Event, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]chan Event{}
	}
	id := b.next
	b.next++
	ch := make(chan Event, buffer)
	b.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if c, ok := b.subs[id]; ok {
				delete(b.subs, id)
				close(c)
			}
		})
	}
}

func (b *bus) publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// closeAll closes every subscriber channel.
func (b *bus) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, ch := range b.subs {
		delete(b.subs, id)
		close(ch)
	}
}
