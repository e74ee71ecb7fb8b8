package policy

import "errors"

var (
	// ErrConfig wraps a policy configuration that does not validate (the config.Errors are wrapped too).
	ErrConfig = errors.New("invalid policy configuration")
	// ErrNoGeoDB is returned when geo rules are configured without a country database.
	ErrNoGeoDB = errors.New("geo rules need a country database")
	// ErrGeoDB is returned when the country database cannot be opened or has no country data.
	ErrGeoDB = errors.New("cannot use country database")
)
