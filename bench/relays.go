package bench

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"
)

// Port ranges of the two relays (disjoint, so a port never moves from one to the other).
const (
	edgeRelayPorts = "30000-34999"
	rtpenginePorts = "40000-44999"
)

// StartEdgeRelay starts the sipedge relay in a child process with the given access-side SRTP mode
// (relay.SRTPOff, relay.SRTPRequired, ...) and connects an ng client to it.
func StartEdgeRelay(srtp string) (*RelayUnderTest, error) {
	p, addr, err := startChild("relay", envRelaySRTP+"="+srtp, envRelayPorts+"="+edgeRelayPorts)
	if err != nil {
		return nil, err
	}
	ng, err := DialNG(addr)
	if err != nil {
		p.Stop(time.Second)
		return nil, err
	}

	return &RelayUnderTest{Name: "edge", NG: ng, Proc: p}, nil
}

// StartRtpengine starts rtpengine (binary path bin) in userspace mode (no kernel table) on
// 127.0.0.1 with the given number of worker threads, and waits until it answers an ng ping. The
// offer flags make the leg toward the PBX plain RTP in the SRTP modes, as the edge does.
func StartRtpengine(bin, mode string, threads int) (*RelayUnderTest, error) {
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	lo, hi, _ := parseRange(rtpenginePorts)
	ngAddr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--config-file=none", "--foreground", "--log-stderr", "--log-level=3",
		"--table=-1", "--interface=127.0.0.1", "--listen-ng="+ngAddr,
		"--port-min="+strconv.Itoa(lo), "--port-max="+strconv.Itoa(hi),
		"--num-threads="+strconv.Itoa(threads), "--delete-delay=0", "--timeout=600")
	p, err := StartProc("rtpengine", cmd)
	if err != nil {
		return nil, err
	}
	ng, err := DialNG(ngAddr)
	if err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err = ng.Call(map[string]any{"command": "ping"}, 300*time.Millisecond); err == nil {
			break
		}
		if p.Exited() || time.Now().After(deadline) {
			_ = ng.Close()
			p.Stop(time.Second)
			return nil, fmt.Errorf("%w: rtpengine did not answer ping: %v\n%s", ErrProcess, err, p.Output())
		}
	}
	rt := &RelayUnderTest{Name: "rtpengine", NG: ng, Proc: p,
		OfferFlags: map[string]any{"ICE": "remove"}, AnswerFlags: map[string]any{"ICE": "remove"}}
	if mode != ModeRTP {
		rt.OfferFlags["transport-protocol"] = "RTP/AVP"
	}

	return rt, nil
}

// Close stops the relay's process.
func (rt *RelayUnderTest) Close() {
	_ = rt.NG.Close()
	rt.Proc.Stop(3 * time.Second)
}

// Ports the harness chooses itself (SIP listeners, the rtpengine control socket, sipp's media
// sockets) come from ranges below the kernel's ephemeral range (32768 and up by default), so that no
// socket the kernel numbers takes one between choosing and binding, and away from the relays' media
// ranges: Kamailio and rtpengine both set SO_REUSEADDR, so an rtpengine media port equal to Kamailio's
// SIP port would silently steal its traffic.
const (
	sipPortLo, sipPortHi     = 21000, 23999
	mediaPortLo, mediaPortHi = 24000, 29999
)

var nextPort atomic.Uint32

// freePorts returns a port p in [lo, hi] (even if n > 1) such that p..p+n-1 are free on 127.0.0.1
// at the moment of the call. Consecutive calls return different ports.
func freePorts(lo, hi, n int) (int, error) {
	span := (hi - lo + 1) / n
	for range 500 {
		p := lo + n*int(nextPort.Add(1)%uint32(span))
		var held []net.PacketConn
		for i := range n {
			c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				break
			}
			held = append(held, c)
		}
		ok := len(held) == n
		for _, c := range held {
			_ = c.Close()
		}
		if ok {
			return p, nil
		}
	}

	return 0, fmt.Errorf("%w: no %d free ports in %d-%d", ErrProcess, n, lo, hi)
}

// freeUDPPort returns a UDP port for a SIP listener or control socket on 127.0.0.1.
func freeUDPPort() (int, error) { return freePorts(sipPortLo, sipPortHi, 1) }

// freeMediaBase returns an even port with it and the next three free, for sipp's -mp (sipp binds
// audio and video RTP and RTCP next to it).
func freeMediaBase() (int, error) { return freePorts(mediaPortLo, mediaPortHi, 4) }
