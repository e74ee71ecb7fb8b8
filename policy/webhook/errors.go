package webhook

import "errors"

// ErrConfig is returned by New for an unusable configuration.
var ErrConfig = errors.New("invalid webhook configuration")
