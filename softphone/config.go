package softphone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sipedge/sipedge/media/codec"
)

// SRTP modes of an account.
const (
	// SRTPRequired offers RTP/SAVP only and refuses calls without SRTP (the default).
	SRTPRequired = "required"
	// SRTPOptional offers RTP/SAVP and accepts plain RTP answers and offers too.
	SRTPOptional = "optional"
	// SRTPOff offers plain RTP/AVP and refuses SRTP-only offers.
	SRTPOff = "off"
)

// Defaults applied to zero-valued Account fields (in ApplyDefaults, the only place).
const (
	DefaultEdge            = "tls://127.0.0.1:5061"
	DefaultRegisterExpires = 600 * time.Second
	DefaultKeepalive       = 25 * time.Second
	DefaultPongTimeout     = 10 * time.Second
	DefaultRingTimeout     = 60 * time.Second
	DefaultPTime           = 20 * time.Millisecond
)

// File is the phone's YAML configuration file ($XDG_CONFIG_HOME/sipedge/phone.yaml).
type File struct {
	// Accounts lists the SIP accounts; the first is the default.
	Accounts []Account `yaml:"accounts"`
	// ContactsFile is the contacts file (default $XDG_CONFIG_HOME/sipedge/contacts.yaml).
	ContactsFile string `yaml:"contacts_file,omitempty"`
	// HistoryFile is the append-only call history (default $XDG_DATA_HOME/sipedge/history.jsonl).
	HistoryFile string `yaml:"history_file,omitempty"`
}

// Account is one SIP identity and how to reach the edge.
type Account struct {
	// Name identifies the account in the file and on the command line (--account).
	Name string `yaml:"name"`
	// Edge is the outbound proxy: tls://host:port (default tls://127.0.0.1:5061), tcp://, udp://.
	Edge string `yaml:"edge"`
	// User is the SIP user part of the address of record.
	User string `yaml:"user"`
	// AuthUser is the digest username (default: User).
	AuthUser string `yaml:"auth_user,omitempty"`
	// Password is the digest password.
	Password string `yaml:"password,omitempty"`
	// Domain is the host part of the address of record (default: the edge host).
	Domain string `yaml:"domain,omitempty"`
	// DisplayName is shown to the called party.
	DisplayName string `yaml:"display_name,omitempty"`
	// CAFile is a PEM file of CA certificates trusted for the edge (in addition to none: it replaces the system roots).
	CAFile string `yaml:"ca_file,omitempty"`
	// Fingerprint pins the edge certificate: "SHA256:AB:CD:..." (colon hex) or "SHA256:base64".
	Fingerprint string `yaml:"fingerprint,omitempty"`
	// Insecure disables certificate verification entirely (explicit opt-out).
	Insecure bool `yaml:"insecure,omitempty"`
	// SRTP is "required" (default), "optional" or "off".
	SRTP string `yaml:"srtp,omitempty"`
	// Codecs in preference order (default G722, PCMU, PCMA).
	Codecs []string `yaml:"codecs,omitempty"`
	// RegisterExpires is the requested registration lifetime (default 600s).
	RegisterExpires time.Duration `yaml:"register_expires,omitempty"`
	// Keepalive is the keepalive interval (default 25s; negative disables): a CRLF
	// ping on TCP/TLS flows, a STUN Binding request on UDP flows (RFC 5626).
	Keepalive time.Duration `yaml:"keepalive,omitempty"`
	// AutoAnswer answers incoming calls at once.
	AutoAnswer bool `yaml:"auto_answer,omitempty"`
	// NoOutbound turns off RFC 5626 outbound (+sip.instance, reg-id, ;ob).
	NoOutbound bool `yaml:"no_outbound,omitempty"`
	// NoRoute omits the Route header naming the edge on out-of-dialog requests.
	NoRoute bool `yaml:"no_route,omitempty"`
	// LocalIP is the address SIP and RTP bind to (default: the address that routes to the edge).
	LocalIP string `yaml:"local_ip,omitempty"`
}

// Overrides are command-line values that replace file values when set.
type Overrides struct {
	Edge, User, Password, Domain, CAFile, Fingerprint string
	// Insecure is applied when non-nil.
	Insecure *bool
	// AutoAnswer is applied when non-nil.
	AutoAnswer *bool
}

// LoadFile reads and validates a config file. A missing file is an empty
// configuration when optional is true (the default path), an error otherwise.
func LoadFile(path string, optional bool) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return &File{}, nil
		}
		return nil, fmt.Errorf("%w: read %s: %v", ErrConfig, path, err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	seen := map[string]bool{}
	for i, a := range f.Accounts {
		name := a.Name
		if name == "" {
			name = a.User
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s: accounts[%d].name: %q is used twice", ErrConfig, path, i, name)
		}
		seen[name] = true
	}
	return &f, nil
}

// Account returns the named account (or the first one for an empty name),
// with overrides applied, defaults filled in and validated. With no accounts
// in the file, the overrides alone define the account.
func (f *File) Account(name string, o Overrides) (Account, error) {
	var a Account
	switch {
	case name == "" && len(f.Accounts) > 0:
		a = f.Accounts[0]
	case name != "":
		found := false
		for _, x := range f.Accounts {
			if x.Name == name {
				a, found = x, true
				break
			}
		}
		if !found {
			return Account{}, fmt.Errorf("%w: %q is not in the config file", ErrNoAccount, name)
		}
	}
	a.Apply(o)
	a.ApplyDefaults()
	if err := a.Validate(); err != nil {
		return Account{}, err
	}
	return a, nil
}

// Apply copies the set override values into the account.
func (a *Account) Apply(o Overrides) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&a.Edge, o.Edge)
	set(&a.User, o.User)
	set(&a.Password, o.Password)
	set(&a.Domain, o.Domain)
	set(&a.CAFile, o.CAFile)
	set(&a.Fingerprint, o.Fingerprint)
	if o.Insecure != nil {
		a.Insecure = *o.Insecure
	}
	if o.AutoAnswer != nil {
		a.AutoAnswer = *o.AutoAnswer
	}
}

// ApplyDefaults fills zero-valued fields with their defaults.
func (a *Account) ApplyDefaults() {
	if a.Edge == "" {
		a.Edge = DefaultEdge
	}
	if a.Name == "" {
		a.Name = a.User
	}
	if a.AuthUser == "" {
		a.AuthUser = a.User
	}
	if a.Domain == "" {
		if t, err := ParseEdge(a.Edge); err == nil {
			a.Domain = t.Host
		}
	}
	if a.SRTP == "" {
		a.SRTP = SRTPRequired
	}
	if len(a.Codecs) == 0 {
		a.Codecs = []string{codec.NameG722, codec.NamePCMU, codec.NamePCMA}
	}
	if a.RegisterExpires == 0 {
		a.RegisterExpires = DefaultRegisterExpires
	}
	if a.Keepalive == 0 {
		a.Keepalive = DefaultKeepalive
	}
}

// Validate checks the account and names the first wrong field.
func (a *Account) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if a.User == "" {
		return bad("user", "is required (set it in the config file or with --user)")
	}
	if strings.ContainsAny(a.User, " \t@:;<>\"") {
		return bad("user", "%q contains characters not allowed in a SIP user part", a.User)
	}
	if _, err := ParseEdge(a.Edge); err != nil {
		return bad("edge", "%v", err)
	}
	if a.Insecure && a.Fingerprint != "" {
		return bad("insecure", "cannot be combined with fingerprint (a pinned certificate is verified)")
	}
	if a.Fingerprint != "" {
		if _, err := ParseFingerprint(a.Fingerprint); err != nil {
			return bad("fingerprint", "%v", err)
		}
	}
	if a.CAFile != "" {
		if _, err := os.Stat(a.CAFile); err != nil {
			return bad("ca_file", "%v", err)
		}
	}
	switch a.SRTP {
	case SRTPRequired, SRTPOptional, SRTPOff:
	default:
		return bad("srtp", "%q is not one of required, optional, off", a.SRTP)
	}
	for i, c := range a.Codecs {
		if _, ok := codec.Lookup(c); !ok {
			return bad(fmt.Sprintf("codecs[%d]", i), "%q is not supported (PCMU, PCMA, G722)", c)
		}
	}
	if a.RegisterExpires < 10*time.Second || a.RegisterExpires > 24*time.Hour {
		return bad("register_expires", "%v is outside 10s..24h", a.RegisterExpires)
	}
	if a.Keepalive > 0 && a.Keepalive < time.Second {
		return bad("keepalive", "%v is below 1s", a.Keepalive)
	}
	if a.LocalIP != "" {
		if _, err := netip.ParseAddr(a.LocalIP); err != nil {
			return bad("local_ip", "%q is not an IP address", a.LocalIP)
		}
	}
	return nil
}

// Target is a parsed edge address.
type Target struct {
	// Network is "TLS", "TCP" or "UDP".
	Network string
	// Host is the edge host name or IP.
	Host string
	// Port is the edge port.
	Port int
}

// HostPort returns host:port.
func (t Target) HostPort() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// ParseEdge parses tls://host[:port], tcp://..., udp://..., sips:host[:port],
// sip:host[:port][;transport=tcp] or a bare host[:port] (TLS).
func ParseEdge(s string) (Target, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Target{}, errors.New("empty edge address")
	}
	t := Target{Network: "TLS"}
	rest := s
	switch {
	case strings.HasPrefix(s, "tls://"):
		rest = s[6:]
	case strings.HasPrefix(s, "tcp://"):
		t.Network, rest = "TCP", s[6:]
	case strings.HasPrefix(s, "udp://"):
		t.Network, rest = "UDP", s[6:]
	case strings.HasPrefix(s, "sips:"):
		rest = s[5:]
	case strings.HasPrefix(s, "sip:"):
		t.Network, rest = "UDP", s[4:]
		if i := strings.Index(rest, ";"); i >= 0 {
			params := strings.ToLower(rest[i:])
			rest = rest[:i]
			switch {
			case strings.Contains(params, "transport=tcp"):
				t.Network = "TCP"
			case strings.Contains(params, "transport=tls"):
				t.Network = "TLS"
			}
		}
	case strings.Contains(s, "://"):
		return Target{}, fmt.Errorf("%q: unknown scheme (use tls://, tcp:// or udp://)", s)
	}
	rest = strings.TrimSuffix(rest, "/")
	host, portStr, err := net.SplitHostPort(rest)
	if err != nil {
		host, portStr = strings.Trim(rest, "[]"), ""
	}
	if host == "" || strings.ContainsAny(host, "/ @") {
		return Target{}, fmt.Errorf("%q: no valid host", s)
	}
	t.Host = host
	if portStr == "" {
		t.Port = 5060
		if t.Network == "TLS" {
			t.Port = 5061
		}
	} else {
		p, err := strconv.Atoi(portStr)
		if err != nil || p < 1 || p > 65535 {
			return Target{}, fmt.Errorf("%q: port %q is not 1..65535", s, portStr)
		}
		t.Port = p
	}
	return t, nil
}
