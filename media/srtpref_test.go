package media

// An independent, deliberately plain implementation of RFC 3711 AES-CM/HMAC-SHA1 built
// only on the standard library, used to check the pion-based Encryptor bit for bit.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}

	return b
}

// refKDF is the RFC 3711 §4.3 AES-CM key derivation with key_derivation_rate 0.
func refKDF(t testing.TB, masterKey, masterSalt []byte, label byte, n int) []byte {
	t.Helper()
	iv := make([]byte, 16)
	copy(iv, masterSalt) // 14-byte salt, then two zero bytes (x * 2^16)
	iv[7] ^= label       // key_id = label || r(48 bits), right-aligned under the salt
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, n)
	cipher.NewCTR(block, iv).XORKeyStream(out, out)

	return out
}

type refSessionKeys struct{ encKey, salt, authKey []byte }

func refKeys(t testing.TB, masterKey, masterSalt []byte, rtcp bool) refSessionKeys {
	var base byte
	if rtcp {
		base = 3
	}

	return refSessionKeys{
		encKey:  refKDF(t, masterKey, masterSalt, base+0, 16),
		authKey: refKDF(t, masterKey, masterSalt, base+1, 20),
		salt:    refKDF(t, masterKey, masterSalt, base+2, 14),
	}
}

// refCTR encrypts data in place with IV = salt*2^16 XOR ssrc*2^64 XOR index*2^16.
func refCTR(t testing.TB, k refSessionKeys, ssrc uint32, index uint64, data []byte) {
	iv := make([]byte, 16)
	copy(iv, k.salt)
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], ssrc)
	for i := range 4 {
		iv[4+i] ^= s[i]
	}
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], index<<16)
	for i := range 8 {
		iv[8+i] ^= idx[i]
	}
	block, err := aes.NewCipher(k.encKey)
	if err != nil {
		t.Fatal(err)
	}
	cipher.NewCTR(block, iv).XORKeyStream(data, data)
}

// refProtectRTP protects an RTP packet (no CSRC, no extension) with the given ROC.
func refProtectRTP(t testing.TB, k refSessionKeys, plain []byte, roc uint32, tagLen int) []byte {
	out := bytes.Clone(plain)
	seq := binary.BigEndian.Uint16(out[2:])
	ssrc := binary.BigEndian.Uint32(out[8:])
	refCTR(t, k, ssrc, uint64(roc)<<16|uint64(seq), out[12:])
	mac := hmac.New(sha1.New, k.authKey)
	mac.Write(out)
	binary.Write(mac, binary.BigEndian, roc)

	return append(out, mac.Sum(nil)[:tagLen]...)
}

// refProtectRTCP protects an RTCP packet with SRTCP index idx (E flag set).
func refProtectRTCP(t testing.TB, k refSessionKeys, plain []byte, idx uint32) []byte {
	out := bytes.Clone(plain)
	ssrc := binary.BigEndian.Uint32(out[4:])
	refCTR(t, k, ssrc, uint64(idx), out[8:])
	out = binary.BigEndian.AppendUint32(out, idx|1<<31)
	mac := hmac.New(sha1.New, k.authKey)
	mac.Write(out)

	return append(out, mac.Sum(nil)[:10]...)
}

// TestRFC3711KeyDerivation checks the reference KDF against RFC 3711 appendix B.3.
func TestRFC3711KeyDerivation(t *testing.T) {
	mk := unhex(t, "E1F97A0D3E018BE0D64FA32C06DE4139")
	ms := unhex(t, "0EC675AD498AFEEBB6960B3AABE6")
	k := refKeys(t, mk, ms, false)
	if want := unhex(t, "C61E7A93744F39EE10734AFE3FF7A087"); !bytes.Equal(k.encKey, want) {
		t.Errorf("cipher key %X, want %X", k.encKey, want)
	}
	if want := unhex(t, "30CBBC08863D8C85D49DB34A9AE1"); !bytes.Equal(k.salt, want) {
		t.Errorf("cipher salt %X, want %X", k.salt, want)
	}
	if want := unhex(t, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"); !bytes.Equal(k.authKey, want) {
		t.Errorf("auth key %X, want %X", k.authKey, want)
	}
}

// TestEncryptorMatchesReference runs the Encryptor against the reference over a sequence
// number wrap (ROC 0 -> 1) for both AES_CM suites, RTP and RTCP.
func TestEncryptorMatchesReference(t *testing.T) {
	for _, s := range []Suite{SuiteAES80, SuiteAES32} {
		t.Run(string(s), func(t *testing.T) {
			a := mustAttr(t, 1, s)
			e, err := NewEncryptor(a)
			if err != nil {
				t.Fatal(err)
			}
			krtp := refKeys(t, a.Key, a.Salt, false)
			krtcp := refKeys(t, a.Key, a.Salt, true)
			payload := bytes.Repeat([]byte{0x5a, 0xa5, 0x01}, 53)
			var roc uint32
			for i := range 20 {
				seq := uint16(65530 + i)
				if seq < 65530 {
					roc = 1
				}
				plain := rtpPacket(t, seq, uint32(i*160), 0x0badcafe, payload)
				got, err := e.EncryptRTP(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				if want := refProtectRTP(t, krtp, plain, roc, s.RTPOverhead()); !bytes.Equal(got, want) {
					t.Fatalf("seq %d roc %d:\n got %x\nwant %x", seq, roc, got, want)
				}
			}
			rr := unhex(t, "81c90007 0badcafe 11111111 00000000 00000000 00000000 00000000 00000000")
			for idx := uint32(1); idx <= 3; idx++ {
				got, err := e.EncryptRTCP(nil, rr)
				if err != nil {
					t.Fatal(err)
				}
				if want := refProtectRTCP(t, krtcp, rr, idx); !bytes.Equal(got, want) {
					t.Fatalf("SRTCP index %d:\n got %x\nwant %x", idx, got, want)
				}
			}
		})
	}
}
