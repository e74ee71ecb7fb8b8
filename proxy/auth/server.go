package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/sipedge/sipedge/userdb"
)

// Server issues digest challenges and verifies credentials against a user lookup. It is safe for
// concurrent use.
type Server struct {
	realm    string
	ttl      time.Duration
	lookup   func(string) (userdb.User, bool)
	now      func() time.Time
	nonces   *nonceCodec
	ncs      *ncTable
	opaque   string
	dummyMD5 string
	dummySHA string
}

// Result describes verified credentials.
type Result struct {
	// User is the authenticated user record.
	User userdb.User
	// Stale is true (together with ErrStaleNonce) when the response was right but the nonce had expired.
	Stale bool
	// Algorithm is "MD5" or "SHA-256".
	Algorithm string
}

// New returns a Server for cfg with defaults applied to zero fields. It panics if cfg.Validate fails: call
// Validate first when cfg comes from user input.
func New(cfg Config) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.NonceTTL == 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.MaxNonces == 0 {
		cfg.MaxNonces = DefaultMaxNonces
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Secret == nil {
		cfg.Secret = make([]byte, 32)
		_, _ = rand.Read(cfg.Secret)
	}
	s := &Server{
		realm:  cfg.Realm,
		ttl:    cfg.NonceTTL,
		lookup: cfg.Lookup,
		now:    cfg.Now,
		nonces: newNonceCodec(cfg.Secret, cfg.Realm),
		ncs:    newNCTable(cfg.MaxNonces),
	}
	// opaque is constant per secret: it lets us notice credentials built for another server instance.
	var m [nonceMACLen]byte
	s.nonces.mac(&m, []byte("opaque"))
	s.opaque = hex.EncodeToString(m[:8])
	var d [32]byte
	_, _ = rand.Read(d[:])
	s.dummyMD5 = hex.EncodeToString(d[:16])
	s.dummySHA = hex.EncodeToString(d[:])
	return s
}

// Realm returns the configured realm.
func (s *Server) Realm() string { return s.realm }

// Challenge returns the WWW-Authenticate (401) or Proxy-Authenticate (407) values to send, one header each:
// a SHA-256 challenge and then an MD5 challenge sharing a fresh nonce. method is accepted for symmetry with
// Verify; the challenges do not depend on it.
func (s *Server) Challenge(method string) []string { return s.challenge(false) }

// ChallengeStale is Challenge with stale=true, for answering ErrStaleNonce so that the client retries with
// the new nonce without asking its user for the password again.
func (s *Server) ChallengeStale(method string) []string { return s.challenge(true) }

func (s *Server) challenge(stale bool) []string {
	nonce := s.nonces.make(s.now().UnixNano())
	tail := `, nonce="` + nonce + `", opaque="` + s.opaque + `"`
	if stale {
		tail += ", stale=true"
	}
	head := "Digest realm=" + quote(s.realm) + `, qop="auth", algorithm=`
	return []string{head + "SHA-256" + tail, head + "MD5" + tail}
}

type algo uint8

const (
	algMD5 algo = iota
	algSHA256
)

func (a algo) String() string {
	if a == algSHA256 {
		return "SHA-256"
	}
	return "MD5"
}

func (a algo) hexLen() int {
	if a == algSHA256 {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

const required = pUsername | pRealm | pNonce | pURI | pResponse | pCnonce | pNC

// Verify checks one Authorization or Proxy-Authorization value. method and requestURI are the method and
// Request-URI of the request line, as received. Errors are [*Error] values wrapping one of the sentinels;
// on ErrStaleNonce the Result has Stale set and names the user.
func (s *Server) Verify(method, value, requestURI string) (Result, error) {
	if strings.TrimSpace(value) == "" {
		return Result{}, fail(ErrNoCredentials, "no credentials", "")
	}
	if len(value) > MaxHeaderLen {
		return Result{}, fail(ErrMalformed, "credentials too long", "")
	}
	c, err := parseCredentials(value)
	if err != nil {
		return Result{}, fail(ErrMalformed, err.Error(), "")
	}
	name := logName(c.username)
	if c.seen&pQop == 0 {
		return Result{}, fail(ErrMalformed, "qop missing (RFC 2069 digest not accepted)", name)
	}
	if c.seen&required != required {
		return Result{}, fail(ErrMalformed, "missing parameter", name)
	}
	if !strings.EqualFold(c.qop, "auth") {
		return Result{}, fail(ErrMalformed, "unsupported qop", name)
	}
	var alg algo
	switch {
	case c.seen&pAlgorithm == 0, strings.EqualFold(c.algorithm, "MD5"):
		alg = algMD5
	case strings.EqualFold(c.algorithm, "SHA-256"):
		alg = algSHA256
	default:
		return Result{}, fail(ErrMalformed, "unsupported algorithm", name)
	}
	if strings.EqualFold(c.userhash, "true") {
		return Result{}, fail(ErrMalformed, "userhash not supported", name)
	}
	if len(c.response) != alg.hexLen() {
		return Result{}, fail(ErrMalformed, "bad response length", name)
	}
	nc, err := strconv.ParseUint(c.nc, 16, 32)
	if err != nil || nc == 0 || len(c.nc) > 8 {
		return Result{}, fail(ErrMalformed, "bad nc", name)
	}
	if c.cnonce == "" {
		return Result{}, fail(ErrMalformed, "empty cnonce", name)
	}
	if c.realm != s.realm {
		return Result{}, fail(ErrRealm, "realm mismatch", name)
	}
	if !sameURI(c.uri, requestURI) {
		return Result{}, fail(ErrMalformed, "uri does not match Request-URI", name)
	}
	if c.seen&pOpaque != 0 && c.opaque != s.opaque {
		return Result{}, fail(ErrBadCredentials, "opaque mismatch", name)
	}
	ts, ok := s.nonces.open(c.nonce)
	if !ok {
		return Result{}, fail(ErrBadCredentials, "nonce not issued by us", name)
	}
	now := s.now().UnixNano()
	ttl := int64(s.ttl)
	expired := now-ts > ttl || ts-now > ttl

	// From here on, known and unknown users do the same work.
	user, found := s.lookup(c.username)
	ha1, reason := s.pickHA1(user, found, alg)
	var want [2 * sha256.Size]byte
	var got [2 * sha256.Size]byte
	n := alg.hexLen()
	computeResponse(want[:n], alg, ha1, c.nonce, c.nc, c.cnonce, c.qop, method, c.uri)
	for i := 0; i < n; i++ {
		b := c.response[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		got[i] = b
	}
	match := subtle.ConstantTimeCompare(want[:n], got[:n]) == 1
	if reason != "" || !match {
		if reason == "" {
			reason = "wrong password"
		}
		return Result{}, fail(ErrBadCredentials, reason, name)
	}
	res := Result{User: user, Algorithm: alg.String()}
	if expired {
		res.Stale = true
		return res, fail(ErrStaleNonce, "nonce expired", name)
	}
	switch s.ncs.use(c.nonce, ts, ts+ttl, now, uint32(nc)) {
	case ncReplay:
		return Result{}, fail(ErrReplay, "nc not increasing", name)
	case ncStale:
		res.Stale = true
		return res, fail(ErrStaleNonce, "nonce evicted from nc table", name)
	}
	return res, nil
}

// pickHA1 returns the HA1 to use and, when the user cannot authenticate, a dummy HA1 and the reason.
func (s *Server) pickHA1(u userdb.User, found bool, alg algo) (string, string) {
	dummy := s.dummyMD5
	ha1 := u.HA1MD5
	if alg == algSHA256 {
		dummy, ha1 = s.dummySHA, u.HA1SHA256
	}
	switch {
	case !found:
		return dummy, "unknown user"
	case u.Realm != s.realm:
		return dummy, "user belongs to realm " + strconv.Quote(u.Realm)
	case len(ha1) != alg.hexLen():
		return dummy, "user has no " + alg.String() + " HA1"
	}
	return strings.ToLower(ha1), ""
}

// computeResponse writes the RFC 2617/7616 qop=auth response
// H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)) as lowercase hex into dst.
func computeResponse(dst []byte, alg algo, ha1, nonce, nc, cnonce, qop, method, uri string) {
	buf := make([]byte, 0, 512) // on the stack unless a client sends huge values
	buf = append(append(append(buf, method...), ':'), uri...)
	var ha2 [2 * sha256.Size]byte
	n := alg.sumHex(ha2[:], buf)
	buf = buf[:0]
	for _, p := range [...]string{ha1, nonce, nc, cnonce, qop} {
		buf = append(append(buf, p...), ':')
	}
	buf = append(buf, ha2[:n]...)
	alg.sumHex(dst, buf)
}

// sumHex writes the lowercase hex digest of b into dst and returns its length.
func (a algo) sumHex(dst, b []byte) int {
	if a == algSHA256 {
		sum := sha256.Sum256(b)
		return hex.Encode(dst, sum[:])
	}
	sum := md5.Sum(b)
	return hex.Encode(dst, sum[:])
}

// logName bounds the attacker-controlled username kept in errors.
func logName(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}
