package policy

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"
)

// GeoDB maps a source IP address to its ISO 3166 country code. ok is false when the address has no
// country (private, loopback, unknown).
type GeoDB interface {
	Country(ip netip.Addr) (code string, ok bool)
}

// MaxMind is a GeoDB backed by a MaxMind country (or city) database file.
type MaxMind struct {
	r *geoip2.Reader
}

// OpenMaxMind opens a GeoIP2/GeoLite2 Country or City database (.mmdb).
func OpenMaxMind(path string) (*MaxMind, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrGeoDB, path, err)
	}
	m := &MaxMind{r: r}
	if _, err := r.Country(netip.MustParseAddr("1.1.1.1")); err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: %s has no country data: %v", ErrGeoDB, path, err)
	}
	return m, nil
}

// Country implements GeoDB. Loopback, private, link-local and unspecified addresses have no country.
func (m *MaxMind) Country(ip netip.Addr) (string, bool) {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
		return "", false
	}
	rec, err := m.r.Country(ip)
	if err != nil || rec == nil || rec.Country.ISOCode == "" {
		return "", false
	}
	return rec.Country.ISOCode, true
}

// Close closes the database file.
func (m *MaxMind) Close() error { return m.r.Close() }

// country looks ip up in the current database.
func (p *Policy) country(ip netip.Addr) (string, bool) {
	db := p.geo.Load().db
	if db == nil {
		return "", false
	}
	return db.Country(ip)
}

// countryOf is the country for events ("" when unknown).
func (p *Policy) countryOf(ip netip.Addr) string {
	c, _ := p.country(ip)
	return c
}

// Country returns the country of ip for security events ("" when unknown or without a database).
func (p *Policy) Country(ip netip.Addr) string { return p.countryOf(ip.Unmap()) }
