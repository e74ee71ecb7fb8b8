package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childEnv marks the test binary re-executed inside a network namespace; its value is the test's name.
const childEnv = "SIPEDGE_E2E_NETNS"

// netnsOptions describe the namespace a test body runs in.
type netnsOptions struct {
	// Addrs are extra addresses on the namespace's loopback (127.0.0.1/8 is there too), e.g. addresses
	// from the GeoIP test databases, so clients can use them as source addresses.
	Addrs []string
	// Sink adds a veth pair whose two ends are both inside the namespace and a default route through it:
	// a packet to any address that is not local leaves through the sink's first end and dies at its
	// second (no address, no forwarding). Nothing can leave the namespace either way, but an attempt to
	// send off-host becomes observable: sinkPackets counts it (ARP requests and packets).
	Sink bool
	// Hosts are addresses of other test hosts: each gets a namespace of its own with that address, linked
	// to the test's namespace by a veth pair, and routes only to hostGateway, an address on the test
	// namespace's loopback. Servers that hosts must reach listen on hostGateway; run programs on a host
	// with hostCommand.
	Hosts []string
}

// hostGateway is the test namespace's address for its hosts (RFC 2544 benchmarking range).
const hostGateway = "198.18.0.1"

const hostsEnv = "SIPEDGE_E2E_HOSTS"

const sinkDev = "sink0"

// inNetns runs the calling test's body inside a new network namespace with no route out. In the parent
// it creates the namespace, re-executes the test binary inside it (ip netns exec) for this test only,
// reports the child's output, deletes the namespace and returns false: the caller returns. In the child it
// returns true: the caller runs the body (the edge, Kamailio, phones and attack tools all start inside the
// namespace). It needs root: without root it skips, except under CI (CI set), where it fails.
func inNetns(t *testing.T, o netnsOptions) bool {
	t.Helper()
	if name := os.Getenv(childEnv); name != "" {
		if name != t.Name() {
			t.Fatalf("namespace child for %s runs %s", name, t.Name())
		}
		for _, a := range o.Addrs { // make sure we are where we think we are
			l, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
			if err != nil {
				t.Fatalf("source address %s is not local in this namespace: %v", a, err)
			}
			l.Close()
		}
		return true
	}
	requireNetns(t)
	ns := fmt.Sprintf("sxe2e-%d-%s", os.Getpid(), shortName(t.Name()))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		noNetns(t, fmt.Sprintf("cannot create a network namespace: %v: %s", err, bytes.TrimSpace(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", ns, err, out)
		}
	})
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	for _, a := range o.Addrs {
		ipCmd(t, "-n", ns, "addr", "add", a+"/32", "dev", "lo")
	}
	if o.Sink {
		ipCmd(t, "-n", ns, "link", "add", sinkDev, "type", "veth", "peer", "name", sinkDev+"p")
		for _, d := range []string{sinkDev, sinkDev + "p"} {
			ipCmd(t, "-n", ns, "link", "set", d, "addrgenmode", "none") // no IPv6 link-local chatter
			ipCmd(t, "-n", ns, "link", "set", d, "up")
		}
		ipCmd(t, "-n", ns, "route", "add", "default", "dev", sinkDev)
		// A fixed neighbour for the self-test address: one datagram there is exactly one packet (no ARP).
		ipCmd(t, "-n", ns, "neigh", "add", sinkProbe, "lladdr", "02:00:00:00:00:01", "dev", sinkDev, "nud", "permanent")
	}
	var hosts []string
	if len(o.Hosts) > 0 {
		ipCmd(t, "-n", ns, "addr", "add", hostGateway+"/32", "dev", "lo")
	}
	for i, a := range o.Hosts {
		h := fmt.Sprintf("%s-h%d", ns, i)
		ipCmd(t, "netns", "add", h)
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", h).Run() })
		dev := fmt.Sprintf("hv%d", i)
		ipCmd(t, "-n", h, "link", "set", "lo", "up")
		ipCmd(t, "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", h)
		ipCmd(t, "-n", ns, "link", "set", dev, "addrgenmode", "none")
		ipCmd(t, "-n", ns, "link", "set", dev, "up")
		ipCmd(t, "-n", h, "link", "set", "eth0", "addrgenmode", "none")
		ipCmd(t, "-n", h, "link", "set", "eth0", "up")
		ipCmd(t, "-n", h, "addr", "add", a+"/32", "dev", "eth0")
		ipCmd(t, "-n", h, "route", "add", hostGateway+"/32", "dev", "eth0")
		ipCmd(t, "-n", ns, "route", "add", a+"/32", "dev", dev)
		hosts = append(hosts, a+"="+h)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	timeout := 3 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 5*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe, "-test.run", "^"+regexp.QuoteMeta(t.Name())+"$",
		"-test.v", "-test.count=1", "-test.timeout", timeout.String())
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	if o.Sink {
		cmd.Env = append(cmd.Env, "SIPEDGE_E2E_SINK="+sinkDev)
	}
	if len(hosts) > 0 {
		cmd.Env = append(cmd.Env, hostsEnv+"="+strings.Join(hosts, ","))
	}
	out, err := cmd.CombinedOutput()
	t.Logf("test body in network namespace %s:\n%s", ns, indent(string(out)))
	switch {
	case err != nil:
		t.Fatalf("test body in the namespace failed: %v", err)
	case strings.Contains(string(out), "--- SKIP: "+t.Name()):
		t.Skip("the test body skipped inside the namespace (see its output)")
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatal("the test body did not report PASS inside the namespace")
	}
	return false
}

// requireNetns skips (or under CI fails) the test when network namespaces cannot be created.
func requireNetns(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root to create network namespaces (ip netns add)"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "needs iproute2 (ip): " + err.Error()
	}
	if why != "" {
		noNetns(t, why)
	}
}

// noNetns skips the test, or fails it under CI (like testpeers.Require).
func noNetns(t *testing.T, why string) {
	t.Helper()
	if v := strings.ToLower(strings.TrimSpace(os.Getenv("CI"))); v != "" && v != "0" && v != "false" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// sinkProbe is the address the sink's self-test sends to (TEST-NET-1).
const sinkProbe = "192.0.2.1"

// sinkBaseline checks that the sink counts what is sent off-host (one datagram to sinkProbe must show up
// as one packet) and returns the count after that self-test: compare sinkPackets with it at the end.
func sinkBaseline(t *testing.T) int {
	t.Helper()
	before := sinkPackets(t)
	c, err := net.Dial("udp", net.JoinHostPort(sinkProbe, "9"))
	if err != nil {
		t.Fatalf("sink self-test: %v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("sink self-test")); err != nil {
		t.Fatalf("sink self-test: %v", err)
	}
	for deadline := time.Now().Add(2 * time.Second); sinkPackets(t) != before+1; {
		if time.Now().After(deadline) {
			t.Fatalf("sink self-test: counter went from %d to %d, want +1", before, sinkPackets(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return before + 1
}

// sinkPackets is the number of packets sent into the sink so far.
func sinkPackets(t *testing.T) int {
	t.Helper()
	dev := os.Getenv("SIPEDGE_E2E_SINK")
	if dev == "" {
		t.Fatal("the namespace has no sink (netnsOptions.Sink)")
	}
	b, err := os.ReadFile("/sys/class/net/" + dev + "/statistics/tx_packets")
	if err != nil {
		t.Fatalf("sink counter: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostCommand prepares name with args to run on the test host with address ip (see netnsOptions.Hosts).
func hostCommand(t *testing.T, ip, name string, args ...string) *exec.Cmd {
	t.Helper()
	for _, kv := range strings.Split(os.Getenv(hostsEnv), ",") {
		if a, ns, ok := strings.Cut(kv, "="); ok && a == ip {
			return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
		}
	}
	t.Fatalf("no test host with address %s", ip)
	return nil
}

func shortName(s string) string {
	s = strings.TrimPrefix(s, "Test")
	if len(s) > 12 {
		s = s[:12]
	}
	return strings.ToLower(s)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
