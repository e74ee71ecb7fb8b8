package auth

import "errors"

// Sentinel error categories returned by [Server.Verify], wrapped in an [*Error]. Test with errors.Is.
var (
	// ErrNoCredentials means the request carried no Authorization/Proxy-Authorization value.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrMalformed means the credentials could not be parsed, lacked a required parameter, used an
	// unsupported scheme, algorithm or qop, or named a different URI than the request line.
	ErrMalformed = errors.New("auth: malformed credentials")
	// ErrBadCredentials means the user is unknown, the password is wrong, or the nonce is not one of ours.
	// These cases are deliberately indistinguishable to the caller.
	ErrBadCredentials = errors.New("auth: bad credentials")
	// ErrStaleNonce means the response was right but the nonce has expired; challenge again with stale=true.
	ErrStaleNonce = errors.New("auth: stale nonce")
	// ErrReplay means the nonce count was not greater than the highest one already accepted for the nonce.
	ErrReplay = errors.New("auth: nonce count replay")
	// ErrRealm means the credentials are for another realm.
	ErrRealm = errors.New("auth: wrong realm")
)

// Error is the error type returned by [Server.Verify]. Kind is one of the sentinel errors; Reason and
// Username are for logs only and must not be sent to the peer (Reason tells an unknown user from a wrong
// password).
type Error struct {
	// Kind is the sentinel category (ErrMalformed, ErrBadCredentials, ...).
	Kind error
	// Reason is a short internal explanation, e.g. "unknown user" or "wrong password".
	Reason string
	// Username is the username parameter as sent (attacker-controlled; may be empty).
	Username string
}

// Error returns the category followed by the internal reason. It is meant for logs.
func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Reason
}

// Unwrap returns Kind so that errors.Is(err, ErrBadCredentials) works.
func (e *Error) Unwrap() error { return e.Kind }

// Reason returns the internal reason of an [*Error] in err's chain, or "" if there is none.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func fail(kind error, reason, username string) error {
	return &Error{Kind: kind, Reason: reason, Username: username}
}
