package testpeers

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawUA is a minimal SIP UA over UDP for tests that need exact headers (Path, Supported) that no phone
// sends. It plays both a phone registering through a proxy and that proxy receiving the calls.
type rawUA struct {
	t    *testing.T
	conn *net.UDPConn
	port int
	cseq int
}

func newRawUA(t *testing.T) *rawUA {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rawUA{t: t, conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (u *rawUA) send(to string, msg string) {
	u.t.Helper()
	addr, err := net.ResolveUDPAddr("udp4", to)
	if err != nil {
		u.t.Fatal(err)
	}
	if _, err := u.conn.WriteToUDP([]byte(msg), addr); err != nil {
		u.t.Fatal(err)
	}
}

// read returns the next SIP message, skipping provisional 100 Trying when skip100 is set.
func (u *rawUA) read(timeout time.Duration) (string, error) {
	buf := make([]byte, 65535)
	_ = u.conn.SetReadDeadline(time.Now().Add(timeout))
	n, _, err := u.conn.ReadFromUDP(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func (u *rawUA) readResponse(timeout time.Duration) (int, string) {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg, err := u.read(time.Until(deadline))
		if err != nil {
			u.t.Fatalf("no SIP response: %v", err)
		}
		code := statusCode(msg)
		if code >= 200 {
			return code, msg
		}
	}
}

func statusCode(msg string) int {
	if !strings.HasPrefix(msg, "SIP/2.0 ") || len(msg) < 11 {
		return 0
	}
	c, _ := strconv.Atoi(msg[8:11])
	return c
}

// header returns the first value of a header (case-insensitive name).
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n")[1:] {
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

var authParam = regexp.MustCompile(`(\w+)="?([^",]*)"?`)

// digestAuthorization answers a WWW-Authenticate challenge (MD5, qop=auth or none).
func digestAuthorization(challenge, method, uri, user, pass string) string {
	params := map[string]string{}
	for _, m := range authParam.FindAllStringSubmatch(strings.TrimPrefix(challenge, "Digest "), -1) {
		params[strings.ToLower(m[1])] = m[2]
	}
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := h(user + ":" + params["realm"] + ":" + pass)
	ha2 := h(method + ":" + uri)
	if strings.Contains(params["qop"], "auth") {
		cnonce := randHex(8)
		resp := h(ha1 + ":" + params["nonce"] + ":00000001:" + cnonce + ":auth:" + ha2)
		return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"`,
			user, params["realm"], params["nonce"], uri, resp, cnonce)
	}
	resp := h(ha1 + ":" + params["nonce"] + ":" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5`,
		user, params["realm"], params["nonce"], uri, resp)
}

// register sends a REGISTER for user to Kamailio over UDP, answering the digest challenge. extra holds
// additional header lines (each ending in CRLF). It returns the final status and response.
func (u *rawUA) register(k *Kamailio, user, pass, contact, extra string) (int, string) {
	u.t.Helper()
	return u.request(k, "REGISTER", "sip:"+k.Addr("udp"), user, pass,
		"Contact: "+contact+"\r\nExpires: 300\r\n"+extra, "")
}

// request sends an out-of-dialog request from user to Kamailio over UDP, answering one digest challenge
// (401 or 407), and returns the final status and response. To is the Request-URI.
func (u *rawUA) request(k *Kamailio, method, ruri, user, pass, extra, body string) (int, string) {
	u.t.Helper()
	callID := randHex(8)
	fromTag := randHex(4)
	to := ruri
	if method == "REGISTER" {
		to = fmt.Sprintf("sip:%s@%s", user, k.Domain())
	}
	auth := ""
	for range 2 {
		u.cseq++
		msg := method + " " + ruri + " SIP/2.0\r\n" +
			fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n", u.port, randHex(6)) +
			"Max-Forwards: 70\r\n" +
			fmt.Sprintf("From: <sip:%s@%s>;tag=%s\r\n", user, k.Domain(), fromTag) +
			"To: <" + to + ">\r\n" +
			"Call-ID: " + callID + "\r\n" +
			fmt.Sprintf("CSeq: %d %s\r\n", u.cseq, method) +
			auth + extra +
			fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
		u.send(k.Addr("udp"), msg)
		code, resp := u.readResponse(3 * time.Second)
		if (code != 401 && code != 407) || auth != "" {
			return code, resp
		}
		if code == 401 {
			auth = "Authorization: " + digestAuthorization(header(resp, "WWW-Authenticate"), method, ruri, user, pass) + "\r\n"
		} else {
			auth = "Proxy-Authorization: " + digestAuthorization(header(resp, "Proxy-Authenticate"), method, ruri, user, pass) + "\r\n"
		}
	}
	return 0, ""
}

// replyTo answers a request with a status, copying the headers a response needs.
func (u *rawUA) replyTo(to string, req string, status int, reason string) {
	u.t.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "SIP/2.0 %d %s\r\n", status, reason)
	for _, line := range strings.Split(req, "\r\n")[1:] {
		if line == "" {
			break
		}
		k, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "via", "v", "from", "f", "call-id", "i", "cseq", "record-route":
			sb.WriteString(line + "\r\n")
		case "to", "t":
			if !strings.Contains(line, "tag=") {
				line += ";tag=" + randHex(4)
			}
			sb.WriteString(line + "\r\n")
		}
	}
	sb.WriteString("Content-Length: 0\r\n\r\n")
	u.send(to, sb.String())
}
