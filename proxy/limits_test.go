package proxy_test

import (
	"crypto/tls"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/sipedge/sipedge/config"
)

func standaloneEdge(t *testing.T, mut func(c *config.Config)) *testEdge {
	return startEdge(t, func(c *config.Config) {
		if mut != nil {
			mut(c)
		}
	})
}

// The per-IP connection cap refuses connections beyond the limit before any TLS or SIP is read.
func TestConnectionCapPerIP(t *testing.T) {
	e := standaloneEdge(t, func(c *config.Config) { c.Limits.MaxConnectionsPerIP = 3 })
	var conns []*tls.Conn
	for i := 0; i < 3; i++ {
		c, err := tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		conns = append(conns, c)
		defer c.Close()
	}
	c, err := tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		c.SetReadDeadline(time.Now().Add(time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("4th connection from the same IP was served")
	}
	conns[0].Close()
	time.Sleep(100 * time.Millisecond)
	c, err = tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("a slot freed by a close is not reusable: %v", err)
	}
	c.Close()
}

// A connection that never finishes the TLS handshake is closed after tls_handshake_timeout; one that
// goes silent after the handshake is closed after read_timeout; a CRLF ping is answered with a pong.
func TestHandshakeAndIdleTimeoutsAndKeepalive(t *testing.T) {
	e := standaloneEdge(t, func(c *config.Config) {
		c.Limits.TLSHandshakeTimeout = config.Duration(300 * time.Millisecond)
		c.Limits.ReadTimeout = config.Duration(time.Second)
	})
	raw, err := net.Dial("tcp", e.TLS)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	if _, err := raw.Read(make([]byte, 1)); err == nil {
		t.Fatal("silent TCP connection got data")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("silent TCP connection was not closed by the handshake timeout")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("closed after %v, want about 300ms", el)
	}

	c, err := tls.Dial("tcp", e.TLS, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 8)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "\r\n" {
		t.Fatalf("CRLF ping: got %q, %v; want a CRLF pong", buf[:n], err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	start = time.Now()
	if _, err := c.Read(buf); err == nil {
		t.Fatal("idle connection got data")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("idle connection was not closed by read_timeout")
	}
	if el := time.Since(start); el < 500*time.Millisecond || el > 2500*time.Millisecond {
		t.Errorf("idle connection closed after %v, want about 1s", el)
	}
}

// A STUN binding request on the UDP access port (RFC 5626 keepalive) gets a binding response with the
// sender's address.
func TestSTUNKeepaliveOnUDP(t *testing.T) {
	e := standaloneEdge(t, nil)
	c, err := net.Dial("udp", e.UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := make([]byte, 20)
	binary.BigEndian.PutUint16(req[0:2], 0x0001)
	binary.BigEndian.PutUint32(req[4:8], 0x2112A442)
	copy(req[8:20], "transaction1")
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no STUN response: %v", err)
	}
	resp := buf[:n]
	if n < 32 || binary.BigEndian.Uint16(resp[0:2]) != 0x0101 || string(resp[8:20]) != "transaction1" {
		t.Fatalf("bad STUN response % x", resp)
	}
	port := binary.BigEndian.Uint16(resp[26:28]) ^ 0x2112
	ip := net.IPv4(resp[28]^0x21, resp[29]^0x12, resp[30]^0xA4, resp[31]^0x42)
	la := c.LocalAddr().(*net.UDPAddr)
	if int(port) != la.Port || !ip.Equal(la.IP) {
		t.Errorf("XOR-MAPPED-ADDRESS %s:%d, want %s", ip, port, la)
	}
}
