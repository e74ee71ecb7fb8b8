package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/sipedge/sipedge/relay"
)

// ServeNG answers a subset of the rtpengine ng protocol on conn with the sipedge relay r, so that
// the benchmark drives both relays with the same control client: ping; offer (call-id, sdp: the
// caller is on the access side, the offer goes to the core side); answer (call-id, sdp, from the
// core side); delete (call-id). rtpengine-specific flags are ignored. It returns when conn is closed.
func ServeNG(conn net.PacketConn, r *relay.Relay) error {
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		cookie, body, ok := bytes.Cut(buf[:n], []byte(" "))
		if !ok {
			continue
		}
		reply := handleNG(r, body)
		out, err := Bencode(reply)
		if err != nil {
			continue
		}
		_, _ = conn.WriteTo(append(append(append([]byte{}, cookie...), ' '), out...), from)
	}
}

func handleNG(r *relay.Relay, body []byte) map[string]any {
	v, err := Bdecode(body)
	if err != nil {
		return ngError(err.Error())
	}
	m, ok := v.(map[string]any)
	if !ok {
		return ngError("message is not a dictionary")
	}
	cmd, _ := m["command"].(string)
	id, _ := m["call-id"].(string)
	sdpBody, _ := m["sdp"].(string)
	switch cmd {
	case "ping":
		return map[string]any{"result": "pong"}
	case "offer", "answer":
		if id == "" || sdpBody == "" {
			return ngError("call-id and sdp are required")
		}
		s := r.Session(id)
		var out []byte
		if cmd == "offer" {
			out, err = s.Offer(relay.Access, []byte(sdpBody), netip.Addr{})
		} else {
			out, err = s.Answer(relay.Core, []byte(sdpBody), netip.Addr{})
		}
		if err != nil {
			return ngError(err.Error())
		}
		return map[string]any{"result": "ok", "sdp": string(out)}
	case "delete":
		s, ok := r.Lookup(id)
		if !ok {
			return ngError(fmt.Sprintf("unknown call-id %q", id))
		}
		s.Close(relay.ReasonHangup)
		return map[string]any{"result": "ok"}
	default:
		return ngError(fmt.Sprintf("unsupported command %q", cmd))
	}
}

func ngError(reason string) map[string]any {
	return map[string]any{"result": "error", "error-reason": reason}
}
