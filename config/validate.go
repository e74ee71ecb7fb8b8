package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Validate checks the (defaulted) configuration and returns every problem found, each with its field path.
func (c *Config) Validate() Errors {
	var errs Errors
	add := func(path, format string, a ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	oneOf := func(path, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		add(path, "%q is not one of %v", v, allowed)
	}
	fileExists := func(path, name string) {
		if name == "" {
			return
		}
		if _, err := os.Stat(c.Path(name)); err != nil {
			add(path, "cannot read %s: %v", c.Path(name), unwrapPathErr(err))
		}
	}

	if c.DataDir == "" {
		add("data_dir", "must not be empty")
	}
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "json", "console")
	if c.SecurityLog.File == "" {
		add("security_log.file", "must not be empty")
	}

	if len(c.Listen.Access) == 0 {
		add("listen.access", "at least one listener is required (a tls:// one)")
	}
	hasTLS := false
	seen := map[string]string{}
	for i, s := range c.Listen.Access {
		p := fmt.Sprintf("listen.access[%d]", i)
		ep, err := ParseEndpoint(s, true, "tls", "tcp", "udp", "wss")
		if err != nil {
			add(p, "%v", err)
			continue
		}
		if ep.Transport == "wss" {
			add(p, "wss:// listeners are not supported yet")
		}
		if ep.Transport == "tls" {
			hasTLS = true
		}
		key := ep.Transport + " " + ep.Addr()
		if other, dup := seen[key]; dup && ep.Port != 0 {
			add(p, "duplicates %s", other)
		}
		seen[key] = p
	}
	if len(c.Listen.Access) > 0 && !hasTLS {
		add("listen.access", "at least one tls:// listener is required (remote phones connect over TLS)")
	}
	coreEP, coreErr := ParseEndpoint(c.Listen.Core, true, "udp", "tcp", "tls")
	if coreErr != nil {
		add("listen.core", "%v (the core side speaks udp, tcp or tls to the PBX)", coreErr)
	}
	if a := c.Listen.Advertise; a != "" && (strings.ContainsAny(a, " \t:;@<>\"/") || len(a) > 253) {
		add("listen.advertise", "%q is not a host name or IPv4 address (no port, no scheme)", a)
	}
	checkHostPort("admin.listen", c.Admin.Listen, add)

	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls.key_file", "tls.cert_file and tls.key_file must be set together")
	}
	fileExists("tls.cert_file", c.TLS.CertFile)
	fileExists("tls.key_file", c.TLS.KeyFile)
	fileExists("tls.client_ca_file", c.TLS.ClientCAFile)
	oneOf("tls.min_version", c.TLS.MinVersion, "1.2", "1.3")

	tlsTargets := 0
	for i, s := range c.PBX.Targets {
		ep, err := ParseEndpoint(s, false, "udp", "tcp", "tls")
		if err != nil {
			add(fmt.Sprintf("pbx.targets[%d]", i), "%v", err)
			continue
		}
		if ep.Transport == "tls" {
			tlsTargets++
		}
	}
	coreTLS := coreEP.Transport == "tls"
	switch {
	case tlsTargets > 0 && tlsTargets < len(c.PBX.Targets):
		add("pbx.targets", "mixes tls:// and other targets: use TLS toward every PBX target or none")
	case tlsTargets > 0 && !coreTLS && coreErr == nil:
		add("listen.core", "is %s:// but pbx.targets are tls://: the PBX's requests to the edge would travel unencrypted; use tls://", coreEP.Transport)
	case coreTLS && len(c.PBX.Targets) > 0 && tlsTargets == 0:
		add("listen.core", "is tls:// but pbx.targets are not: use tls:// targets too (or a udp/tcp core listener)")
	}
	fileExists("pbx.tls.ca_file", c.PBX.TLS.CAFile)
	if c.PBX.TLS.ServerName != "" && strings.ContainsAny(c.PBX.TLS.ServerName, " /:@") {
		add("pbx.tls.server_name", "%q is not a host name", c.PBX.TLS.ServerName)
	}
	oneOf("pbx.mode", c.PBX.Mode, "failover", "all")
	positive(&errs, "pbx.probe_interval", c.PBX.ProbeInterval)
	positive(&errs, "pbx.probe_timeout", c.PBX.ProbeTimeout)

	oneOf("auth.mode", c.Auth.Mode, "passthrough", "local")
	if c.Auth.Mode == "passthrough" && len(c.PBX.Targets) == 0 {
		add("auth.mode", "passthrough needs pbx.targets (the PBX does the challenge); use local for standalone mode")
	}
	if c.Auth.Realm == "" {
		add("auth.realm", "must not be empty")
	}
	positive(&errs, "auth.nonce_ttl", c.Auth.NonceTTL)

	if f := c.Admin.TokenFile; f != "" {
		if b, err := os.ReadFile(c.Path(f)); err != nil {
			add("admin.token_file", "cannot read %s: %v", c.Path(f), unwrapPathErr(err))
		} else if len(strings.TrimSpace(string(b))) < 16 {
			add("admin.token_file", "%s holds a token shorter than 16 characters", c.Path(f))
		}
	}
	if c.Media.AccessIP != "" {
		if _, err := netip.ParseAddr(c.Media.AccessIP); err != nil {
			add("media.access_ip", "%q is not an IP address", c.Media.AccessIP)
		}
	}
	if a := c.Media.Advertise; a != "" {
		if ip, err := netip.ParseAddr(a); err != nil {
			add("media.advertise", "%q is not an IP address", a)
		} else if ip.IsUnspecified() || ip.IsMulticast() {
			add("media.advertise", "%s cannot be advertised in SDP", a)
		}
	}
	if _, err := netip.ParseAddr(c.Media.CoreIP); err != nil {
		add("media.core_ip", "%q is not an IP address", c.Media.CoreIP)
	}
	if _, err := ParsePortRange(c.Media.PortRange); err != nil {
		add("media.port_range", "%v", err)
	}
	oneOf("media.srtp", c.Media.SRTP, "required", "optional", "off")
	oneOf("media.core_srtp", c.Media.CoreSRTP, "accept", "required")
	if c.Media.CoreSRTP == "required" && (len(c.PBX.Targets) == 0 || !coreTLS) {
		add("media.core_srtp", "required needs TLS toward the PBX (tls:// listen.core and pbx.targets): SDES keys would otherwise be sent in clear")
	}
	positive(&errs, "media.timeout", c.Media.Timeout)
	positive(&errs, "media.hold_timeout", c.Media.HoldTimeout)

	if c.Limits.MaxMessageSize < 1024 || c.Limits.MaxMessageSize > 65535 {
		add("limits.max_message_size", "%d is out of range (1024-65535)", c.Limits.MaxMessageSize)
	}
	if c.Limits.MaxConnectionsPerIP < 1 {
		add("limits.max_connections_per_ip", "must be at least 1")
	}
	positive(&errs, "limits.read_timeout", c.Limits.ReadTimeout)
	positive(&errs, "limits.tls_handshake_timeout", c.Limits.TLSHandshakeTimeout)

	positive(&errs, "drain_timeout", c.DrainTimeout)
	c.Policy.validate(add)
	fileExists("policy.geo.database", c.Policy.Geo.Database)
	if u, err := url.Parse(c.Store.URL); err != nil {
		add("store.url", "%q is not a URL", c.Store.URL)
	} else {
		switch u.Scheme {
		case "memory":
		case "redis":
			add("store.url", "redis:// is not available yet (shared state for several edges is planned); use memory://")
		default:
			add("store.url", "scheme %q is not supported; use memory:// or redis://", u.Scheme)
		}
	}
	return errs
}

func positive(errs *Errors, path string, d Duration) {
	if d <= 0 {
		*errs = append(*errs, FieldError{Path: path, Msg: "must be a positive duration"})
	}
}

func checkHostPort(path, s string, add func(string, string, ...any)) {
	host, portS, err := net.SplitHostPort(s)
	if err != nil {
		add(path, "%q is not HOST:PORT", s)
		return
	}
	if port, err := strconv.Atoi(portS); err != nil || port < 0 || port > 65535 {
		add(path, "port %q is out of range (0-65535)", portS)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			add(path, "host %q must be an IP address", host)
		}
	}
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
