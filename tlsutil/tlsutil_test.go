package tlsutil

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelfSignedCreatedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c1, created, err := LoadOrCreate("", "", dir)
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	c2, created, err := LoadOrCreate("", "", dir)
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	f1, f2 := Fingerprint(c1.Certificate[0]), Fingerprint(c2.Certificate[0])
	if f1 != f2 {
		t.Fatalf("fingerprint changed: %s vs %s", f1, f2)
	}
	if !strings.HasPrefix(f1, "SHA256:") || len(f1) != len("SHA256:")+32*3-1 {
		t.Fatalf("bad fingerprint %q", f1)
	}
	if fi, _ := os.Stat(filepath.Join(dir, SelfSignedKey)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode())
	}
	// The certificate works for a TLS handshake on loopback, verified by its own pool.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c1}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	got := Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
	conn.Close()
	if got != f1 {
		t.Fatalf("peer fingerprint %s != %s", got, f1)
	}
}

func TestExplicitFilesErrors(t *testing.T) {
	if _, _, err := LoadOrCreate("/nonexistent/cert.pem", "/nonexistent/key.pem", t.TempDir()); err == nil ||
		!strings.Contains(err.Error(), "tls.cert_file") {
		t.Fatalf("err = %v", err)
	}
	if _, err := MinVersion("1.1"); err == nil {
		t.Fatal("1.1 accepted")
	}
}
