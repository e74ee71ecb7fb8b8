package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/sipedge/sipedge/softphone"
)

// Phone is what the server drives; *softphone.Phone implements it.
type Phone interface {
	Account() softphone.Account
	Registration() softphone.RegistrationStatus
	Calls() []softphone.CallInfo
	Call(id string) (*softphone.Call, error)
	Dial(ctx context.Context, dest string, opts softphone.DialOptions) (*softphone.Call, error)
	Events(buffer int) (<-chan softphone.Event, func())
}

// Server serves the control protocol for one phone.
type Server struct {
	phone Phone
	log   *slog.Logger
	// Timeout bounds one command (default 30 s; transfers get twice as long).
	Timeout time.Duration

	wg sync.WaitGroup
}

// NewServer returns a server for phone.
func NewServer(phone Phone, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Server{phone: phone, log: log, Timeout: 30 * time.Second}
}

// Serve accepts connections until ctx ends or the listener fails; it closes
// the listener and waits for every connection to finish before returning.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	defer s.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control: accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
		}()
	}
}

// conn is one client connection; writes of responses and events are serialized.
type conn struct {
	c     net.Conn
	mu    sync.Mutex
	enc   *json.Encoder
	unsub func()
}

func (c *conn) write(v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.enc.Encode(v); err != nil {
		_ = c.c.Close()
	}
}

func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	c := &conn{c: nc, enc: json.NewEncoder(nc)}
	var cwg sync.WaitGroup
	defer func() {
		cancel()
		_ = nc.Close()
		cwg.Wait()
		c.mu.Lock()
		unsub := c.unsub
		c.mu.Unlock()
		if unsub != nil {
			unsub()
		}
	}()
	go func() {
		<-ctx.Done()
		_ = nc.Close()
	}()
	sc := bufio.NewScanner(nc)
	sc.Buffer(make([]byte, 4096), MaxLine)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var req Request
		if err := json.Unmarshal(line, &req); err != nil {
			c.write(Response{OK: false, Error: fmt.Sprintf("%v: %v", ErrBadRequest, err)})
			continue
		}
		if err := req.Validate(); err != nil {
			c.write(Response{ID: req.ID, OK: false, Error: err.Error()})
			continue
		}
		if req.Cmd == CmdSubscribe {
			s.subscribe(ctx, c, &cwg)
			c.write(Response{ID: req.ID, OK: true})
			continue
		}
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			c.write(s.handle(ctx, req))
		}()
	}
	if err := sc.Err(); err != nil && !errors.Is(err, net.ErrClosed) {
		c.write(Response{OK: false, Error: fmt.Sprintf("%v: %v", ErrBadRequest, err)})
	}
}

// subscribe starts forwarding events to the connection (once).
func (s *Server) subscribe(ctx context.Context, c *conn, wg *sync.WaitGroup) {
	c.mu.Lock()
	if c.unsub != nil {
		c.mu.Unlock()
		return
	}
	ch, unsub := s.phone.Events(1024)
	c.unsub = unsub
	c.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-ch:
				if !ok {
					return
				}
				c.write(e)
			}
		}
	}()
}

// handle runs one command.
func (s *Server) handle(ctx context.Context, req Request) Response {
	timeout := s.Timeout
	if req.Cmd == CmdTransfer {
		timeout *= 2
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := s.dispatch(ctx, req)
	if err != nil {
		r := Response{ID: req.ID, OK: false, Error: err.Error()}
		var se *softphone.StatusError
		if errors.As(err, &se) {
			r.Code = se.Code
		}
		return r
	}
	return Response{ID: req.ID, OK: true, Result: res}
}

func (s *Server) dispatch(ctx context.Context, req Request) (any, error) {
	switch req.Cmd {
	case CmdPing:
		return "pong", nil
	case CmdStatus:
		return Status{Account: s.phone.Account().Name, Registration: s.phone.Registration(), Calls: s.phone.Calls()}, nil
	case CmdDial:
		c, err := s.phone.Dial(ctx, req.To, softphone.DialOptions{MediaOptions: softphone.MediaOptions{Play: req.Play, Record: req.Record}})
		if err != nil {
			return nil, err
		}
		return DialResult{Call: c.ID()}, nil
	}
	c, err := s.phone.Call(req.Call)
	if err != nil {
		return nil, err
	}
	switch req.Cmd {
	case CmdAnswer:
		var mo *softphone.MediaOptions
		if req.Play != "" || req.Record != "" {
			mo = &softphone.MediaOptions{Play: req.Play, Record: req.Record}
		}
		return nil, c.Answer(mo)
	case CmdReject:
		return nil, c.Reject(req.Code)
	case CmdHangup:
		return nil, c.Hangup(ctx)
	case CmdHold:
		return nil, c.Hold(ctx)
	case CmdUnhold:
		return nil, c.Unhold(ctx)
	case CmdMute:
		return nil, c.Mute(true)
	case CmdUnmute:
		return nil, c.Mute(false)
	case CmdDTMF:
		return nil, c.SendDTMF(ctx, req.Digits)
	case CmdStats:
		return c.Stats(), nil
	case CmdTransfer:
		if req.With != "" {
			other, err := s.phone.Call(req.With)
			if err != nil {
				return nil, err
			}
			return nil, c.AttendedTransfer(ctx, other)
		}
		return nil, c.Transfer(ctx, req.To)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownCommand, req.Cmd)
}
