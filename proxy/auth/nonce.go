package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
)

// A nonce is base64url(ts[8] | rnd[8] | mac[16]) where ts is Unix nanoseconds (big-endian) and mac is
// HMAC-SHA256(secret, realm | 0x00 | ts | rnd) truncated to 128 bits.
const (
	nonceBodyLen = 16
	nonceMACLen  = 16
	nonceRawLen  = nonceBodyLen + nonceMACLen
)

var nonceEnc = base64.RawURLEncoding

// nonceLen is the length of an encoded nonce.
var nonceLen = nonceEnc.EncodedLen(nonceRawLen)

type nonceCodec struct {
	prefix []byte    // realm | 0x00
	pool   sync.Pool // of *macState
}

// macState is a reusable HMAC-SHA256 keyed with the secret plus scratch space, so that MACs do not allocate.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	in  [nonceBodyLen]byte
}

func newNonceCodec(secret []byte, realm string) *nonceCodec {
	key := append([]byte(nil), secret...)
	c := &nonceCodec{prefix: append([]byte(realm), 0)}
	c.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return c
}

// mac writes the truncated MAC of body (at most nonceBodyLen bytes) into dst.
func (c *nonceCodec) mac(dst *[nonceMACLen]byte, body []byte) {
	st := c.pool.Get().(*macState)
	n := copy(st.in[:], body)
	st.h.Reset()
	st.h.Write(c.prefix)
	st.h.Write(st.in[:n])
	st.h.Sum(st.sum[:0])
	copy(dst[:], st.sum[:nonceMACLen])
	c.pool.Put(st)
}

// make returns a fresh nonce stamped with ts (Unix nanoseconds).
func (c *nonceCodec) make(ts int64) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(ts))
	_, _ = rand.Read(raw[8:nonceBodyLen]) // never fails since Go 1.24
	var m [nonceMACLen]byte
	c.mac(&m, raw[:nonceBodyLen])
	copy(raw[nonceBodyLen:], m[:])
	return nonceEnc.EncodeToString(raw[:])
}

// open verifies nonce and returns its timestamp. ok is false for anything we did not issue.
func (c *nonceCodec) open(nonce string) (ts int64, ok bool) {
	if len(nonce) != nonceLen {
		return 0, false
	}
	var src [64]byte
	copy(src[:], nonce)
	var raw [nonceRawLen]byte
	n, err := nonceEnc.Decode(raw[:], src[:len(nonce)])
	if err != nil || n != nonceRawLen {
		return 0, false
	}
	var m [nonceMACLen]byte
	c.mac(&m, raw[:nonceBodyLen])
	if subtle.ConstantTimeCompare(m[:], raw[nonceBodyLen:]) != 1 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[0:8])), true
}
