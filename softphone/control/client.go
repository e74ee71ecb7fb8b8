package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/sipedge/sipedge/softphone"
)

// Client talks to a phone daemon. Do may be called concurrently; events
// (after Subscribe) arrive on the channel Events returns.
type Client struct {
	c      net.Conn
	mu     sync.Mutex
	next   int
	wait   map[string]chan Response
	events chan softphone.Event
	done   chan struct{}
	err    error
}

// Dial connects to the daemon's socket.
func Dial(ctx context.Context, socket string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("control: connect to %s (is `phone daemon --socket %s` running?): %w", socket, socket, err)
	}
	cl := &Client{c: c, wait: map[string]chan Response{}, events: make(chan softphone.Event, 1024), done: make(chan struct{})}
	go cl.read()
	return cl, nil
}

// Close closes the connection.
func (cl *Client) Close() error {
	err := cl.c.Close()
	<-cl.done
	return err
}

// Events returns the event channel (closed when the connection ends).
func (cl *Client) Events() <-chan softphone.Event { return cl.events }

func (cl *Client) read() {
	defer close(cl.done)
	defer close(cl.events)
	sc := bufio.NewScanner(cl.c)
	sc.Buffer(make([]byte, 4096), 4*MaxLine)
	for sc.Scan() {
		var probe struct {
			Event string          `json:"event"`
			ID    json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			continue
		}
		if probe.Event != "" {
			var e softphone.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				select {
				case cl.events <- e:
				default:
				}
			}
			continue
		}
		var r Response
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		cl.mu.Lock()
		ch, ok := cl.wait[string(r.ID)]
		delete(cl.wait, string(r.ID))
		cl.mu.Unlock()
		if ok {
			ch <- r
		}
	}
	cl.mu.Lock()
	cl.err = errors.New("control: connection closed")
	for id, ch := range cl.wait {
		close(ch)
		delete(cl.wait, id)
	}
	cl.mu.Unlock()
}

// Do sends a request and waits for its response. A response with ok=false
// is returned as is, with a nil error; errors are transport failures.
func (cl *Client) Do(ctx context.Context, req Request) (Response, error) {
	cl.mu.Lock()
	if cl.err != nil {
		cl.mu.Unlock()
		return Response{}, cl.err
	}
	cl.next++
	req.ID = json.RawMessage(strconv.Itoa(cl.next))
	ch := make(chan Response, 1)
	cl.wait[string(req.ID)] = ch
	cl.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	_ = cl.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := cl.c.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("control: send: %w", err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return Response{}, errors.New("control: connection closed before the response")
		}
		return r, nil
	case <-ctx.Done():
		cl.mu.Lock()
		delete(cl.wait, string(req.ID))
		cl.mu.Unlock()
		return Response{}, ctx.Err()
	}
}
