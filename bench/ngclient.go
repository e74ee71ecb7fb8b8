package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"time"
)

// NGClient speaks the rtpengine ng control protocol (bencoded dictionaries over UDP, each message
// prefixed by a cookie) to one server. It is not safe for concurrent use.
type NGClient struct {
	conn *net.UDPConn
	buf  []byte
}

// DialNG connects to an ng server at addr (host:port, UDP).
func DialNG(addr string) (*NGClient, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNG, err)
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNG, err)
	}

	return &NGClient{conn: c, buf: make([]byte, 65536)}, nil
}

// Close closes the client's socket.
func (c *NGClient) Close() error { return c.conn.Close() }

// Call sends cmd and returns the reply dictionary. It resends the same message (same cookie) up to
// three times within timeout and fails unless the result is "ok" or "pong".
func (c *NGClient) Call(cmd map[string]any, timeout time.Duration) (map[string]any, error) {
	body, err := Bencode(cmd)
	if err != nil {
		return nil, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	cookie := hex.EncodeToString(rnd[:])
	msg := append([]byte(cookie+" "), body...)
	deadline := time.Now().Add(timeout)
	for try := 0; try < 3; try++ {
		if _, err := c.conn.Write(msg); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNG, err)
		}
		next := time.Now().Add(timeout / 3)
		if try == 2 || next.After(deadline) {
			next = deadline
		}
		_ = c.conn.SetReadDeadline(next)
		for {
			n, err := c.conn.Read(c.buf)
			if err != nil {
				break // timeout: resend
			}
			reply, ok := bytes.CutPrefix(c.buf[:n], []byte(cookie+" "))
			if !ok {
				continue // a late answer to an earlier message
			}
			return checkNGReply(cmd["command"], reply)
		}
	}

	return nil, fmt.Errorf("%w: no answer to %v within %v", ErrNG, cmd["command"], timeout)
}

func checkNGReply(command any, reply []byte) (map[string]any, error) {
	v, err := Bdecode(reply)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: reply to %v is not a dictionary", ErrNG, command)
	}
	switch m["result"] {
	case "ok", "pong":
		return m, nil
	default:
		return m, fmt.Errorf("%w: %v: %v (%v)", ErrNG, command, m["result"], m["error-reason"])
	}
}
