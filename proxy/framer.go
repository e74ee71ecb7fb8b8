package proxy

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// errFraming closes a stream connection whose bytes cannot be split into SIP messages.
var errFraming = errors.New("stream framing lost")

// framer splits a TCP/TLS byte stream into SIP messages before sipgo sees it, so that a message that
// sipgo's parser rejects (a malformed header) is answered 400 Bad Request and skipped instead of
// costing the phone its connection. Bytes that cannot be framed at all (no SIP start line, a message
// over limits.max_message_size) still close the connection: there is no way to resynchronise.
type framer struct {
	buf    []byte
	max    int
	parser *sip.Parser
}

// feed takes the bytes of one read and returns the bytes to hand to sipgo and the raw messages to
// refuse with 400.
func (f *framer) feed(data []byte) (pass []byte, bad [][]byte, err error) {
	if len(f.buf) == 0 && len(bytes.Trim(data, "\r\n")) == 0 {
		return data, nil, nil // a CRLF keepalive ping: sipgo answers it
	}
	f.buf = append(f.buf, data...)
	for {
		f.buf = bytes.TrimLeft(f.buf, "\r\n")
		end := bytes.Index(f.buf, []byte("\r\n\r\n"))
		if end < 0 {
			if len(f.buf) > f.max {
				return pass, bad, errFraming
			}
			break
		}
		head := f.buf[:end+4]
		if !looksLikeSIP(head) {
			return pass, bad, errFraming
		}
		n, ok := contentLength(head)
		if !ok || end+4+n > f.max {
			return pass, bad, errFraming
		}
		if len(f.buf) < end+4+n {
			break
		}
		msg := f.buf[:end+4+n]
		if _, perr := f.parser.ParseSIP(msg); perr != nil {
			bad = append(bad, append([]byte(nil), msg...))
		} else {
			pass = append(pass, msg...)
		}
		f.buf = f.buf[end+4+n:]
	}
	if len(f.buf) == 0 {
		f.buf = nil
	}
	return pass, bad, nil
}

func looksLikeSIP(head []byte) bool {
	line, _, _ := bytes.Cut(head, []byte("\r\n"))
	return bytes.HasPrefix(line, []byte("SIP/")) || bytes.Contains(line, []byte(" SIP/"))
}

// contentLength finds Content-Length (or l) in a header block; a stream message without one has none.
func contentLength(head []byte) (int, bool) {
	for _, l := range strings.Split(string(head), "\r\n")[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if strings.EqualFold(k, "Content-Length") || k == "l" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return 0, false
			}
			return n, true
		}
	}
	return 0, true
}

// badRequestFor builds a 400 for a raw request sipgo cannot parse, from its raw Via, From, To, Call-ID
// and CSeq lines (RFC 3261 §8.1.3.1: the response must match the request). Responses get nothing.
func badRequestFor(raw []byte) []byte {
	lines := strings.Split(string(raw), "\r\n")
	if len(lines) == 0 || strings.HasPrefix(lines[0], "SIP/") || strings.HasPrefix(strings.ToUpper(lines[0]), "ACK ") {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	vias := 0
	for _, l := range lines[1:] {
		k, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "via", "v":
			vias++
			fallthrough
		case "from", "f", "to", "t", "call-id", "i", "cseq":
			if !strings.ContainsAny(l, "\x00") {
				b.WriteString(l)
				b.WriteString("\r\n")
			}
		}
	}
	if vias == 0 {
		return nil
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// streamFilter runs the framer of one access connection.
func (p *Proxy) streamFilter(transport, remote string, data []byte) ([]byte, error) {
	key := flowKey(transport, remote)
	v, _ := p.framers.LoadOrStore(key, &framer{max: p.cfg.Limits.MaxMessageSize, parser: p.accessParser})
	f := v.(*framer)
	pass, bad, err := f.feed(data)
	for _, m := range bad {
		p.m.malformed.WithLabelValues(sideAccess.String()).Inc()
		if res := badRequestFor(m); res != nil {
			if c, gerr := p.accessTP.GetConnection(strings.ToLower(transport), remote); gerr == nil {
				if w, ok := c.(io.Writer); ok {
					_, _ = w.Write(res)
				}
			}
		}
	}
	if err != nil {
		p.m.malformed.WithLabelValues(sideAccess.String()).Inc()
		return nil, err
	}
	if len(pass) == 0 {
		return nil, nil
	}
	return pass, nil
}
