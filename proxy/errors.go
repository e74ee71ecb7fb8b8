package proxy

import (
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

var (
	// ErrFlowGone means the connection a request must be delivered on has closed (answered 430).
	ErrFlowGone = errors.New("flow failed: the phone's connection is gone")
	// ErrNoTarget means no PBX target is healthy (answered 503 with Retry-After).
	ErrNoTarget = errors.New("no healthy PBX target")
	// ErrConfig means the proxy configuration is unusable.
	ErrConfig = errors.New("proxy configuration")
)

// statusError carries the SIP status a failure should be answered with.
type statusError struct {
	Status  int
	Reason  string
	Detail  string // for logs only; never sent
	headers []sip.Header
}

func (e *statusError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Reason, e.Detail)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Reason)
}

func reject(status int, reason, detail string) error {
	return &statusError{Status: status, Reason: reason, Detail: detail}
}
