package proxy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) client(t *testing.T, cn string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Mutual TLS: a client certificate from tls.client_ca_file identifies its user on the flow; a
// certificate from another CA is refused in the handshake.
func TestMutualTLSMapsCertificateToUser(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	ca := newCA(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEdge(t, func(c *config.Config) {
		c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")}
		c.TLS.ClientCAFile = caFile
	})
	dial := func(cert tls.Certificate) *rawClient {
		conn, err := tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		return rawFromConn(t, conn, false)
	}
	c := dial(ca.client(t, "alice"))
	// No REGISTER: the certificate already names the flow's user, so her INVITE goes to the PBX.
	c.Send(c.Request("INVITE", "sip:bob@pbx.test", "sip:alice@pbx.test", "sip:bob@pbx.test", "Content-Type: application/sdp\r\n", testSDP))
	if res := c.ReadFinal(3 * time.Second); res == nil || res.StatusCode != 407 {
		t.Fatalf("INVITE on alice's certificate flow: %v, want the PBX's 407", res)
	}
	c.Send(c.Request("INVITE", "sip:alice@pbx.test", "sip:bob@pbx.test", "sip:alice@pbx.test", "Content-Type: application/sdp\r\n", testSDP))
	if res := c.ReadFinal(3 * time.Second); res == nil || res.StatusCode != 403 {
		t.Fatalf("INVITE as bob on alice's certificate flow: %v, want 403", res)
	}
	if res := c.Register("bob", "pw-bob", "pbx.test"); res == nil || res.StatusCode != 403 {
		t.Fatalf("REGISTER bob on alice's certificate flow: %v, want 403", res)
	}
	// A certificate from another CA does not get through the handshake.
	other := newCA(t)
	conn, err := tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{other.client(t, "alice")}})
	if err == nil {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("a certificate from an unknown CA was accepted")
	}
}
