package media

import (
	"bytes"
	"testing"
)

const benchPayload = 160 // 20 ms of G.711

func BenchmarkEncryptRTP(b *testing.B) {
	for _, s := range SupportedSuites() {
		b.Run(string(s), func(b *testing.B) {
			e, _ := pair(b, mustAttr(b, 1, s))
			plain := rtpPacket(b, 0, 0, 0x11223344, bytes.Repeat([]byte{0xd5}, benchPayload))
			dst := make([]byte, 0, 1500)
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				plain[2], plain[3] = byte(i>>8), byte(i) // next sequence number
				out, err := e.EncryptRTP(dst[:0], plain)
				if err != nil {
					b.Fatal(err)
				}
				dst = out
			}
		})
	}
}

func BenchmarkDecryptRTP(b *testing.B) {
	const batch = 4096
	for _, s := range SupportedSuites() {
		b.Run(string(s), func(b *testing.B) {
			e, d := pair(b, mustAttr(b, 1, s))
			plain := rtpPacket(b, 0, 0, 0x11223344, bytes.Repeat([]byte{0xd5}, benchPayload))
			// Every packet must be new to the replay window, so packets are encrypted in
			// batches outside the timer.
			pkts := make([][]byte, batch)
			for i := range pkts {
				pkts[i] = make([]byte, 0, 1500)
			}
			dst := make([]byte, 0, 1500)
			seq := 0
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				b.StopTimer()
				n := min(batch, b.N-done)
				for i := 0; i < n; i++ {
					plain[2], plain[3] = byte(seq>>8), byte(seq)
					seq++
					var err error
					if pkts[i], err = e.EncryptRTP(pkts[i][:0], plain); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				for i := 0; i < n; i++ {
					out, err := d.DecryptRTP(dst[:0], pkts[i])
					if err != nil {
						b.Fatal(err)
					}
					dst = out
				}
				done += n
			}
		})
	}
}

func BenchmarkEncryptRTCP(b *testing.B) {
	sr := unhex(b, `80c80006 decafbad 83ab03a1 eb020c41 a7a9b5e8 00000064 00003e80`)
	for _, s := range SupportedSuites() {
		b.Run(string(s), func(b *testing.B) {
			e, _ := pair(b, mustAttr(b, 1, s))
			dst := make([]byte, 0, 1500)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				out, err := e.EncryptRTCP(dst[:0], sr)
				if err != nil {
					b.Fatal(err)
				}
				dst = out
			}
		})
	}
}

// BenchmarkDecryptRTPReject measures the cost of dropping a forged packet (the flood
// case), for an SSRC the Decryptor already authenticated and for an unknown one (pion
// builds, and throws away, per-SSRC replay state for each such packet).
func BenchmarkDecryptRTPReject(b *testing.B) {
	for _, known := range []bool{true, false} {
		name := "unknown-ssrc"
		if known {
			name = "known-ssrc"
		}
		for _, s := range SupportedSuites() {
			b.Run(name+"/"+string(s), func(b *testing.B) {
				e, d := pair(b, mustAttr(b, 1, s))
				plain := rtpPacket(b, 0, 0, 0x11223344, bytes.Repeat([]byte{0xd5}, benchPayload))
				enc, _ := e.EncryptRTP(nil, plain)
				if known {
					if _, err := d.DecryptRTP(nil, enc); err != nil {
						b.Fatal(err)
					}
				}
				enc[len(enc)-1] ^= 1
				dst := make([]byte, 0, 1500)
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					seq := 1 + i%60000
					enc[2], enc[3] = byte(seq>>8), byte(seq)
					if _, err := d.DecryptRTP(dst[:0], enc); err == nil {
						b.Fatal("forged packet accepted")
					}
				}
			})
		}
	}
}
