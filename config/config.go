// Package config holds the edge's configuration: one YAML file, decoded strictly, defaults applied in one
// place (Default / ApplyDefaults), and Validate reporting every problem at once with its field path.
//
// Every field carries a `doc` tag; the commented default config (`edge config default`) and
// docs/configuration.md are generated from these tags, so documentation and code cannot drift apart.
package config

// Config is the whole edge configuration.
type Config struct {
	DataDir      string      `yaml:"data_dir" doc:"Directory for state the edge creates itself: the self-signed certificate, the users file and the security log (created with mode 0700 if missing)."`
	Log          Log         `yaml:"log" doc:"Operational logging (zap)."`
	SecurityLog  SecurityLog `yaml:"security_log" doc:"Append-only security event log (JSON lines): failed and successful authentication, bans, policy denials."`
	Listen       Listen      `yaml:"listen" doc:"Where the edge listens for SIP."`
	Admin        Admin       `yaml:"admin" doc:"Admin HTTP server: /healthz, /readyz and Prometheus /metrics."`
	TLS          TLS         `yaml:"tls" doc:"TLS for the access listeners."`
	PBX          PBX         `yaml:"pbx" doc:"The PBX (or PBXs) behind the edge. With no targets the edge is a standalone registrar."`
	Auth         Auth        `yaml:"auth" doc:"Who may register and call through the edge."`
	Media        Media       `yaml:"media" doc:"Media anchoring: SRTP on the access side, RTP toward the PBX."`
	Limits       Limits      `yaml:"limits" doc:"Limits that protect the edge from bad or abusive input."`
	Policy       Policy      `yaml:"policy" doc:"Who may call what from where: roles and destination classes, geo rules, fraud and spend limits, failed-authentication bans, flood and scanner protection, security event webhook. Emergency numbers are never blocked."`
	Store        Store       `yaml:"store" doc:"Where shared state (counters, bans) lives."`
	DrainTimeout Duration    `yaml:"drain_timeout" doc:"On SIGTERM the edge stops taking new calls and REGISTERs (503, /readyz fails) and waits this long for calls in progress to end before it exits."`
}

// Log configures the operational log.
type Log struct {
	Level  string `yaml:"level" doc:"Minimum level: debug, info, warn or error."`
	Format string `yaml:"format" doc:"Output format: json or console."`
}

// SecurityLog configures the security event log.
type SecurityLog struct {
	File string `yaml:"file" doc:"Path of the JSON-lines security event log; relative paths are under data_dir. Reopened on SIGHUP (for logrotate)."`
}

// Listen configures the SIP listeners.
type Listen struct {
	Access    []string `yaml:"access" doc:"Access-side listeners facing the phones, as URLs: tls://IP:PORT, tcp://IP:PORT, udp://IP:PORT. At least one tls:// listener is required."`
	Advertise string   `yaml:"advertise" doc:"Host name or IP the phones use to reach the edge (what they resolve for tls://HOST:5061). Used in the Record-Route and Path entries sent to phones and to recognise the edge's own Route entries. Empty: the local address of the phone's connection."`
	Core      string   `yaml:"core" doc:"Core-side listener toward the PBX, as a URL (udp://, tcp:// or tls://; tls:// uses the edge's TLS certificate and goes with tls:// PBX targets). Its address is what the PBX sees as the edge."`
}

// Admin configures the admin HTTP server.
type Admin struct {
	Listen    string `yaml:"listen" doc:"Address (IP:PORT) of the admin HTTP server. Keep it on loopback or a management network."`
	TokenFile string `yaml:"token_file" doc:"File holding a bearer token: when set, every admin endpoint but /healthz and /readyz requires 'Authorization: Bearer <token>' (Prometheus: authorization.credentials_file). Relative paths are under data_dir. Empty: no authentication (then keep admin.listen on loopback)."`
}

// TLS configures TLS on the access listeners.
type TLS struct {
	CertFile     string `yaml:"cert_file" doc:"PEM certificate chain. Empty: a self-signed ECDSA certificate is generated once in data_dir and reused; its SHA-256 fingerprint is printed at start for phones to pin."`
	KeyFile      string `yaml:"key_file" doc:"PEM private key for cert_file (required when cert_file is set)."`
	ClientCAFile string `yaml:"client_ca_file" doc:"PEM CA bundle for optional mutual TLS: a client certificate signed by it identifies its user. Empty: no client certificates requested."`
	MinVersion   string `yaml:"min_version" doc:"Lowest TLS version accepted: 1.2 or 1.3."`
}

// PBX configures the PBX targets.
type PBX struct {
	Targets       []string `yaml:"targets" doc:"PBX addresses as SIP URLs, e.g. udp://10.0.0.5:5060, tcp://pbx.lan:5060 or tls://pbx.example.com:5061 (TLS targets need listen.core tls://, and all targets then use TLS). Empty: standalone mode (the edge is the registrar)."`
	Mode          string   `yaml:"mode" doc:"failover: use the first healthy target; all: register at every target (registration fork), calls to the first healthy one."`
	ProbeInterval Duration `yaml:"probe_interval" doc:"How often each target is probed with OPTIONS."`
	ProbeTimeout  Duration `yaml:"probe_timeout" doc:"How long a probe may take before the target counts as down."`
	TLS           PBXTLS   `yaml:"tls" doc:"TLS toward tls:// targets: how the edge verifies the PBX's certificate."`
}

// PBXTLS configures TLS connections to the PBX.
type PBXTLS struct {
	CAFile             string `yaml:"ca_file" doc:"PEM CA bundle that signs the PBX certificates. Empty: the system's trusted roots."`
	ServerName         string `yaml:"server_name" doc:"Name the PBX certificates must carry. Empty: the target's host name (or IP address)."`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" doc:"Accept any PBX certificate (no verification). Only for testing: anyone on the path can then read and change calls and SRTP keys."`
}

// Auth configures authentication.
type Auth struct {
	Mode      string   `yaml:"mode" doc:"passthrough: the PBX challenges and the edge learns the identity from the accepted REGISTER; local: the edge challenges itself from users_file. Default: local without PBX targets, passthrough with them."`
	UsersFile string   `yaml:"users_file" doc:"Users file (HA1 hashes only, managed with 'edge user add/list/remove'); relative paths are under data_dir."`
	Realm     string   `yaml:"realm" doc:"Digest realm (and SIP domain) used by local authentication."`
	NonceTTL  Duration `yaml:"nonce_ttl" doc:"How long a digest nonce stays valid in local mode."`
}

// Media configures media anchoring.
type Media struct {
	AccessIP        string   `yaml:"access_ip" doc:"IP address the edge binds toward the phones (and advertises in SDP unless media.advertise is set). Empty: the address the phone's signaling connection arrived on."`
	Advertise       string   `yaml:"advertise" doc:"Public IP written into SDP toward the phones instead of the bound access address, for an edge behind 1:1 NAT (a cloud VM binds its private address, phones reach the public one). Empty: the bound address."`
	CoreIP          string   `yaml:"core_ip" doc:"IP address the edge binds and advertises in SDP toward the PBX."`
	PortRange       string   `yaml:"port_range" doc:"UDP port range for media relay ports, as FIRST-LAST (both even-aligned pairs are used for RTP/RTCP)."`
	SRTP            string   `yaml:"srtp" doc:"Access-side SRTP: required (offers without usable SDES crypto get 488), optional (SRTP when offered, else RTP) or off."`
	SendBeforeLatch bool     `yaml:"send_before_latch" doc:"Send media toward an SRTP phone before it has sent an authenticated packet (to the address in its SDP). Off: media waits for the phone's first authenticated packet, so an authenticated user cannot point a call's media at a third party; the softphone sends at once (and an RTCP report during early media). Turn on only for phones on a LAN that stay silent during early media."`
	CoreSRTP        string   `yaml:"core_srtp" doc:"Core-side SRTP: accept (plain RTP offers toward the PBX; SRTP when the PBX offers it) or required (SDES SRTP offers toward the PBX, SRTP required from it; needs TLS toward the PBX so the keys are not sent in clear)."`
	Timeout         Duration `yaml:"timeout" doc:"A call with no media packets for this long is ended with BYE on both sides."`
	HoldTimeout     Duration `yaml:"hold_timeout" doc:"Media timeout while a call is on hold."`
}

// Limits protects the edge from bad input.
type Limits struct {
	MaxMessageSize      int      `yaml:"max_message_size" doc:"Largest SIP message accepted, in bytes; larger messages get 400 (stream) or are dropped (UDP)."`
	MaxConnectionsPerIP int      `yaml:"max_connections_per_ip" doc:"Most TCP/TLS connections one source IP may hold open at once."`
	ReadTimeout         Duration `yaml:"read_timeout" doc:"A TCP/TLS connection that sends nothing (not even a keepalive) for this long is closed."`
	TLSHandshakeTimeout Duration `yaml:"tls_handshake_timeout" doc:"Time a client has to finish the TLS handshake."`
}

// Store configures the state store.
type Store struct {
	URL string `yaml:"url" doc:"memory:// (counters and bans in this edge's memory). redis:// for several edges sharing state is planned and refused for now."`
}
