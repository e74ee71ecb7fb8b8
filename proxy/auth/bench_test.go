package auth

import (
	"fmt"
	"testing"
)

// BenchmarkVerify measures the full success path (parse, nonce MAC, lookup, response, nc table). Headers
// with increasing nc are prepared in batches outside the timer.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		b.Run(alg, func(b *testing.B) {
			s, _ := newTestServer(b, nil)
			c := fresh(b, s, alg)
			batch := make([]string, 4096)
			next, nc := len(batch), 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if next == len(batch) {
					b.StopTimer()
					for j := range batch {
						nc++
						c.nc = fmt.Sprintf("%08x", nc)
						batch[j] = c.header()
					}
					next = 0
					b.StartTimer()
				}
				if _, err := s.Verify("REGISTER", batch[next], testURI); err != nil {
					b.Fatal(err)
				}
				next++
			}
		})
	}
}

// BenchmarkVerifyUnknownUser is the failure path an attacker drives; it should cost about the same.
func BenchmarkVerifyUnknownUser(b *testing.B) {
	s, _ := newTestServer(b, nil)
	c := fresh(b, s, "SHA-256")
	c.user = "mallory"
	h := c.header()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify("REGISTER", h, testURI); err == nil {
			b.Fatal("authenticated")
		}
	}
}

func BenchmarkChallenge(b *testing.B) {
	s, _ := newTestServer(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Challenge("REGISTER")
	}
}
