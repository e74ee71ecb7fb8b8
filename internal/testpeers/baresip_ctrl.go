package testpeers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Event types baresip reports over ctrl_tcp (the "type" member), the ones tests usually wait for.
const (
	EventRegisterOK      = "REGISTER_OK"
	EventRegisterFail    = "REGISTER_FAIL"
	EventUnregistering   = "UNREGISTERING"
	EventCallIncoming    = "CALL_INCOMING"
	EventCallOutgoing    = "CALL_OUTGOING"
	EventCallRinging     = "CALL_RINGING"
	EventCallProgress    = "CALL_PROGRESS"
	EventCallEstablished = "CALL_ESTABLISHED"
	EventCallClosed      = "CALL_CLOSED"
	EventCallDTMFStart   = "CALL_DTMF_START"
	EventCallDTMFEnd     = "CALL_DTMF_END"
	EventCallTransfer    = "CALL_TRANSFER"
	EventCallRTCP        = "CALL_RTCP"
	EventMWINotify       = "MWI_NOTIFY"
)

// Event is one event baresip sent over its control connection.
type Event struct {
	Type       string    `json:"type"`            // e.g. "CALL_ESTABLISHED"
	Class      string    `json:"class"`           // "register", "call", ...
	AccountAOR string    `json:"accountaor"`      // the account the event belongs to
	Direction  string    `json:"direction"`       // "incoming" or "outgoing" for call events
	PeerURI    string    `json:"peeruri"`         // remote party
	PeerName   string    `json:"peerdisplayname"` // remote display name
	ID         string    `json:"id"`              // call id (SIP Call-ID) for call events
	Param      string    `json:"param"`           // e.g. the SIP status for REGISTER_FAIL, the reason for CALL_CLOSED
	Received   time.Time `json:"-"`               // when the harness read it
	Raw        string    `json:"-"`               // the JSON as sent
}

type ctrlMessage struct {
	Event    bool   `json:"event"`
	Response bool   `json:"response"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	Token    string `json:"token"`
}

// ctrlConn is the one control connection to a baresip instance (baresip 1.0 sends events only to the
// newest connection). A reader goroutine, owned by the connection, ends when the connection closes.
type ctrlConn struct {
	conn net.Conn

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever events/responses change or the reader ends
	events   []Event       // every event, in order
	consumed []bool        // consumed[i]: events[i] was returned by a wait
	replies  map[string]ctrlMessage
	readErr  error
	token    int
	readDone chan struct{}
	writeMu  sync.Mutex
}

func dialCtrl(addr string, timeout time.Duration) (*ctrlConn, error) {
	conn, err := net.DialTimeout("tcp4", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &ctrlConn{
		conn:     conn,
		changed:  make(chan struct{}),
		replies:  map[string]ctrlMessage{},
		readDone: make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

func (c *ctrlConn) close() {
	_ = c.conn.Close()
	<-c.readDone
}

// notifyLocked wakes every waiter; c.mu must be held.
func (c *ctrlConn) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *ctrlConn) readLoop() {
	defer close(c.readDone)
	r := bufio.NewReaderSize(c.conn, 64*1024)
	for {
		payload, err := readNetstring(r)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.notifyLocked()
			c.mu.Unlock()
			return
		}
		var m ctrlMessage
		if err := json.Unmarshal(payload, &m); err != nil {
			continue // not JSON: ignore, baresip only sends JSON here
		}
		c.mu.Lock()
		switch {
		case m.Event:
			var ev Event
			_ = json.Unmarshal(payload, &ev)
			ev.Received = time.Now()
			ev.Raw = string(payload)
			c.events = append(c.events, ev)
			c.consumed = append(c.consumed, false)
		case m.Response:
			c.replies[m.Token] = m
		}
		c.notifyLocked()
		c.mu.Unlock()
	}
}

// readNetstring reads one "LEN:PAYLOAD," frame.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("baresip control: bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, errors.New("baresip control: netstring without trailing comma")
	}
	return buf[:n], nil
}

func writeNetstring(w io.Writer, payload []byte) error {
	frame := make([]byte, 0, len(payload)+12)
	frame = strconv.AppendInt(frame, int64(len(payload)), 10)
	frame = append(frame, ':')
	frame = append(frame, payload...)
	frame = append(frame, ',')
	_, err := w.Write(frame)
	return err
}

// command sends a long command ("dial", "accept", ...) with params and waits for its response. It
// returns the response's data; ok=false becomes an error wrapping ErrCommand.
func (c *ctrlConn) command(ctx context.Context, cmd, params string) (string, error) {
	c.mu.Lock()
	c.token++
	tok := strconv.Itoa(c.token)
	c.mu.Unlock()
	msg := map[string]string{"command": cmd, "token": tok}
	if params != "" {
		msg["params"] = params
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return "", err
	}
	c.writeMu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetWriteDeadline(dl)
	} else {
		_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	}
	err = writeNetstring(c.conn, payload)
	c.writeMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("baresip %s: %w", cmd, err)
	}
	for {
		c.mu.Lock()
		m, ok := c.replies[tok]
		if ok {
			delete(c.replies, tok)
		}
		readErr, changed := c.readErr, c.changed
		c.mu.Unlock()
		if ok {
			if !m.OK {
				return m.Data, fmt.Errorf("%w: %s %s: %s", ErrCommand, cmd, params, m.Data)
			}
			return m.Data, nil
		}
		if readErr != nil {
			return "", fmt.Errorf("baresip %s: control connection: %w", cmd, readErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("baresip %s: %w", cmd, ctx.Err())
		}
	}
}

// waitEvent returns the oldest event not yet returned by a wait for which match is true, consuming it.
func (c *ctrlConn) waitEvent(ctx context.Context, match func(Event) bool) (Event, error) {
	for {
		c.mu.Lock()
		for i, ev := range c.events {
			if !c.consumed[i] && match(ev) {
				c.consumed[i] = true
				c.mu.Unlock()
				return ev, nil
			}
		}
		readErr, changed := c.readErr, c.changed
		c.mu.Unlock()
		if readErr != nil {
			return Event{}, fmt.Errorf("baresip control connection: %w", readErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// snapshot returns a copy of every event received so far.
func (c *ctrlConn) snapshot() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}
