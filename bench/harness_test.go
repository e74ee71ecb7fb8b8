package bench

import (
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sipedge/sipedge/relay"
)

// TestServeNG drives the ng shim over an in-process relay: ping, offer, answer, delete, and the
// errors a client gets for bad commands.
func TestServeNG(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.1")
	r, err := relay.New(relay.Config{AccessIP: ip, CoreIP: ip, PortMin: 35000, PortMax: 35099, SRTP: relay.SRTPRequired})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ServeNG(conn, r) }()
	defer func() {
		_ = conn.Close()
		if err := <-served; err != nil {
			t.Errorf("ServeNG: %v", err)
		}
	}()
	ng, err := DialNG(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ng.Close()

	if rep, err := ng.Call(map[string]any{"command": "ping"}, time.Second); err != nil || rep["result"] != "pong" {
		t.Fatalf("ping: %v %v", rep, err)
	}
	phone := netip.MustParseAddrPort("127.0.0.1:7000")
	pbx := netip.MustParseAddrPort("127.0.0.1:7002")
	// SRTP required: a plain offer from the phone is refused with the relay's reason.
	_, err = ng.Call(map[string]any{"command": "offer", "call-id": "plain", "sdp": sdpBody("phone", phone, "RTP/AVP", nil)}, time.Second)
	if !errors.Is(err, ErrNG) || !strings.Contains(err.Error(), "error") {
		t.Fatalf("plain offer with SRTP required: %v, want an ng error", err)
	}
	ss, err := setupSessions(&RelayUnderTest{Name: "edge", NG: ng}, ModeRTPtoSRTP, 2, 4, phone, pbx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() < 2 {
		t.Fatalf("relay has %d sessions after two offer/answer exchanges", r.Len())
	}
	for _, s := range ss {
		if s.dec == nil || !s.dst.IsValid() || s.dst.Port() < 35000 || s.dst.Port() > 35099 {
			t.Fatalf("session %s: relay port %v, decryptor %v", s.callID, s.dst, s.dec != nil)
		}
	}
	deleteSessions(&RelayUnderTest{NG: ng}, ss)
	if _, ok := r.Lookup(ss[0].callID); ok {
		t.Fatal("session still open after delete")
	}
	for _, cmd := range []map[string]any{
		{"command": "delete", "call-id": "nope"},
		{"command": "query", "call-id": "x"},
		{"command": "offer", "call-id": "x"},
	} {
		if _, err := ng.Call(cmd, time.Second); !errors.Is(err, ErrNG) {
			t.Errorf("%v: %v, want ErrNG", cmd, err)
		}
	}
}

// smallLoad is a short run of every phase, enough to check the harness end to end.
func smallLoad(mode string) LoadSpec {
	return LoadSpec{Mode: mode, Sessions: 4, FloodPackets: 400, Window: 16, Paced: 100 * time.Millisecond}
}

func checkLoad(t *testing.T, name string, spec LoadSpec, r LoadResult) {
	t.Helper()
	perSession := spec.FloodPackets / spec.Sessions
	if r.FloodSent != perSession*spec.Sessions || r.FloodRecv != r.FloodSent {
		t.Errorf("%s %s: flood sent %d, received %d", name, spec.Mode, r.FloodSent, r.FloodRecv)
	}
	if want := spec.Sessions * int(spec.Paced/ptime); r.PacedSent != want || r.PacedRecv != want {
		t.Errorf("%s %s: paced sent %d, received %d, want %d", name, spec.Mode, r.PacedSent, r.PacedRecv, want)
	}
	if r.VerifyFailures != 0 {
		t.Errorf("%s %s: %d warm-up packets altered or undecryptable", name, spec.Mode, r.VerifyFailures)
	}
	if len(r.Latencies) != r.PacedRecv || r.Percentile(50) <= 0 {
		t.Errorf("%s %s: %d latencies for %d paced packets", name, spec.Mode, len(r.Latencies), r.PacedRecv)
	}
	if r.FloodCPU <= 0 || r.PacketsPerSecond() <= 0 {
		t.Errorf("%s %s: flood CPU %v, %v packets/s", name, spec.Mode, r.FloodCPU, r.PacketsPerSecond())
	}
}

// TestRunLoadEdgeRelay runs the load generator against the relay in its child process, in every mode.
func TestRunLoadEdgeRelay(t *testing.T) {
	for _, mode := range []string{ModeRTP, ModeRTPtoSRTP, ModeSRTPtoRTP} {
		srtp := relay.SRTPRequired
		if mode == ModeRTP {
			srtp = relay.SRTPOff
		}
		rt, err := StartEdgeRelay(srtp)
		if err != nil {
			t.Fatal(err)
		}
		spec := smallLoad(mode)
		r, err := RunLoad(rt, spec, "test")
		rt.Close()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, rt.Proc.Output())
		}
		checkLoad(t, "edge", spec, r)
	}
}

// TestRunLoadRtpengine checks the anchor's setup (flags, SDES keys) with the same small load.
func TestRunLoadRtpengine(t *testing.T) {
	bin, err := exec.LookPath("rtpengine")
	if err != nil {
		t.Skip("rtpengine is not installed (Debian package rtpengine-daemon)")
	}
	for _, mode := range []string{ModeRTP, ModeRTPtoSRTP, ModeSRTPtoRTP} {
		rt, err := StartRtpengine(bin, mode, 1)
		if err != nil {
			t.Fatal(err)
		}
		spec := smallLoad(mode)
		r, err := RunLoad(rt, spec, "test")
		rt.Close()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, rt.Proc.Output())
		}
		checkLoad(t, "rtpengine", spec, r)
	}
}

// TestSIPLoadSmoke places a few calls through every proxy of the signaling benchmark.
func TestSIPLoadSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sipp, Kamailio and the edge")
	}
	tools := lookupSIPTools(t)
	for _, s := range proxySystems(t, tools) {
		res, cpu := runSIPLoad(t, s, tools, 20)
		if res.Successful != 20 || res.Failed != 0 {
			t.Errorf("%s: %d successful, %d failed of 20 calls\n%s", s.name, res.Successful, res.Failed, res.Errors)
		}
		if cpu <= 0 {
			t.Errorf("%s: CPU time %v", s.name, cpu)
		}
	}
}
