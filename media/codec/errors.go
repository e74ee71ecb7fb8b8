package codec

import "errors"

// Sentinel errors returned by this package. Callers test them with errors.Is.
var (
	// ErrUnknownCodec is returned for a codec name this package does not implement.
	ErrUnknownCodec = errors.New("codec: unknown codec")
	// ErrUnknownPayloadType is returned for an RTP payload type that maps to no codec here.
	ErrUnknownPayloadType = errors.New("codec: unknown payload type")
)
