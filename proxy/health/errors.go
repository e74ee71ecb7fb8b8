package health

import "errors"

// Sentinel errors of the package; check them with errors.Is.
var (
	// ErrInvalidConfig wraps every Config.Validate failure; the message names the field.
	ErrInvalidConfig = errors.New("health: invalid config")
	// ErrAlreadyRunning is returned by Run while another Run of the same Checker is in progress.
	ErrAlreadyRunning = errors.New("health: checker already running")
)
