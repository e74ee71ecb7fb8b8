package edgetest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Raw speaks SIP by hand over one TLS, TCP or UDP connection, for tests that need exact control
// of the bytes (identity checks, dead flows, malformed input).
type Raw struct {
	t     *testing.T
	Conn  net.Conn
	udp   bool
	r     *bufio.Reader
	seq   int
	tag   string
	cid   string
	Local string
}

func DialRaw(t *testing.T, network, addr string) *Raw {
	t.Helper()
	var c net.Conn
	var err error
	switch network {
	case "tls":
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the test edge's self-signed cert
	default:
		c, err = net.Dial(network, addr)
	}
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	return RawFromConn(t, c, network == "udp")
}

func RawFromConn(t *testing.T, c net.Conn, udp bool) *Raw {
	t.Cleanup(func() { c.Close() })
	return &Raw{t: t, Conn: c, udp: udp, r: bufio.NewReader(c), tag: sip.GenerateTagN(8),
		cid: sip.GenerateTagN(16), Local: c.LocalAddr().String()}
}

func (c *Raw) Send(msg string) {
	c.t.Helper()
	if _, err := c.Conn.Write([]byte(msg)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next SIP response (skipping CRLF keepalive pongs); nil on timeout or close.
func (c *Raw) Read(d time.Duration) *sip.Response {
	c.t.Helper()
	res, _ := c.ReadMsg(d).(*sip.Response)
	return res
}

// readRequest returns the next SIP request; nil on timeout or close.
func (c *Raw) ReadRequest(d time.Duration) *sip.Request {
	c.t.Helper()
	req, _ := c.ReadMsg(d).(*sip.Request)
	return req
}

// Respond answers req with status (To tag added, our Contact) and extra header lines.
func (c *Raw) Respond(req *sip.Request, status int, reason, extra string) {
	c.t.Helper()
	c.RespondBody(req, status, reason, extra, "")
}

// RespondBody is Respond with a body (extra must then carry its Content-Type).
func (c *Raw) RespondBody(req *sip.Request, status int, reason, extra, body string) {
	c.t.Helper()
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	if to := res.To(); to != nil && to.Params != nil {
		if _, ok := to.Params.Get("tag"); !ok {
			to.Params.Add("tag", c.tag)
		}
	}
	var b strings.Builder
	res.StringWrite(&b)
	head := strings.TrimSuffix(b.String(), "\r\n\r\n")
	head = strings.Replace(head, "Content-Length: 0", fmt.Sprintf("Content-Length: %d", len(body)), 1)
	c.Send(head + "\r\nContact: <sip:" + c.Local + ";transport=tls>\r\n" + extra + "\r\n" + body)
}

func (c *Raw) ReadMsg(d time.Duration) sip.Message {
	c.t.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(d))
	if c.udp {
		buf := make([]byte, 65535)
		n, err := c.Conn.Read(buf)
		if err != nil {
			return nil
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			c.t.Fatalf("parse: %v", err)
		}
		return m
	}
	var head strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return nil
		}
		if head.Len() == 0 && (line == "\r\n" || line == "\n") {
			continue
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	h := head.String()
	n := 0
	for _, l := range strings.Split(h, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(k, "Content-Length") || k == "l") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return nil
	}
	m, err := sip.ParseMessage(append([]byte(h), body...))
	if err != nil { // e.g. a 400 that echoes the broken From it refuses: keep the status line
		f := strings.Fields(strings.SplitN(h, "\r\n", 2)[0])
		if len(f) < 3 || f[0] != "SIP/2.0" {
			c.t.Fatalf("parse response: %v\n%s", err, h)
		}
		code, _ := strconv.Atoi(f[1])
		return sip.NewResponse(code, strings.Join(f[2:], " "))
	}
	return m
}

// readFinal returns the first final response.
func (c *Raw) ReadFinal(d time.Duration) *sip.Response {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		r := c.Read(time.Until(deadline))
		if r == nil {
			return nil
		}
		if r.StatusCode >= 200 {
			return r
		}
	}
	return nil
}

// request builds a request from this client.
func (c *Raw) Request(method, ruri, from, to, extra, body string) string {
	c.seq++
	tr := "TLS"
	if c.udp {
		tr = "UDP"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n", tr, c.Local, sip.GenerateTagN(10))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", from, c.tag)
	fmt.Fprintf(&b, "To: <%s>\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", c.cid)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", c.seq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s;transport=%s>\r\n", strings.TrimPrefix(strings.Split(from, "@")[0], "sip:"), c.Local, strings.ToLower(tr))
	b.WriteString(extra)
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// Ack builds the ACK for a 2xx to this client's INVITE: Request-URI from the Contact, Route from the
// Record-Route set reversed (RFC 3261 §12.1.2, §13.2.2.4).
func (c *Raw) Ack(res *sip.Response) string {
	tr := "TLS"
	if c.udp {
		tr = "UDP"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ACK %s SIP/2.0\r\n", res.Contact().Address.String())
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n", tr, c.Local, sip.GenerateTagN(10))
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "Route: %s\r\n", rr[i].Value())
	}
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
		res.From().Value(), res.To().Value(), res.CallID().Value(), res.CSeq().SeqNo)
	return b.String()
}

// register registers user@domain through the edge, answering one digest challenge.
func (c *Raw) Register(user, password, domain string) *sip.Response {
	c.t.Helper()
	aor := "sip:" + user + "@" + domain
	return c.Do("REGISTER", "sip:"+domain, aor, aor, "Expires: 300\r\nSupported: path, outbound\r\n", "", user, password)
}

// do sends a request and answers one digest challenge (401 or 407) with user's password; it returns the
// final response.
func (c *Raw) Do(method, ruri, from, to, extra, body, user, password string) *sip.Response {
	c.t.Helper()
	c.Send(c.Request(method, ruri, from, to, extra, body))
	res := c.ReadFinal(5 * time.Second)
	if res == nil || (res.StatusCode != 401 && res.StatusCode != 407) {
		return res
	}
	hname, aname := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		hname, aname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chal *digest.Challenge
	for _, h := range res.GetHeaders(hname) {
		ch, err := digest.ParseChallenge(h.Value())
		if err == nil && (ch.Algorithm == "" || ch.Algorithm == "MD5") {
			chal = ch
		}
	}
	if chal == nil {
		c.t.Fatalf("no MD5 challenge in %s", res.StartLine())
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: ruri, Username: user, Password: password, Count: 1})
	if err != nil {
		c.t.Fatal(err)
	}
	c.Send(c.Request(method, ruri, from, to, extra+aname+": "+cred.String()+"\r\n", body))
	return c.ReadFinal(5 * time.Second)
}

// TestSDP is an SRTP offer (media.srtp defaults to required).
const TestSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 0\r\n" +
	"a=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
