package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/sipedge/sipedge/internal/edgetest"
)

// sipClient speaks SIP by hand over one TLS or UDP connection from a chosen source address, for
// registrations and requests whose exact bytes and source matter; responses are read by edgetest.Raw.
type sipClient struct {
	t     *testing.T
	raw   *edgetest.Raw
	conn  net.Conn
	udp   bool
	seq   int
	tag   string
	cid   string
	UA    string
	Local string
	// Wait is how long register waits for each final response (default 3 s); shorten it where silence is
	// the expected outcome.
	Wait time.Duration
}

// dialSIP connects from local (an IP address) to remote over "tls" or "udp". A TLS connection that the
// edge refuses (a banned source) returns an error.
func dialSIP(t *testing.T, network, local, remote string) (*sipClient, error) {
	t.Helper()
	var c net.Conn
	var err error
	switch network {
	case "tls":
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 3 * time.Second}
		var raw net.Conn
		if raw, err = d.Dial("tcp", remote); err != nil {
			return nil, err
		}
		tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true}) // the test edge's self-signed cert
		raw.SetDeadline(time.Now().Add(3 * time.Second))
		if err = tc.Handshake(); err != nil {
			raw.Close()
			return nil, err
		}
		raw.SetDeadline(time.Time{})
		c = tc
	case "udp":
		d := net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(local)}}
		if c, err = d.Dial("udp", remote); err != nil {
			return nil, err
		}
	default:
		t.Fatalf("dialSIP: network %q", network)
	}
	return &sipClient{t: t, raw: edgetest.RawFromConn(t, c, network == "udp"), conn: c, udp: network == "udp", tag: sip.GenerateTagN(8),
		cid: sip.GenerateTagN(16), UA: "e2e-raw-client/1.0", Local: c.LocalAddr().String(), Wait: 3 * time.Second}, nil
}

func mustDialSIP(t *testing.T, network, local, remote string) *sipClient {
	t.Helper()
	c, err := dialSIP(t, network, local, remote)
	if err != nil {
		t.Fatalf("dial %s %s from %s: %v", network, remote, local, err)
	}
	return c
}

// send writes msg; false when the connection is gone.
func (c *sipClient) send(msg string) bool {
	_, err := c.conn.Write([]byte(msg))
	return err == nil
}

// request builds a request from this client (Call-ID and From tag fixed per client, CSeq counting up).
func (c *sipClient) request(method, ruri, from, to, extra string) string {
	c.seq++
	tr := "TLS"
	if c.udp {
		tr = "UDP"
	}
	host, port, _ := net.SplitHostPort(c.Local)
	user := strings.TrimPrefix(strings.Split(from, "@")[0], "sip:")
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s:%s;branch=z9hG4bK%s;rport\r\n", tr, host, port, sip.GenerateTagN(10))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", from, c.tag)
	fmt.Fprintf(&b, "To: <%s>\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", c.cid)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", c.seq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s:%s;transport=%s>\r\n", user, host, port, strings.ToLower(tr))
	fmt.Fprintf(&b, "User-Agent: %s\r\n", c.UA)
	b.WriteString(extra)
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// final returns the first final response within d (nil: none, or a closed connection).
func (c *sipClient) final(d time.Duration) *sip.Response { return c.raw.ReadFinal(d) }

// register registers user@domain with password, answering one digest challenge; it returns the final
// response (nil: no answer, e.g. dropped).
func (c *sipClient) register(user, password string) *sip.Response {
	c.t.Helper()
	aor := "sip:" + user + "@" + domain
	extra := "Expires: 60\r\nSupported: path, outbound\r\n"
	if !c.send(c.request("REGISTER", "sip:"+domain, aor, aor, extra)) {
		return nil
	}
	res := c.final(c.Wait)
	if res == nil || res.StatusCode != 401 {
		return res
	}
	var chal *digest.Challenge
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		if ch, err := digest.ParseChallenge(h.Value()); err == nil && (ch.Algorithm == "" || ch.Algorithm == "MD5") {
			chal = ch
		}
	}
	if chal == nil {
		c.t.Fatalf("no MD5 challenge in %s", res.StartLine())
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + domain, Username: user,
		Password: password, Count: 1})
	if err != nil {
		c.t.Fatal(err)
	}
	if !c.send(c.request("REGISTER", "sip:"+domain, aor, aor, extra+"Authorization: "+cred.String()+"\r\n")) {
		return nil
	}
	return c.final(c.Wait)
}

// status is a response's code, 0 for none.
func status(r *sip.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}
