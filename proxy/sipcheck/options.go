package sipcheck

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// DefaultMaxForwards is the Max-Forwards value inserted into a forwarded
// request that arrived without one (RFC 3261 §16.6 step 3).
const DefaultMaxForwards = 70

// defaultSchemes is the Request-URI scheme allow-list used when
// Options.AllowedSchemes is empty.
var defaultSchemes = []string{"sip", "sips", "tel"}

// Options tunes Request. The zero value is ready to use.
type Options struct {
	// MaxForwardsLimit is the Max-Forwards value to insert when a request has
	// none (default DefaultMaxForwards). It is not a cap: a larger incoming
	// value is accepted and decremented as usual.
	MaxForwardsLimit int
	// AllowedSchemes lists the Request-URI schemes accepted (case-insensitive);
	// others get 416. Default: sip, sips, tel.
	AllowedSchemes []string
}

// withDefaults fills zero fields; it is the only place defaults are applied.
func (o Options) withDefaults() Options {
	if o.MaxForwardsLimit <= 0 {
		o.MaxForwardsLimit = DefaultMaxForwards
	}
	if len(o.AllowedSchemes) == 0 {
		o.AllowedSchemes = defaultSchemes
	}
	return o
}

// Validate reports configuration mistakes, naming the field at fault.
func (o Options) Validate() error {
	if o.MaxForwardsLimit < 0 || o.MaxForwardsLimit > 255 {
		return fmt.Errorf("sipcheck: Options.MaxForwardsLimit: %d is outside 0-255", o.MaxForwardsLimit)
	}
	for i, s := range o.AllowedSchemes {
		if !isScheme(s) {
			return fmt.Errorf("sipcheck: Options.AllowedSchemes[%d]: %q is not a URI scheme", i, s)
		}
	}
	return nil
}

// NextMaxForwards returns the Max-Forwards value the forwarded copy of req
// must carry: the incoming value minus one, or opts.MaxForwardsLimit
// (default 70) when req has no Max-Forwards. Call it only for a request that
// Request accepted (so an incoming value is at least 1).
func NextMaxForwards(req *sip.Request, opts Options) int {
	if mf := req.MaxForwards(); mf != nil {
		if v := int(*mf); v > 0 {
			return v - 1
		}
		return 0
	}
	return opts.withDefaults().MaxForwardsLimit
}
