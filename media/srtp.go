package media

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/replaydetector"
)

// Replay window sizes, in packets.
const (
	// DefaultReplayWindow is the SRTP and SRTCP replay window used unless WithReplayWindow
	// or a larger WSH session parameter asks for more (libsrtp's default; RFC 3711 §3.3.2
	// requires at least 64).
	DefaultReplayWindow = 128
	// MaxReplayWindow caps the window a peer's WSH parameter can ask for, so that a
	// remote offer cannot make us allocate a huge bitmap per SSRC.
	MaxReplayWindow = 8192

	maxSRTPIndex  = 1<<48 - 1 // ROC<<16 | SEQ
	maxSRTCPIndex = 1<<31 - 1
	rtpHeaderMin  = 12
	rtcpHeaderMin = 8
)

// Option adjusts a Decryptor.
type Option func(*options)

type options struct {
	window uint
}

// WithReplayWindow sets the replay window (packets) of a Decryptor, clamped to
// 64..MaxReplayWindow. A WSH parameter on the remote line still raises it.
func WithReplayWindow(n uint) Option {
	return func(o *options) { o.window = n }
}

// Encryptor protects the RTP and RTCP we send, keyed by OUR crypto line (the one we put in
// our SDP). RTP and RTCP use separate pion contexts and locks, so EncryptRTP and
// EncryptRTCP may run on different goroutines; concurrent calls of the same method are
// serialised. It is safe for concurrent use.
type Encryptor struct {
	suite  Suite
	mkiLen int

	rtpMu  sync.Mutex
	rtpCtx *srtp.Context
	rtpHdr rtp.Header

	rtcpMu  sync.Mutex
	rtcpCtx *srtp.Context
	rtcpHdr rtcp.Header
}

// NewEncryptor builds an Encryptor from our crypto line a (see CryptoAttr.Validate for
// what is accepted).
func NewEncryptor(a CryptoAttr) (*Encryptor, error) {
	profile, err := checkAttr(a)
	if err != nil {
		return nil, err
	}
	e := &Encryptor{suite: a.Suite, mkiLen: a.MKILen}
	base := mkiOptions(a)
	if e.rtpCtx, err = srtp.CreateContext(a.Key, a.Salt, profile, base...); err != nil {
		return nil, fmt.Errorf("media: creating SRTP context: %w", err)
	}
	if e.rtcpCtx, err = srtp.CreateContext(a.Key, a.Salt, profile, base...); err != nil {
		return nil, fmt.Errorf("media: creating SRTCP context: %w", err)
	}

	return e, nil
}

// Suite returns the suite this Encryptor protects with.
func (e *Encryptor) Suite() Suite { return e.suite }

// RTPOverhead is how many bytes EncryptRTP adds to a packet.
func (e *Encryptor) RTPOverhead() int { return e.suite.RTPOverhead() + e.mkiLen }

// RTCPOverhead is how many bytes EncryptRTCP adds to a packet.
func (e *Encryptor) RTCPOverhead() int { return e.suite.RTCPOverhead() + e.mkiLen }

// EncryptRTP protects the RTP packet plain and returns the SRTP packet, written into dst's
// backing array when cap(dst) >= len(plain)+RTPOverhead() (no allocation), else into a new
// buffer. dst may be plain[:0] to encrypt in place; otherwise the two must not overlap.
func (e *Encryptor) EncryptRTP(dst, plain []byte) ([]byte, error) {
	if len(plain) < rtpHeaderMin || plain[0]>>6 != 2 {
		return nil, fmt.Errorf("%w: not an RTP packet (%d bytes)", ErrMalformedPacket, len(plain))
	}
	e.rtpMu.Lock()
	out, err := e.rtpCtx.EncryptRTP(dst, plain, &e.rtpHdr)
	e.rtpMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%w: encrypting RTP: %w", ErrMalformedPacket, err)
	}

	return out, nil
}

// EncryptRTCP protects the RTCP (compound) packet plain, with the same buffer rules as
// EncryptRTP (RTCPOverhead extra bytes).
func (e *Encryptor) EncryptRTCP(dst, plain []byte) ([]byte, error) {
	if len(plain) < rtcpHeaderMin || plain[0]>>6 != 2 {
		return nil, fmt.Errorf("%w: not an RTCP packet (%d bytes)", ErrMalformedPacket, len(plain))
	}
	e.rtcpMu.Lock()
	out, err := e.rtcpCtx.EncryptRTCP(dst, plain, &e.rtcpHdr)
	e.rtcpMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%w: encrypting RTCP: %w", ErrMalformedPacket, err)
	}

	return out, nil
}

// Decryptor verifies and decrypts the SRTP and SRTCP we receive, keyed by the REMOTE crypto
// line (the one in the peer's SDP). Replay protection is always on for both. It is safe
// for concurrent use, with the same locking as Encryptor.
type Decryptor struct {
	suite  Suite
	mkiLen int
	window uint

	rtpMu       sync.Mutex
	rtpCtx      *srtp.Context
	rtpHdr      rtp.Header
	rtpReplayed bool // set by the replay detector when it rejects; guarded by rtpMu

	rtcpMu       sync.Mutex
	rtcpCtx      *srtp.Context
	rtcpHdr      rtcp.Header
	rtcpReplayed bool // guarded by rtcpMu
}

// NewDecryptor builds a Decryptor from the remote crypto line a.
func NewDecryptor(a CryptoAttr, opts ...Option) (*Decryptor, error) {
	profile, err := checkAttr(a)
	if err != nil {
		return nil, err
	}
	o := options{window: DefaultReplayWindow}
	for _, fn := range opts {
		fn(&o)
	}
	if w := a.WindowSizeHint(); w > uint64(o.window) {
		o.window = uint(min(w, MaxReplayWindow))
	}
	o.window = min(max(o.window, minWSH), MaxReplayWindow)

	d := &Decryptor{suite: a.Suite, mkiLen: a.MKILen, window: o.window}
	rtpOpts := append(mkiOptions(a), srtp.SRTPReplayDetectorFactory(func() replaydetector.ReplayDetector {
		return newFlagDetector(replaydetector.New(o.window, maxSRTPIndex), &d.rtpReplayed)
	}))
	if d.rtpCtx, err = srtp.CreateContext(a.Key, a.Salt, profile, rtpOpts...); err != nil {
		return nil, fmt.Errorf("media: creating SRTP context: %w", err)
	}
	rtcpOpts := append(mkiOptions(a), srtp.SRTCPReplayDetectorFactory(func() replaydetector.ReplayDetector {
		return newFlagDetector(replaydetector.New(o.window, maxSRTCPIndex), &d.rtcpReplayed)
	}))
	if d.rtcpCtx, err = srtp.CreateContext(a.Key, a.Salt, profile, rtcpOpts...); err != nil {
		return nil, fmt.Errorf("media: creating SRTCP context: %w", err)
	}

	return d, nil
}

// Suite returns the suite this Decryptor verifies.
func (d *Decryptor) Suite() Suite { return d.suite }

// ReplayWindow returns the replay window in packets.
func (d *Decryptor) ReplayWindow() uint { return d.window }

// DecryptRTP verifies and decrypts the SRTP packet enc and returns the RTP packet, written
// into dst's backing array when it has room for len(enc) bytes (no allocation). dst may be
// enc[:0] to decrypt in place; otherwise the two must not overlap.
//
// Errors: ErrAuth (tag does not verify, unknown MKI), ErrReplay (index already seen or
// behind the window; the check runs before authentication, so a forged copy of an old
// index also reports ErrReplay), ErrMalformedPacket. A packet that fails must be dropped
// and must not be used for address latching. The errors for ErrAuth and ErrReplay are the
// bare sentinels (no allocation on the rejection path).
func (d *Decryptor) DecryptRTP(dst, enc []byte) ([]byte, error) {
	if len(enc) < rtpHeaderMin || enc[0]>>6 != 2 {
		return nil, ErrMalformedPacket
	}
	d.rtpMu.Lock()
	d.rtpReplayed = false
	out, err := d.rtpCtx.DecryptRTP(dst, enc, &d.rtpHdr)
	replayed := d.rtpReplayed
	d.rtpMu.Unlock()
	if err != nil {
		return nil, mapDecryptErr(err, replayed)
	}

	return out, nil
}

// DecryptRTCP verifies and decrypts the SRTCP packet enc, with the same buffer rules and
// errors as DecryptRTP.
func (d *Decryptor) DecryptRTCP(dst, enc []byte) ([]byte, error) {
	if len(enc) < rtcpHeaderMin || enc[0]>>6 != 2 {
		return nil, ErrMalformedPacket
	}
	d.rtcpMu.Lock()
	d.rtcpReplayed = false
	out, err := d.rtcpCtx.DecryptRTCP(dst, enc, &d.rtcpHdr)
	replayed := d.rtcpReplayed
	d.rtcpMu.Unlock()
	if err != nil {
		return nil, mapDecryptErr(err, replayed)
	}

	return out, nil
}

func mapDecryptErr(err error, replayed bool) error {
	switch {
	case replayed:
		return ErrReplay
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag), errors.Is(err, srtp.ErrMKINotFound):
		return ErrAuth
	default:
		return fmt.Errorf("%w: %w", ErrMalformedPacket, err)
	}
}

// checkAttr validates a and returns its pion profile.
func checkAttr(a CryptoAttr) (srtp.ProtectionProfile, error) {
	if err := a.Validate(); err != nil {
		return 0, fmt.Errorf("media: crypto tag %d: %w", a.Tag, err)
	}
	p, _ := a.Suite.profile() // Validate checked the suite

	return p, nil
}

func mkiOptions(a CryptoAttr) []srtp.ContextOption {
	opts := make([]srtp.ContextOption, 0, 2)
	if a.MKILen > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(a.MKI))
	}

	return opts
}

// flagDetector wraps pion's sliding-window replay detector and records a rejection, so
// that a replay can be told apart from an authentication failure (pion's duplicate error
// type is unexported).
type flagDetector struct {
	inner replaydetector.ReplayDetector
	ca    replaydetector.CheckAccepter
	hit   *bool
}

// checkOnlyDetector is flagDetector for a detector without the two-phase interface.
type checkOnlyDetector struct {
	inner replaydetector.ReplayDetector
	hit   *bool
}

func newFlagDetector(inner replaydetector.ReplayDetector, hit *bool) replaydetector.ReplayDetector {
	if ca, ok := inner.(replaydetector.CheckAccepter); ok {
		return &flagDetector{inner: inner, ca: ca, hit: hit}
	}

	return &checkOnlyDetector{inner: inner, hit: hit}
}

func (f *flagDetector) Check(seq uint64) (func() bool, bool) {
	accept, ok := f.inner.Check(seq)
	if !ok {
		*f.hit = true
	}

	return accept, ok
}

func (f *flagDetector) CheckSeq(seq uint64) replaydetector.Token {
	tok := f.ca.CheckSeq(seq)
	if !tok.Passed() {
		*f.hit = true
	}

	return tok
}

func (f *flagDetector) Accept(tok replaydetector.Token) bool { return f.ca.Accept(tok) }

func (f *checkOnlyDetector) Check(seq uint64) (func() bool, bool) {
	accept, ok := f.inner.Check(seq)
	if !ok {
		*f.hit = true
	}

	return accept, ok
}
