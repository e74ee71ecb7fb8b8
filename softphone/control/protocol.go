// Package control is the phone daemon's control API: JSON lines over a unix
// socket (docs/phone-control.md). A client writes one Request per line and
// reads one Response per request (matched by id); after "subscribe" the
// connection also carries the phone's events, one JSON object per line with
// an "event" field.
package control

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sipedge/sipedge/softphone"
)

// Commands understood by the daemon.
const (
	CmdPing      = "ping"
	CmdStatus    = "status"
	CmdDial      = "dial"
	CmdAnswer    = "answer"
	CmdReject    = "reject"
	CmdHangup    = "hangup"
	CmdHold      = "hold"
	CmdUnhold    = "unhold"
	CmdMute      = "mute"
	CmdUnmute    = "unmute"
	CmdDTMF      = "dtmf"
	CmdTransfer  = "transfer"
	CmdStats     = "stats"
	CmdSubscribe = "subscribe"
)

// Commands lists every command, for help and validation.
var Commands = []string{CmdPing, CmdStatus, CmdDial, CmdAnswer, CmdReject, CmdHangup, CmdHold, CmdUnhold,
	CmdMute, CmdUnmute, CmdDTMF, CmdTransfer, CmdStats, CmdSubscribe}

// MaxLine is the longest request line accepted.
const MaxLine = 64 * 1024

// Request is one command. Fields not used by a command must be empty.
type Request struct {
	// ID is echoed in the response (any JSON value; optional).
	ID json.RawMessage `json:"id,omitempty"`
	// Cmd is the command name.
	Cmd string `json:"cmd"`
	// Call is the call id (answer, reject, hangup, hold, unhold, mute, unmute, dtmf, transfer, stats).
	Call string `json:"call,omitempty"`
	// To is the destination of dial and of a blind transfer.
	To string `json:"to,omitempty"`
	// With is the consultation call of an attended transfer.
	With string `json:"with,omitempty"`
	// Play and Record select audio for dial and answer.
	Play   string `json:"play,omitempty"`
	Record string `json:"record,omitempty"`
	// Digits for dtmf.
	Digits string `json:"digits,omitempty"`
	// Code for reject (486 by default).
	Code int `json:"code,omitempty"`
}

// Response answers one Request.
type Response struct {
	ID json.RawMessage `json:"id,omitempty"`
	OK bool            `json:"ok"`
	// Error explains a failure; Code is its SIP status when there is one.
	Error string `json:"error,omitempty"`
	Code  int    `json:"code,omitempty"`
	// Result is the command's data (see the protocol document).
	Result any `json:"result,omitempty"`
}

// Status is the result of "status".
type Status struct {
	Account      string                       `json:"account"`
	Registration softphone.RegistrationStatus `json:"registration"`
	Calls        []softphone.CallInfo         `json:"calls"`
}

// DialResult is the result of "dial".
type DialResult struct {
	Call string `json:"call"`
}

// Sentinel errors of the protocol.
var (
	// ErrBadRequest is a line that is not a valid request.
	ErrBadRequest = errors.New("bad request")
	// ErrUnknownCommand names a command the daemon does not know.
	ErrUnknownCommand = errors.New("unknown command")
	// ErrMissingField is a request without a field its command needs.
	ErrMissingField = errors.New("missing field")
)

// Validate checks that the request names a known command with its required fields.
func (r Request) Validate() error {
	need := func(field, v string) error {
		if v == "" {
			return fmt.Errorf("%w: %q needs %q", ErrMissingField, r.Cmd, field)
		}
		return nil
	}
	switch r.Cmd {
	case CmdPing, CmdStatus, CmdSubscribe:
		return nil
	case CmdDial:
		return need("to", r.To)
	case CmdAnswer, CmdReject, CmdHangup, CmdHold, CmdUnhold, CmdMute, CmdUnmute, CmdStats:
		return need("call", r.Call)
	case CmdDTMF:
		if err := need("call", r.Call); err != nil {
			return err
		}
		return need("digits", r.Digits)
	case CmdTransfer:
		if err := need("call", r.Call); err != nil {
			return err
		}
		if r.To == "" && r.With == "" {
			return fmt.Errorf("%w: %q needs \"to\" (blind) or \"with\" (attended)", ErrMissingField, r.Cmd)
		}
		if r.To != "" && r.With != "" {
			return fmt.Errorf("%w: %q takes \"to\" or \"with\", not both", ErrBadRequest, r.Cmd)
		}
		return nil
	case "":
		return fmt.Errorf("%w: no \"cmd\"", ErrBadRequest)
	}
	return fmt.Errorf("%w: %q (known: %v)", ErrUnknownCommand, r.Cmd, Commands)
}
