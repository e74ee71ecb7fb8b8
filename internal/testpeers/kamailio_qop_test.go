package testpeers

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestKamailioDigestQOP(t *testing.T) {
	Require(t, "kamailio")
	for _, qop := range []bool{false, true} {
		t.Run(fmt.Sprint("qop=", qop), func(t *testing.T) {
			k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "secret"}, DigestQOP: qop})
			u := newRawUA(t)
			u.send(k.Addr("udp"), "REGISTER sip:"+k.Addr("udp")+" SIP/2.0\r\n"+
				fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n", u.port, randHex(6))+
				"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\n"+
				"Call-ID: "+randHex(8)+"\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
			code, resp := u.readResponse(3 * time.Second)
			if code != 401 {
				t.Fatalf("status %d, want 401", code)
			}
			if got := strings.Contains(header(resp, "WWW-Authenticate"), `qop="auth"`); got != qop {
				t.Fatalf("challenge %q: qop offered = %v, want %v", header(resp, "WWW-Authenticate"), got, qop)
			}
			contact := fmt.Sprintf("<sip:alice@127.0.0.1:%d>", u.port)
			if code, resp := u.register(k, "alice", "secret", contact, ""); code != 200 {
				t.Fatalf("register: status %d\n%s", code, resp)
			}
		})
	}
}
