package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SIP load of BenchmarkProxyVsKamailio: a fixed number of calls (INVITE, 100, 180, 200, ACK, BYE, 200)
// with at most sipConcurrent in progress, as fast as the proxy completes them.
const (
	sipCalls       = 2000
	sipConcurrent  = 50
	kamailioWorker = 2 // Kamailio UDP worker processes, like the edge's GOMAXPROCS on this 2-core machine
)

// SystemsEnv names an environment variable that limits BenchmarkProxyVsKamailio to some of its
// systems (comma-separated: edge, kamailio, kamailio+rtpengine), for debugging one of them.
const SystemsEnv = "SIPEDGE_BENCH_SYSTEMS"

// proxyUnderTest starts one proxy in front of the sipp PBX at pbx, listening on UDP port; it returns
// the processes whose CPU time counts for it and a function that stops them.
type proxyUnderTest struct {
	name  string
	start func(tb testing.TB, dir string, port int, pbx string) ([]*Proc, func())
}

// sipTools are the binaries and files the signaling benchmark needs.
type sipTools struct {
	sipp, kamailio, rtpengine string // rtpengine may be empty
	scenarios, kamailioTmpl   string
}

// lookupSIPTools finds sipp and Kamailio, or skips tb with the package to install.
func lookupSIPTools(tb testing.TB) sipTools {
	var t sipTools
	var err error
	if t.sipp, err = exec.LookPath("sipp"); err != nil {
		tb.Skip("sipp is not installed (Debian package sip-tester): no SIP load generator")
	}
	if t.kamailio, err = exec.LookPath("kamailio"); err != nil {
		tb.Skip("kamailio is not installed (Debian package kamailio): no anchor to compare the proxy with")
	}
	t.rtpengine, _ = exec.LookPath("rtpengine")
	if t.scenarios, err = filepath.Abs("testdata/sipp"); err != nil {
		tb.Fatal(err)
	}
	if t.kamailioTmpl, err = filepath.Abs("testdata/kamailio-proxy.cfg.tmpl"); err != nil {
		tb.Fatal(err)
	}

	return t
}

// proxySystems are the edge, Kamailio and (with rtpengine installed) Kamailio+rtpengine, limited by
// SystemsEnv when it is set.
func proxySystems(tb testing.TB, t sipTools) []proxyUnderTest {
	systems := []proxyUnderTest{
		{"edge", func(tb testing.TB, dir string, port int, pbx string) ([]*Proc, func()) {
			p, err := StartEdgeProxy(dir, port, pbx)
			if err != nil {
				tb.Fatal(err)
			}
			return []*Proc{p}, func() { p.Stop(5 * time.Second) }
		}},
		{"kamailio", func(tb testing.TB, dir string, port int, pbx string) ([]*Proc, func()) {
			p, err := StartKamailio(KamailioOptions{Bin: t.kamailio, Template: t.kamailioTmpl, WorkDir: dir, Port: port,
				PBX: pbx, Children: kamailioWorker})
			if err != nil {
				tb.Fatal(err)
			}
			return []*Proc{p}, func() { p.Stop(5 * time.Second) }
		}},
	}
	if t.rtpengine != "" {
		systems = append(systems, proxyUnderTest{"kamailio+rtpengine", func(tb testing.TB, dir string, port int, pbx string) ([]*Proc, func()) {
			rt, err := StartRtpengine(t.rtpengine, ModeRTP, relayWorkers)
			if err != nil {
				tb.Fatal(err)
			}
			p, err := StartKamailio(KamailioOptions{Bin: t.kamailio, Template: t.kamailioTmpl, WorkDir: dir, Port: port,
				PBX: pbx, Children: kamailioWorker, RtpengineSock: rt.NG.conn.RemoteAddr().String()})
			if err != nil {
				rt.Close()
				tb.Fatal(err)
			}
			return []*Proc{p, rt.Proc}, func() { p.Stop(5 * time.Second); rt.Close() }
		}})
	} else {
		tb.Log("rtpengine is not installed (Debian package rtpengine-daemon): comparing with Kamailio without media anchoring only")
	}
	if only := os.Getenv(SystemsEnv); only != "" {
		systems = slices.DeleteFunc(systems, func(s proxyUnderTest) bool { return !slices.Contains(strings.Split(only, ","), s.name) })
	}

	return systems
}

// BenchmarkProxyVsKamailio places the same calls through the edge (passthrough to the PBX, media
// anchored by its relay, SRTP off) and through a minimal stateful Kamailio proxy (and, when rtpengine
// is installed, Kamailio with rtpengine anchoring the media like the edge does), each between a sipp
// UAC and a sipp UAS over UDP on loopback. The UAC registers first (the edge needs a registered flow).
// Reported per system: completed calls per second (calls/s-*), CPU time of the proxy's processes per
// call (cpu-us/call-*), failed calls and retransmissions; ratio-* is calls/s of the edge divided by the
// anchor's (above 1: the edge is faster), cpu-ratio-* the edge's CPU per call divided by the anchor's
// (below 1: the edge is cheaper). Each system gets a fresh PBX and proxy; the order rotates.
func BenchmarkProxyVsKamailio(b *testing.B) {
	tools := lookupSIPTools(b)
	systems := proxySystems(b, tools)
	b.Run(fmt.Sprintf("udp/calls=%d", sipCalls), func(b *testing.B) {
		results := make([]SippResult, len(systems))
		cpu := make([]time.Duration, len(systems))
		iter := 0
		for b.Loop() {
			iter++
			for k := range systems {
				i := (k + iter - 1) % len(systems) // rotate who goes first
				r, c := runSIPLoad(b, systems[i], tools, sipCalls)
				results[i].Add(r)
				cpu[i] += c
			}
		}
		for i, s := range systems {
			r := results[i]
			if r.Successful == 0 {
				b.Fatalf("%s: no call completed (%d failed)", s.name, r.Failed)
			}
			b.ReportMetric(r.CallsPerSecond(), "calls/s-"+s.name)
			b.ReportMetric(float64(cpu[i].Microseconds())/float64(r.Successful), "cpu-us/call-"+s.name)
			b.ReportMetric(float64(r.Failed), "failed-"+s.name)
			b.ReportMetric(float64(r.Retransmissions), "retrans-"+s.name)
			if i > 0 && systems[0].name == "edge" {
				e := results[0]
				b.ReportMetric(e.CallsPerSecond()/r.CallsPerSecond(), "ratio-"+s.name)
				b.ReportMetric((float64(cpu[0])/float64(e.Successful))/(float64(cpu[i])/float64(r.Successful)), "cpu-ratio-"+s.name)
			}
		}
	})
}

// runSIPLoad starts a fresh sipp PBX and the proxy, registers the UAC's socket, places calls and
// returns the sipp result and the proxy processes' CPU time during the calls.
func runSIPLoad(tb testing.TB, s proxyUnderTest, t sipTools, calls int) (SippResult, time.Duration) {
	dir := tb.TempDir()
	ports := make([]int, 5)
	for i := range ports {
		var err error
		if i < 3 {
			ports[i], err = freeUDPPort()
		} else {
			ports[i], err = freeMediaBase()
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	pbxPort, proxyPort, uacPort, pbxMedia, uacMedia := ports[0], ports[1], ports[2], ports[3], ports[4]
	pbx, err := StartSippPBX(t.sipp, t.scenarios, dir, pbxPort, pbxMedia)
	if err != nil {
		tb.Fatal(err)
	}
	defer pbx.Stop(2 * time.Second)
	procs, stop := s.start(tb, dir, proxyPort, "127.0.0.1:"+strconv.Itoa(pbxPort))
	defer stop()
	target := "127.0.0.1:" + strconv.Itoa(proxyPort)

	// Register the UAC's socket (the edge binds the flow; the PBX target may need a probe first).
	var reg SippResult
	var why []string
	for try := 0; try < 10; try++ {
		reg, err = RunSippClient(t.sipp, filepath.Join(t.scenarios, "register.xml"), dir, target, uacPort, uacMedia,
			3*time.Second, "-m", "1", "-recv_timeout", "1000")
		if err == nil && reg.Successful == 1 {
			break
		}
		why = append(why, fmt.Sprintf("try %d: %v %s", try, err, reg.Errors))
		time.Sleep(250 * time.Millisecond)
	}
	if reg.Successful != 1 {
		tb.Fatalf("%s: REGISTER through the proxy failed:\n%s\nlast sipp output:\n%s\nproxy output:\n%s", s.name,
			strings.Join(why, "\n"), reg.Output, tail(procs[0].Output(), 3000))
	}

	cpu0 := groupCPU(tb, procs)
	res, err := RunSippClient(t.sipp, filepath.Join(t.scenarios, "uac.xml"), dir, target, uacPort, uacMedia, 120*time.Second,
		"-s", "1000", "-m", strconv.Itoa(calls), "-l", strconv.Itoa(sipConcurrent), "-r", "10000", "-rp", "1000",
		"-recv_timeout", "10000")
	if err != nil {
		tb.Fatalf("%s: %v", s.name, err)
	}
	cpu := groupCPU(tb, procs) - cpu0
	if res.Failed > 0 {
		var outs []string
		for _, p := range procs {
			outs = append(outs, p.Name+" output:\n"+tail(p.Output(), 2000))
		}
		tb.Logf("%s: %d of %d calls failed; sipp errors:\n%s\n%s", s.name, res.Failed, calls, res.Errors, strings.Join(outs, "\n"))
	}

	return res, cpu
}

func groupCPU(tb testing.TB, procs []*Proc) time.Duration {
	var total time.Duration
	for _, p := range procs {
		d, err := p.CPUTime()
		if err != nil {
			tb.Fatalf("%s: %v", p.Name, err)
		}
		total += d
	}
	return total
}
