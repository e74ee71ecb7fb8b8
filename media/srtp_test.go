package media

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/pion/rtp"
)

func rtpPacket(t testing.TB, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc},
		Payload: payload,
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}

	return b
}

func pair(t testing.TB, a CryptoAttr, opts ...Option) (*Encryptor, *Decryptor) {
	t.Helper()
	e, err := NewEncryptor(a)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecryptor(a, opts...)
	if err != nil {
		t.Fatal(err)
	}

	return e, d
}

func TestSRTPRoundTripAllSuites(t *testing.T) {
	for _, s := range SupportedSuites() {
		t.Run(string(s), func(t *testing.T) {
			e, d := pair(t, mustAttr(t, 1, s))
			payload := bytes.Repeat([]byte{0xd5}, 160)
			enc := make([]byte, 0, 1500)
			dec := make([]byte, 0, 1500)
			for i := range 200 { // crosses the sequence wrap
				seq := uint16(65500 + i)
				plain := rtpPacket(t, seq, uint32(i)*160, 0xdecafbad, payload)
				var err error
				enc, err = e.EncryptRTP(enc[:0], plain)
				if err != nil {
					t.Fatal(err)
				}
				if len(enc) != len(plain)+e.RTPOverhead() {
					t.Fatalf("SRTP length %d, want %d", len(enc), len(plain)+e.RTPOverhead())
				}
				if bytes.Contains(enc, payload[:32]) {
					t.Fatal("payload not encrypted")
				}
				dec, err = d.DecryptRTP(dec[:0], enc)
				if err != nil {
					t.Fatalf("seq %d: %v", seq, err)
				}
				if !bytes.Equal(dec, plain) {
					t.Fatalf("seq %d: plaintext differs", seq)
				}
			}
		})
	}
}

func TestSRTPRejects(t *testing.T) {
	for _, s := range SupportedSuites() {
		t.Run(string(s), func(t *testing.T) {
			a := mustAttr(t, 1, s)
			e, d := pair(t, a)
			plain := rtpPacket(t, 100, 16000, 42, bytes.Repeat([]byte{1}, 160))
			enc, err := e.EncryptRTP(nil, plain)
			if err != nil {
				t.Fatal(err)
			}

			for name, pos := range map[string]int{"tag": len(enc) - 1, "payload": 20, "header": 1} {
				bad := bytes.Clone(enc)
				bad[pos] ^= 0x01
				if _, err := d.DecryptRTP(nil, bad); !errors.Is(err, ErrAuth) {
					t.Errorf("tampered %s: err = %v, want ErrAuth", name, err)
				}
			}
			truncated := enc[:len(enc)-1]
			if _, err := d.DecryptRTP(nil, truncated); !errors.Is(err, ErrAuth) && !errors.Is(err, ErrMalformedPacket) {
				t.Errorf("truncated: %v", err)
			}

			// Failed packets must not poison the replay window: the genuine one still passes.
			if _, err := d.DecryptRTP(nil, enc); err != nil {
				t.Fatalf("genuine after forgeries: %v", err)
			}
			if _, err := d.DecryptRTP(nil, enc); !errors.Is(err, ErrReplay) {
				t.Errorf("replay: err = %v, want ErrReplay", err)
			}

			// A packet too old for the window is a replay too.
			old, _ := e.EncryptRTP(nil, rtpPacket(t, 101, 0, 42, []byte{1}))
			for i := range DefaultReplayWindow + 1 {
				p, _ := e.EncryptRTP(nil, rtpPacket(t, uint16(102+i), 0, 42, []byte{1}))
				if _, err := d.DecryptRTP(nil, p); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.DecryptRTP(nil, old); !errors.Is(err, ErrReplay) {
				t.Errorf("behind window: err = %v, want ErrReplay", err)
			}

			// Wrong key.
			other := mustAttr(t, 1, s)
			_, wrong := pair(t, other)
			if _, err := wrong.DecryptRTP(nil, enc); !errors.Is(err, ErrAuth) {
				t.Errorf("wrong key: err = %v, want ErrAuth", err)
			}

			// Garbage.
			for _, g := range [][]byte{nil, {0x80}, make([]byte, 11), append([]byte{0x00}, enc[1:]...)} {
				if _, err := d.DecryptRTP(nil, g); !errors.Is(err, ErrMalformedPacket) {
					t.Errorf("garbage %x: err = %v, want ErrMalformedPacket", g, err)
				}
				if _, err := e.EncryptRTP(nil, g); !errors.Is(err, ErrMalformedPacket) {
					t.Errorf("encrypt garbage %x: err = %v", g, err)
				}
			}
		})
	}
}

func TestSRTPReorderedWithinWindow(t *testing.T) {
	e, d := pair(t, mustAttr(t, 1, SuiteAES80))
	var pkts [][]byte
	for i := range 10 {
		p, _ := e.EncryptRTP(nil, rtpPacket(t, uint16(i), 0, 7, []byte{byte(i)}))
		pkts = append(pkts, p)
	}
	for _, i := range []int{0, 2, 1, 5, 3, 4, 9, 6, 8, 7} {
		if _, err := d.DecryptRTP(nil, pkts[i]); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
}

func TestSRTCPRoundTrip(t *testing.T) {
	sr := unhex(t, `80c80006 decafbad 83ab03a1 eb020c41 a7a9b5e8 00000064 00003e80`)
	for _, s := range SupportedSuites() {
		t.Run(string(s), func(t *testing.T) {
			e, d := pair(t, mustAttr(t, 1, s))
			var last []byte
			for range 5 {
				enc, err := e.EncryptRTCP(nil, sr)
				if err != nil {
					t.Fatal(err)
				}
				if len(enc) != len(sr)+e.RTCPOverhead() {
					t.Fatalf("SRTCP length %d, want %d", len(enc), len(sr)+e.RTCPOverhead())
				}
				if !IsRTCP(enc) {
					t.Fatal("SRTCP not classified as RTCP")
				}
				dec, err := d.DecryptRTCP(nil, enc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(dec, sr) {
					t.Fatalf("plaintext %x, want %x", dec, sr)
				}
				last = enc
			}
			if _, err := d.DecryptRTCP(nil, last); !errors.Is(err, ErrReplay) {
				t.Errorf("SRTCP replay: %v", err)
			}
			bad, _ := e.EncryptRTCP(nil, sr)
			bad[10] ^= 0x80
			if _, err := d.DecryptRTCP(nil, bad); !errors.Is(err, ErrAuth) {
				t.Errorf("SRTCP tamper: %v", err)
			}
			_, wrong := pair(t, mustAttr(t, 1, s))
			good, _ := e.EncryptRTCP(nil, sr)
			if _, err := wrong.DecryptRTCP(nil, good); !errors.Is(err, ErrAuth) {
				t.Errorf("SRTCP wrong key: %v", err)
			}
			if _, err := d.DecryptRTCP(nil, []byte{0x80, 0xc8}); !errors.Is(err, ErrMalformedPacket) {
				t.Errorf("short SRTCP: %v", err)
			}
		})
	}
}

func TestSRTPInPlace(t *testing.T) {
	for _, s := range SupportedSuites() {
		e, d := pair(t, mustAttr(t, 1, s))
		plain := rtpPacket(t, 9, 0, 1, bytes.Repeat([]byte{7}, 160))
		buf := make([]byte, len(plain), len(plain)+e.RTPOverhead())
		copy(buf, plain)
		enc, err := e.EncryptRTP(buf[:0], buf)
		if err != nil || &enc[0] != &buf[0] {
			t.Fatalf("%s: in-place encrypt: %v (same buffer %v)", s, err, err == nil && &enc[0] == &buf[0])
		}
		dec, err := d.DecryptRTP(enc[:0], enc)
		if err != nil || !bytes.Equal(dec, plain) || &dec[0] != &buf[0] {
			t.Fatalf("%s: in-place decrypt: %v", s, err)
		}
	}
}

func TestSRTPWithMKI(t *testing.T) {
	a, err := ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|258:4")
	if err != nil {
		t.Fatal(err)
	}
	e, d := pair(t, a)
	if e.RTPOverhead() != 14 || e.RTCPOverhead() != 18 {
		t.Fatalf("overhead %d/%d", e.RTPOverhead(), e.RTCPOverhead())
	}
	plain := rtpPacket(t, 1, 0, 5, []byte("hello"))
	enc, err := e.EncryptRTP(nil, plain)
	if err != nil {
		t.Fatal(err)
	}
	if mki := enc[len(plain) : len(plain)+4]; !bytes.Equal(mki, []byte{0, 0, 1, 2}) {
		t.Fatalf("MKI on the wire = %x", mki)
	}
	if out, err := d.DecryptRTP(nil, enc); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("MKI round trip: %v", err)
	}
	b := a
	b.MKI = []byte{0, 0, 1, 3}
	_, other := pair(t, b)
	if _, err := other.DecryptRTP(nil, enc); !errors.Is(err, ErrAuth) {
		t.Errorf("unknown MKI: %v", err)
	}
}

func TestReplayWindowOptions(t *testing.T) {
	a := mustAttr(t, 1, SuiteAES80)
	_, d := pair(t, a)
	if d.ReplayWindow() != DefaultReplayWindow {
		t.Errorf("default window %d", d.ReplayWindow())
	}
	_, d = pair(t, a, WithReplayWindow(1024))
	if d.ReplayWindow() != 1024 {
		t.Errorf("option window %d", d.ReplayWindow())
	}
	_, d = pair(t, a, WithReplayWindow(1))
	if d.ReplayWindow() != 64 {
		t.Errorf("clamped window %d", d.ReplayWindow())
	}
	a.Params = []string{"WSH=4096"}
	_, d = pair(t, a)
	if d.ReplayWindow() != 4096 {
		t.Errorf("WSH window %d", d.ReplayWindow())
	}
	a.Params = []string{"WSH=4000000000"}
	_, d = pair(t, a)
	if d.ReplayWindow() != MaxReplayWindow {
		t.Errorf("capped WSH window %d", d.ReplayWindow())
	}
}

// TestSRTPConcurrentUse runs RTP and RTCP on separate goroutines and two RTP writers at
// once; run with -race.
func TestSRTPConcurrentUse(t *testing.T) {
	e, d := pair(t, mustAttr(t, 1, SuiteGCM128))
	sr := unhex(t, `80c80006 decafbad 83ab03a1 eb020c41 a7a9b5e8 00000064 00003e80`)
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	for w := range 2 {
		wg.Go(func() {
			for i := range 500 {
				p, err := e.EncryptRTP(nil, rtpPacket(t, uint16(i), 0, uint32(w+1), []byte{1, 2, 3}))
				if err == nil {
					_, err = d.DecryptRTP(nil, p)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 500 {
			p, err := e.EncryptRTCP(nil, sr)
			if err == nil {
				_, err = d.DecryptRTCP(nil, p)
			}
			if err != nil {
				errc <- err
				return
			}
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// Known-answer vectors from libsrtp's srtp_driver (srtp_validate, srtp_validate_gcm); the
// AES_CM master key and salt are those of RFC 3711 appendix B.3. SSRC 0xcafebabe,
// sequence 0x1234, ROC 0, first SRTCP index 1.
func TestInteropLibsrtpVectors(t *testing.T) {
	rtpPlain := unhex(t, `800f1234 decafbad cafebabe abababab abababab abababab abababab`)
	rtcpPlain := unhex(t, `81c8000b cafebabe abababab abababab abababab abababab`)
	aesRTP := unhex(t, `800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc 99ea179b 8dbb`)
	aesRTCP := unhex(t, `81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd 54d6c123 0798`)
	tests := []struct {
		suite       Suite
		key, salt   string
		srtp, srtcp []byte
	}{
		{SuiteAES80, "e1f97a0d3e018be0d64fa32c06de4139", "0ec675ad498afeebb6960b3aabe6", aesRTP, aesRTCP},
		{SuiteAES32, "e1f97a0d3e018be0d64fa32c06de4139", "0ec675ad498afeebb6960b3aabe6", aesRTP[:32], aesRTCP},
		{SuiteGCM128, "000102030405060708090a0b0c0d0e0f", "a0a1a2a3a4a5a6a7a8a9aaab",
			unhex(t, `800f1234 decafbad cafebabe c5002ede 04cfdd2e b91159e0 880aa06e d2976826 f796b201 df3131a1 27e8a392`),
			unhex(t, `81c8000b cafebabe c98b8b5d f0392a55 852b6c21 ac8e7025 c52c6fbe a2b3b446 ea31123b a88ce61e 80000001`)},
	}
	for _, tt := range tests {
		t.Run(string(tt.suite), func(t *testing.T) {
			a := CryptoAttr{Tag: 1, Suite: tt.suite, Key: unhex(t, tt.key), Salt: unhex(t, tt.salt)}
			// Through the SDP text, as a peer would send it.
			a, err := ParseCrypto(a.String())
			if err != nil {
				t.Fatal(err)
			}
			e, d := pair(t, a)
			got, err := e.EncryptRTP(nil, rtpPlain)
			if err != nil || !bytes.Equal(got, tt.srtp) {
				t.Fatalf("SRTP:\n got %x (%v)\nwant %x", got, err, tt.srtp)
			}
			if out, err := d.DecryptRTP(nil, tt.srtp); err != nil || !bytes.Equal(out, rtpPlain) {
				t.Fatalf("SRTP decrypt: %x %v", out, err)
			}
			got, err = e.EncryptRTCP(nil, rtcpPlain)
			if err != nil || !bytes.Equal(got, tt.srtcp) {
				t.Fatalf("SRTCP:\n got %x (%v)\nwant %x", got, err, tt.srtcp)
			}
			if out, err := d.DecryptRTCP(nil, tt.srtcp); err != nil || !bytes.Equal(out, rtcpPlain) {
				t.Fatalf("SRTCP decrypt: %x %v", out, err)
			}
		})
	}
}

// FuzzDecrypt feeds arbitrary bytes to both decrypt paths: never a panic.
func FuzzDecrypt(f *testing.F) {
	a := CryptoAttr{Tag: 1, Suite: SuiteAES80,
		Key: unhex(f, "e1f97a0d3e018be0d64fa32c06de4139"), Salt: unhex(f, "0ec675ad498afeebb6960b3aabe6")}
	e, err := NewEncryptor(a)
	if err != nil {
		f.Fatal(err)
	}
	p, _ := e.EncryptRTP(nil, unhex(f, `800f1234 decafbad cafebabe abababab`))
	f.Add(p)
	p, _ = e.EncryptRTCP(nil, unhex(f, `81c8000b cafebabe abababab abababab`))
	f.Add(p)
	f.Add([]byte{0x90, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := NewDecryptor(a)
		if err != nil {
			t.Fatal(err)
		}
		// Success is only possible for the seeds (or a 2^-80 forgery); then the sizes add up.
		if out, err := d.DecryptRTP(nil, b); err == nil && len(out) != len(b)-SuiteAES80.RTPOverhead() {
			t.Fatalf("RTP: %d bytes from %d", len(out), len(b))
		}
		if out, err := d.DecryptRTCP(nil, b); err == nil && len(out) != len(b)-SuiteAES80.RTCPOverhead() {
			t.Fatalf("RTCP: %d bytes from %d", len(out), len(b))
		}
	})
}
