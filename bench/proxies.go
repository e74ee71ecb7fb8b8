package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// KamailioOptions configures the Kamailio anchor proxy.
type KamailioOptions struct {
	Bin      string // kamailio binary
	Template string // testdata/kamailio-proxy.cfg.tmpl
	WorkDir  string
	Port     int    // UDP listen port on 127.0.0.1
	PBX      string // host:port of the sipp PBX
	Children int    // UDP worker processes
	// RtpengineSock, if set (host:port of an rtpengine ng socket), makes Kamailio anchor media too.
	RtpengineSock string
}

// StartKamailio writes the proxy configuration, starts Kamailio in the foreground (its worker
// processes share its process group) and waits until it answers.
func StartKamailio(o KamailioOptions) (*Proc, error) {
	tmpl, err := template.ParseFiles(o.Template)
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	if err := tmpl.Execute(&sb, o); err != nil {
		return nil, err
	}
	cfg := filepath.Join(o.WorkDir, fmt.Sprintf("kamailio-%d.cfg", o.Port))
	if err := os.WriteFile(cfg, []byte(sb.String()), 0o600); err != nil {
		return nil, err
	}
	// -DD: stay in the foreground but fork the workers; -E: log to stderr; 64 MB shared memory.
	cmd := exec.Command(o.Bin, "-f", cfg, "-DD", "-E", "-m", "64", "-M", "8", "-P", filepath.Join(o.WorkDir, "kamailio.pid"))
	cmd.Dir = o.WorkDir
	p, err := StartProc("kamailio", cmd)
	if err != nil {
		return nil, err
	}
	if err := waitSIP("127.0.0.1:"+strconv.Itoa(o.Port), p, 10*time.Second); err != nil {
		p.Stop(time.Second)
		return nil, err
	}

	return p, nil
}

// edgeConfigTmpl is the edge's configuration for the signaling benchmark: passthrough toward the sipp
// PBX over UDP, media anchored without SRTP (sipp sends plain RTP/AVP SDP), logs at error level, and
// the per-user fraud limits and per-IP flood limits off (one sipp socket places every call).
const edgeConfigTmpl = `data_dir: {{.Dir}}
drain_timeout: 1s
log:
  level: error
  format: json
listen:
  access: ["tls://127.0.0.1:0", "udp://127.0.0.1:{{.Port}}"]
  core: "udp://127.0.0.2:0"
admin:
  listen: "127.0.0.1:0"
pbx:
  targets: ["udp://{{.PBX}}"]
  probe_interval: 1s
  probe_timeout: 500ms
auth:
  mode: passthrough
media:
  access_ip: 127.0.0.1
  core_ip: 127.0.0.2
  port_range: "50000-59999"
  srtp: "off"
policy:
  limits:
    concurrent_calls: -1
    calls_per_minute: -1
    international_per_hour: -1
    daily_budget: -1
  max_international_calls: -1
  flood:
    requests_per_second: -1
    ban_after: -1
  scanner:
    max_to_users_per_minute: -1
`

// StartEdgeProxy starts the edge (edgeapp) in a child process listening on UDP 127.0.0.1:port with the
// sipp PBX at pbx as its only target, and waits until the PBX probe made it healthy.
func StartEdgeProxy(workDir string, port int, pbx string) (*Proc, error) {
	tmpl := template.Must(template.New("edge").Parse(edgeConfigTmpl))
	var sb strings.Builder
	dir := filepath.Join(workDir, fmt.Sprintf("edge-%d", port))
	if err := tmpl.Execute(&sb, map[string]any{"Dir": dir, "Port": port, "PBX": pbx}); err != nil {
		return nil, err
	}
	cfg := filepath.Join(workDir, fmt.Sprintf("edge-%d.yaml", port))
	if err := os.WriteFile(cfg, []byte(sb.String()), 0o600); err != nil {
		return nil, err
	}
	p, ready, err := startChild("edge", envEdgeConfig+"="+cfg)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(ready, "udp://127.0.0.1:"+strconv.Itoa(port)) {
		p.Stop(time.Second)
		return nil, fmt.Errorf("%w: edge listens on %q, not UDP port %d", ErrProcess, ready, port)
	}

	return p, nil
}
