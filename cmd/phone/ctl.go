package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sipedge/sipedge/softphone/control"
)

const ctlUsage = `usage: phone ctl [--socket PATH] COMMAND [ARGS]

  status                        registration and calls
  dial URI [--play S] [--record F]
  answer CALL [--play S] [--record F]
  reject CALL [--code 486]
  hangup CALL | hold CALL | unhold CALL | mute CALL | unmute CALL | stats CALL
  dtmf CALL DIGITS
  transfer CALL TARGET          blind transfer
  transfer CALL --with CALL2    attended transfer (CALL2 is the consultation call)
  events                        print the event stream (JSON lines) until interrupted
  ping
`

func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ctl", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, ctlUsage) }
	socket := fs.String("socket", "", "control socket path (default $XDG_RUNTIME_DIR/sipedge-phone.sock)")
	play := fs.String("play", "", "audio source for dial/answer")
	record := fs.String("record", "", "recording file for dial/answer")
	code := fs.Int("code", 0, "SIP status for reject (default 486)")
	with := fs.String("with", "", "consultation call for an attended transfer")
	timeout := fs.Duration("timeout", 90*time.Second, "how long to wait for the response")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, ctlUsage)
		return usageError("ctl needs a command")
	}
	req, err := ctlRequest(pos, *play, *record, *code, *with)
	if err != nil {
		return err
	}
	if *socket == "" {
		if *socket, err = defaultSocket(); err != nil {
			return err
		}
	}
	if pos[0] != "events" {
		if err := req.Validate(); err != nil {
			return usageError(err.Error())
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	cl, err := control.Dial(dctx, *socket)
	cancel()
	if err != nil {
		return err
	}
	defer cl.Close()
	if pos[0] == "events" {
		return ctlEvents(ctx, cl, stdout)
	}
	rctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := cl.Do(rctx, req)
	if err != nil {
		return err
	}
	printJSON(stdout, res)
	if !res.OK {
		return &reportedErr{err: fmt.Errorf("%s: %s", req.Cmd, res.Error)}
	}
	return nil
}

// ctlRequest maps "CMD ARGS..." to a request.
func ctlRequest(pos []string, play, record string, code int, with string) (control.Request, error) {
	cmd, rest := pos[0], pos[1:]
	req := control.Request{Cmd: cmd, Play: play, Record: record, Code: code, With: with}
	want := func(n int, names string) error {
		if len(rest) != n {
			return usageError(fmt.Sprintf("ctl %s needs %s", cmd, names))
		}
		return nil
	}
	var err error
	switch cmd {
	case "status", "ping", "events":
		err = want(0, "no arguments")
	case "dial":
		if err = want(1, "URI"); err == nil {
			req.To = rest[0]
		}
	case "dtmf":
		if err = want(2, "CALL DIGITS"); err == nil {
			req.Call, req.Digits = rest[0], rest[1]
		}
	case "transfer":
		switch {
		case with != "" && len(rest) == 1:
			req.Call = rest[0]
		case with == "" && len(rest) == 2:
			req.Call, req.To = rest[0], rest[1]
		default:
			err = usageError("ctl transfer needs CALL TARGET, or CALL --with CALL2")
		}
	default:
		if err = want(1, "CALL"); err == nil {
			req.Call = rest[0]
		}
	}
	if err != nil {
		return req, err
	}
	if !strings.Contains(" "+strings.Join(control.Commands, " ")+" events ", " "+cmd+" ") {
		return req, usageError(fmt.Sprintf("unknown ctl command %q", cmd))
	}
	return req, nil
}

func ctlEvents(ctx context.Context, cl *control.Client, stdout io.Writer) error {
	res, err := cl.Do(ctx, control.Request{Cmd: control.CmdSubscribe})
	if err != nil {
		return err
	}
	if !res.OK {
		return fmt.Errorf("subscribe: %s", res.Error)
	}
	enc := json.NewEncoder(stdout)
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-cl.Events():
			if !ok {
				return fmt.Errorf("the daemon closed the connection")
			}
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
	}
}
