package proxy_test

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/internal/edgetest"
	"github.com/sipedge/sipedge/internal/testpeers"
	"github.com/sipedge/sipedge/softphone"
)

// tap is a TCP relay between a phone and the edge that records every byte the edge sends to the phone.
type tap struct {
	ln   net.Listener
	mu   sync.Mutex
	down []byte
}

func startTap(t *testing.T, edgeAddr string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", edgeAddr)
			if err != nil {
				c.Close()
				return
			}
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(io.MultiWriter(c, tp), u); c.Close() }()
		}
	}()
	return tp
}

func (tp *tap) Write(p []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.down = append(tp.down, p...)
	return len(p), nil
}

func (tp *tap) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]byte(nil), tp.down...)
}

// Done-when 4: a capture of everything the edge sends to the access side holds no core-side address.
func TestNoCoreAddressReachesAccessSide(t *testing.T) {
	k := startPBX(t, "alice", "bob")
	e := startEdge(t, func(c *config.Config) { c.PBX.Targets = []string{"tcp://" + k.Addr("tcp")} })
	tp := startTap(t, e.TCP)
	acct := edgePhone(e, "alice", "pw-alice", "pbx.test")
	acct.Edge = "tcp://" + tp.ln.Addr().String()
	acct.NoRoute = true // the phone sends to the tap, which is not the edge's address
	alice := startPhone(t, acct)
	bob := deskPhone(t, k, "bob", 1000, "auto")
	aEv, stop := alice.Events(128)
	defer stop()
	ctx := ctxT(t, 30*time.Second)

	call := edgetest.CallDesk(t, ctx, alice, bob, "sip:bob@pbx.test", softphone.MediaOptions{Play: "tone:440"})
	if err := bob.Hold(); err != nil { // re-INVITE from the core side
		t.Fatal(err)
	}
	waitEvent(t, aEv, softphone.EventHold, call.ID(), 5*time.Second)
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, aEv, softphone.EventEnded, call.ID(), 5*time.Second)

	ac := incomingCall(t, bob, "sip:alice@pbx.test", alice, aEv)
	if err := ac.Answer(&softphone.MediaOptions{Play: "tone:440"}); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallEstablished)
	if err := ac.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitB(t, bob, 5*time.Second, testpeers.EventCallClosed)

	// Core-side addresses: the PBX (every port of it), the edge's core listener, the desk phone.
	forbidden := []string{
		net.JoinHostPort("127.0.0.1", strconv.Itoa(k.Port("tcp"))),
		net.JoinHostPort("127.0.0.1", strconv.Itoa(k.Port("udp"))),
		"127.0.0.2", // the edge's core address
		net.JoinHostPort("127.0.0.1", strconv.Itoa(bob.SIPPort())),
		"127.0.0.1:" + strconv.Itoa(bob.SIPPort()),
	}
	msgs := splitSIP(t, tp.bytes())
	t.Logf("%d messages captured toward the phone", len(msgs))
	kinds := map[string]int{}
	for _, m := range msgs {
		line, _, _ := strings.Cut(m, "\r\n")
		if f := strings.Fields(line); len(f) > 1 {
			if f[0] == "SIP/2.0" {
				kinds[f[1]]++
			} else {
				kinds[f[0]]++
			}
		}
	}
	// The capture must hold what the test exercised: the PBX's re-INVITE (hold) and incoming INVITE, its
	// BYE, and the 200s with Record-Route and Contact of both calls.
	if kinds["INVITE"] < 2 || kinds["BYE"] < 1 || kinds["200"] < 3 {
		t.Fatalf("capture incomplete: %v", kinds)
	}
	for _, m := range msgs {
		head := m
		if i := strings.Index(m, "\r\n\r\n"); i >= 0 {
			head = m[:i] // SDP bodies carry media addresses: anchored by the relay (media issue)
		}
		for _, f := range forbidden {
			if strings.Contains(head, f) {
				t.Errorf("core address %s sent to the phone in:\n%s", f, head)
			}
		}
	}
}

// splitSIP cuts a captured stream into messages.
func splitSIP(t *testing.T, b []byte) []string {
	var out []string
	s := string(b)
	for {
		s = strings.TrimLeft(s, "\r\n")
		i := strings.Index(s, "\r\n\r\n")
		if i < 0 {
			return out
		}
		n := 0
		for _, l := range strings.Split(s[:i], "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(strings.TrimSpace(k), "Content-Length") || strings.TrimSpace(k) == "l") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if len(s) < i+4+n {
			return out
		}
		out = append(out, s[:i+4+n])
		s = s[i+4+n:]
	}
}
