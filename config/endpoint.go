package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is a parsed listener or target URL such as tls://0.0.0.0:5061.
type Endpoint struct {
	Transport string // "udp", "tcp", "tls" or "wss"
	Host      string // IP literal (listeners) or host name (targets)
	Port      int
}

// Addr returns HOST:PORT.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// String returns the URL form.
func (e Endpoint) String() string { return e.Transport + "://" + e.Addr() }

// ParseEndpoint parses TRANSPORT://HOST:PORT. allowed lists the accepted transports; listener requires
// HOST to be an IP literal (a bind address) and allows port 0 (an ephemeral port, useful in tests).
func ParseEndpoint(s string, listener bool, allowed ...string) (Endpoint, error) {
	if s == "" {
		return Endpoint{}, fmt.Errorf("empty; expected a URL such as %s://HOST:PORT", allowed[0])
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Endpoint{}, fmt.Errorf("%q is not a URL; expected %s://HOST:PORT", s, strings.Join(allowed, "|"))
	}
	scheme := strings.ToLower(u.Scheme)
	ok := false
	for _, a := range allowed {
		if scheme == a {
			ok = true
		}
	}
	if !ok {
		return Endpoint{}, fmt.Errorf("transport %q in %q is not supported here; use one of %s", u.Scheme, s, strings.Join(allowed, ", "))
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Endpoint{}, fmt.Errorf("%q: only TRANSPORT://HOST:PORT is allowed (no path, query or user)", s)
	}
	host, portS := u.Hostname(), u.Port()
	if portS == "" {
		return Endpoint{}, fmt.Errorf("%q has no port", s)
	}
	port, err := strconv.Atoi(portS)
	min := 1
	if listener {
		min = 0
	}
	if err != nil || port < min || port > 65535 {
		return Endpoint{}, fmt.Errorf("port %q in %q is out of range (%d-65535)", portS, s, min)
	}
	if listener {
		if _, err := netip.ParseAddr(host); err != nil {
			return Endpoint{}, fmt.Errorf("host %q in %q must be an IP address to bind (0.0.0.0 or :: for all)", host, s)
		}
	} else if host == "" {
		return Endpoint{}, fmt.Errorf("%q has no host", s)
	}
	return Endpoint{Transport: scheme, Host: host, Port: port}, nil
}

// PortRange is a parsed media.port_range.
type PortRange struct{ First, Last int }

// ParsePortRange parses "FIRST-LAST".
func ParsePortRange(s string) (PortRange, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return PortRange{}, fmt.Errorf("%q is not a range; expected FIRST-LAST such as 20000-29999", s)
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("%q: ports must be numbers", s)
	}
	if first < 1024 || last > 65535 || first > last {
		return PortRange{}, fmt.Errorf("%q: need 1024 <= FIRST <= LAST <= 65535", s)
	}
	if last-first+1 < 4 {
		return PortRange{}, fmt.Errorf("%q: need at least 4 ports (two RTP/RTCP pairs)", s)
	}
	return PortRange{First: first, Last: last}, nil
}
