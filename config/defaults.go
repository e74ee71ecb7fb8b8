package config

import (
	"path/filepath"
	"time"
)

// Default returns the embedded default configuration: a standalone registrar with local authentication,
// TLS on 5061 and TCP/UDP on 5060, admin on 127.0.0.1:9090, in-memory store.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills every zero-valued field with its default. This is the only place defaults live.
// Fields whose default depends on another field (auth.mode, paths under data_dir) are resolved here too.
func (c *Config) ApplyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	defI := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	def(&c.DataDir, "sipedge-data")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "console")
	def(&c.SecurityLog.File, "security.log")
	if c.Listen.Access == nil {
		c.Listen.Access = []string{"tls://0.0.0.0:5061", "tcp://0.0.0.0:5060", "udp://0.0.0.0:5060"}
	}
	def(&c.Listen.Core, "tcp://127.0.0.1:5070")
	def(&c.Admin.Listen, "127.0.0.1:9090")
	def(&c.TLS.MinVersion, "1.2")
	def(&c.PBX.Mode, "failover")
	defD(&c.PBX.ProbeInterval, 10*time.Second)
	defD(&c.PBX.ProbeTimeout, 2*time.Second)
	if c.Auth.Mode == "" {
		if len(c.PBX.Targets) == 0 {
			c.Auth.Mode = "local"
		} else {
			c.Auth.Mode = "passthrough"
		}
	}
	def(&c.Auth.UsersFile, "users.yaml")
	def(&c.Auth.Realm, "sipedge")
	defD(&c.Auth.NonceTTL, 5*time.Minute)
	def(&c.Media.CoreIP, "127.0.0.1")
	def(&c.Media.PortRange, "20000-29999")
	def(&c.Media.SRTP, "required")
	def(&c.Media.CoreSRTP, "accept")
	defD(&c.Media.Timeout, 30*time.Second)
	defD(&c.Media.HoldTimeout, 2*time.Hour)
	defI(&c.Limits.MaxMessageSize, 16384)
	defI(&c.Limits.MaxConnectionsPerIP, 32)
	defD(&c.Limits.ReadTimeout, 120*time.Second)
	defD(&c.Limits.TLSHandshakeTimeout, 10*time.Second)
	def(&c.Store.URL, "memory://")
	c.Policy.applyDefaults()
	defD(&c.DrainTimeout, 30*time.Second)
}

// Path resolves p against data_dir unless it is absolute.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

// Standalone reports whether the edge is its own registrar (no PBX targets).
func (c *Config) Standalone() bool { return len(c.PBX.Targets) == 0 }
