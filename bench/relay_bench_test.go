package bench

import (
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/sipedge/sipedge/relay"
)

// relayWorkers is the number of rtpengine worker threads; the edge's child runs with GOMAXPROCS at
// its default (the machine's cores), so both may use every core.
const relayWorkers = 2

// BenchmarkRelayVsRtpengine relays the same media load through the sipedge relay and through
// rtpengine (userspace), one after the other in each iteration (the order alternates), and reports
// for each: wall time per packet at saturation (ns/pkt-*, from packets/s with 128 in flight), the
// relay process's CPU time per packet at saturation (cpu-ns/pkt-*) and at real-time pace
// (paced-cpu-ns/pkt-*), one-way latency through the relay at real-time pace (p50-us-*, p99-us-*,
// max-us-*) and loss. ratio is the edge's packets/s divided by rtpengine's (above 1: the edge forwards more);
// cpu-ratio and paced-cpu-ratio are the edge's CPU per packet divided by rtpengine's (below 1: the
// edge is cheaper).
func BenchmarkRelayVsRtpengine(b *testing.B) {
	bin, err := exec.LookPath("rtpengine")
	if err != nil {
		b.Skip("rtpengine is not installed (Debian package rtpengine-daemon): no anchor to compare the relay with")
	}
	for _, mode := range []string{ModeRTP, ModeRTPtoSRTP, ModeSRTPtoRTP} {
		for _, n := range []int{50, 200} {
			b.Run(fmt.Sprintf("%s/sessions=%d", mode, n), func(b *testing.B) {
				spec := LoadSpec{Mode: mode, Sessions: n, FloodPackets: 40000, Window: 128, Paced: time.Second}
				srtp := relay.SRTPRequired
				if mode == ModeRTP {
					srtp = relay.SRTPOff
				}
				edge, err := StartEdgeRelay(srtp)
				if err != nil {
					b.Fatal(err)
				}
				defer edge.Close()
				anchor, err := StartRtpengine(bin, mode, relayWorkers)
				if err != nil {
					b.Fatal(err)
				}
				defer anchor.Close()
				var er, ar LoadResult
				iter := 0
				for b.Loop() {
					iter++
					order := []*RelayUnderTest{edge, anchor}
					if iter%2 == 0 {
						order[0], order[1] = anchor, edge
					}
					for _, rt := range order {
						r, err := RunLoad(rt, spec, fmt.Sprintf("%s-%d", rt.Name, iter))
						if err != nil {
							b.Fatalf("%v\n%s output:\n%s", err, rt.Name, rt.Proc.Output())
						}
						if rt == edge {
							er.Add(r)
						} else {
							ar.Add(r)
						}
					}
				}
				reportRelay(b, er, ar)
			})
		}
	}
}

func reportRelay(b *testing.B, edge, anchor LoadResult) {
	for _, x := range []struct {
		name string
		r    LoadResult
	}{{"edge", edge}, {"rtpengine", anchor}} {
		if x.r.VerifyFailures > 0 {
			b.Errorf("%s: %d warm-up packets arrived altered or undecryptable", x.name, x.r.VerifyFailures)
		}
		b.ReportMetric(1e9/x.r.PacketsPerSecond(), "ns/pkt-"+x.name)
		b.ReportMetric(x.r.CPUPerPacket(), "cpu-ns/pkt-"+x.name)
		b.ReportMetric(x.r.PacedCPUPerPacket(), "paced-cpu-ns/pkt-"+x.name)
		b.ReportMetric(float64(x.r.Percentile(50).Microseconds()), "p50-us-"+x.name)
		b.ReportMetric(float64(x.r.Percentile(99).Microseconds()), "p99-us-"+x.name)
		b.ReportMetric(float64(x.r.Percentile(100).Microseconds()), "max-us-"+x.name)
		b.ReportMetric(100*x.r.Loss(), "loss-%-"+x.name)
	}
	b.ReportMetric(edge.PacketsPerSecond()/anchor.PacketsPerSecond(), "ratio")
	b.ReportMetric(edge.CPUPerPacket()/anchor.CPUPerPacket(), "cpu-ratio")
	b.ReportMetric(edge.PacedCPUPerPacket()/anchor.PacedCPUPerPacket(), "paced-cpu-ratio")
}
