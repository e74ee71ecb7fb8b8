package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/sipedge/sipedge/userdb"
)

// Defaults applied by [New] to zero fields of [Config].
const (
	// DefaultNonceTTL is how long a nonce stays valid.
	DefaultNonceTTL = 5 * time.Minute
	// DefaultMaxNonces bounds the nonce-count table (about 150 bytes per entry).
	DefaultMaxNonces = 65536
	// MaxHeaderLen is the longest credentials value Verify will parse.
	MaxHeaderLen = 4096
)

// Config configures a [Server].
type Config struct {
	// Realm is the digest realm, e.g. the SIP domain. Required.
	Realm string
	// NonceTTL is the lifetime of a nonce; 0 means DefaultNonceTTL.
	NonceTTL time.Duration
	// MaxNonces caps the nonce-count table; 0 means DefaultMaxNonces.
	MaxNonces int
	// Lookup finds a user by the exact username parameter, e.g. (*userdb.DB).Lookup. Required.
	Lookup func(name string) (userdb.User, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secret keys the nonce MAC. At least 16 bytes; nil means 32 random bytes (nonces then die with the
	// process).
	Secret []byte
}

// Validate reports the first problem with c, naming the field.
func (c Config) Validate() error {
	if c.Realm == "" {
		return errors.New("auth: Realm: must not be empty")
	}
	for i := 0; i < len(c.Realm); i++ {
		if b := c.Realm[i]; b < 0x20 || b == 0x7f {
			return fmt.Errorf("auth: Realm: control character at byte %d", i)
		}
	}
	if c.NonceTTL < 0 {
		return errors.New("auth: NonceTTL: must not be negative")
	}
	if c.MaxNonces < 0 {
		return errors.New("auth: MaxNonces: must not be negative")
	}
	if c.Lookup == nil {
		return errors.New("auth: Lookup: required")
	}
	if c.Secret != nil && len(c.Secret) < 16 {
		return errors.New("auth: Secret: need at least 16 bytes")
	}
	return nil
}
