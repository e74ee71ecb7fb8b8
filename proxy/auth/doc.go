// Package auth is the edge's local SIP digest authentication server (RFC 3261 §22, RFC 8760 for SHA-256,
// ideas from RFC 7616). It is pure: it never touches sockets or files. The SIP proxy uses it for
// `auth.mode: local` and the standalone registrar uses it for REGISTER.
//
// # Flow
//
// A request without credentials gets a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) carrying every value
// of [Server.Challenge]: a SHA-256 challenge first, then an MD5 one (RFC 8760 §2.4), both qop="auth", sharing one
// nonce. A request with credentials is checked with [Server.Verify], passing the header value, the method and the
// Request-URI exactly as they appear on the request line.
//
// # Decisions
//
//   - qop=auth is required. RFC 2069-style credentials without qop (no cnonce/nc, no replay protection) are
//     rejected with [ErrMalformed]; qop=auth-int and the -sess algorithms are not offered and not accepted.
//   - algorithm may be MD5, SHA-256, or absent (meaning MD5). Names are matched case-insensitively.
//   - The username parameter is looked up as-is (case-sensitive). A name with a domain ("alice@example.com") is
//     not stripped to "alice": it is simply an unknown user. userhash=true is rejected.
//   - The uri parameter must name the same URI as the request line (exact match, or equal after comparing
//     scheme and host case-insensitively and URI parameters as an unordered set), else [ErrMalformed] (RFC 7616
//     §3.4.6 says 400). The response is always computed over the uri parameter as sent.
//   - Nonces are stateless: base64url(timestamp | random | HMAC-SHA256(secret, realm, timestamp, random)).
//     A nonce whose MAC does not verify (forged, or from a previous process with another secret) is
//     [ErrBadCredentials]. Configure a fixed Secret so that restarts do not invalidate outstanding nonces.
//   - An expired nonce with a correct response gives [ErrStaleNonce] (answer with [Server.ChallengeStale]);
//     with a wrong response it gives [ErrBadCredentials].
//   - Replay: per nonce the highest nc accepted is kept; nc <= that is [ErrReplay]. nc is recorded only after
//     the response has verified, so nobody without the password can burn a nonce. The table is bounded
//     (Config.MaxNonces): when full, the oldest entry goes, and if it had not yet expired its timestamp becomes
//     a floor below which untracked nonces are treated as stale, so eviction never re-opens a replay.
//   - Unknown users cost the same as known ones: a response is computed against a dummy HA1 and the error is
//     the same [ErrBadCredentials] as for a wrong password. Only [Error.Reason] (for logs) differs.
//
// # Mapping errors to responses
//
// Use errors.Is on the sentinels, never the error text: [Error.Error] includes the internal reason (for logs
// only; it tells whether a user exists). Suggested mapping: ErrNoCredentials, ErrRealm, ErrReplay and
// ErrBadCredentials -> a fresh challenge (401/407; rate-limit and log failures); ErrStaleNonce -> a challenge
// from ChallengeStale; ErrMalformed -> 400 Bad Request.
//
// After success the caller still decides authorisation, e.g. that the To user of a REGISTER or the From user of
// an INVITE is Result.User.Name.
package auth
