package softphone

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParseFingerprint parses a SHA-256 certificate fingerprint in colon-hex form
// ("SHA256:AB:CD:...", as the edge prints it), plain hex, or base64
// ("SHA256:q83v..."), with or without the "SHA256:" prefix.
func ParseFingerprint(s string) ([]byte, error) {
	v := strings.TrimSpace(s)
	if i := strings.Index(v, ":"); i > 0 && strings.EqualFold(strings.ReplaceAll(v[:i], "-", ""), "sha256") {
		v = v[i+1:]
	}
	if v == "" {
		return nil, fmt.Errorf("fingerprint %q is empty", s)
	}
	hexForm := strings.ReplaceAll(v, ":", "")
	if len(hexForm) == 64 {
		if b, err := hex.DecodeString(hexForm); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.StdEncoding, base64.RawURLEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == sha256.Size {
			return b, nil
		}
	}
	return nil, fmt.Errorf("fingerprint %q is not a SHA-256 fingerprint (expected SHA256:AB:CD:... with 32 hex bytes, or SHA256:<base64>)", s)
}

// FormatFingerprint returns the SHA-256 fingerprint of a DER certificate as "SHA256:AB:CD:...".
func FormatFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return FormatFingerprintSum(sum[:])
}

// TLSConfig builds the client TLS configuration for an account. Verification
// is on by default (system roots, or only the CA file when one is set); a
// pinned fingerprint replaces chain verification with an exact match; Insecure
// turns verification off. serverName is the edge host name or IP.
func TLSConfig(a Account, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
		// Verification is done in VerifyConnection so refusals carry the
		// presented fingerprint and a clear explanation.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection unless Insecure
	}
	if a.Insecure {
		return cfg, nil
	}
	if a.Fingerprint != "" {
		pin, err := ParseFingerprint(a.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("%w: fingerprint: %v", ErrConfig, err)
		}
		want := FormatFingerprintSum(pin)
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &TLSError{Kind: ErrFingerprintMismatch, Presented: "no certificate", Expected: want}
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(sum[:], pin) {
				return &TLSError{Kind: ErrFingerprintMismatch, Presented: FormatFingerprint(cs.PeerCertificates[0].Raw), Expected: want}
			}
			return nil
		}
		return cfg, nil
	}
	var roots *x509.CertPool
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca_file: %v", ErrConfig, err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca_file: %s holds no PEM certificate", ErrConfig, a.CAFile)
		}
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &TLSError{Kind: ErrUntrustedCertificate, Presented: "no certificate", Cause: errors.New("no certificate presented")}
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: serverName})
		if err != nil {
			return &TLSError{Kind: ErrUntrustedCertificate, Presented: FormatFingerprint(leaf.Raw), Cause: err}
		}
		return nil
	}
	return cfg, nil
}

// FormatFingerprintSum formats a raw 32-byte SHA-256 sum as "SHA256:AB:CD:...".
func FormatFingerprintSum(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return "SHA256:" + strings.Join(parts, ":")
}
