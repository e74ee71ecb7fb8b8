// Package tlsutil loads or creates the edge's TLS certificate and formats certificate fingerprints.
package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SelfSignedCert and SelfSignedKey are the file names of the generated certificate inside the data dir.
const (
	SelfSignedCert = "edge-cert.pem"
	SelfSignedKey  = "edge-key.pem"
)

// LoadOrCreate loads the certificate in certFile/keyFile, or, when both are empty, the self-signed ECDSA
// certificate in dataDir, generating it on first use. created reports whether it was generated now.
func LoadOrCreate(certFile, keyFile, dataDir string) (cert tls.Certificate, created bool, err error) {
	if certFile != "" || keyFile != "" {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, false, fmt.Errorf("tls.cert_file/tls.key_file: %w", err)
		}
		return cert, false, nil
	}
	certFile = filepath.Join(dataDir, SelfSignedCert)
	keyFile = filepath.Join(dataDir, SelfSignedKey)
	if _, err := os.Stat(certFile); err == nil {
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, false, fmt.Errorf("generated certificate in %s is unreadable (delete both files to regenerate): %w", dataDir, err)
		}
		return cert, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return cert, false, err
	}
	certPEM, keyPEM, err := GenerateSelfSigned(hostNames(), 10*365*24*time.Hour)
	if err != nil {
		return cert, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return cert, false, err
	}
	if err := writeAtomic(keyFile, keyPEM, 0o600); err != nil {
		return cert, false, err
	}
	if err := writeAtomic(certFile, certPEM, 0o644); err != nil {
		return cert, false, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	return cert, true, err
}

func hostNames() []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	return names
}

// GenerateSelfSigned returns a PEM certificate and PKCS#8 key (ECDSA P-256) valid for the given names
// (DNS names or IP literals).
func GenerateSelfSigned(names []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sipedge", Organization: []string{"sipedge self-signed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Fingerprint returns the SHA-256 fingerprint of a DER certificate as "SHA256:AB:CD:...".
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return "SHA256:" + strings.Join(parts, ":")
}

// MinVersion maps "1.2"/"1.3" to the crypto/tls constant.
func MinVersion(s string) (uint16, error) {
	switch s {
	case "1.2", "":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("tls.min_version: %q is not 1.2 or 1.3", s)
}
