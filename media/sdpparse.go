package media

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// ParseSDP parses an SDP body with pion/sdp/v3, accepting media sections pion itself refuses.
//
// pion/sdp/v3 refuses m= lines whose media or transport is not in its IANA list, so a T.38
// re-INVITE ("m=image 4000 udptl t38") or a lower-case "rtp/avp" would fail the whole body. ParseSDP
// replaces such lines by "m=application <port> UDP <fmt>" before parsing and puts the original media
// and transport back afterwards, so callers see every section as sent and can answer the ones they do
// not handle with port 0. Errors wrap ErrSDP.
func ParseSDP(body []byte) (*sdp.SessionDescription, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrSDP)
	}
	masked, orig := maskMediaLines(body)
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(masked); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSDP, err)
	}
	for i, o := range orig {
		if o.media != "" && i < len(sd.MediaDescriptions) {
			sd.MediaDescriptions[i].MediaName.Media = o.media
			sd.MediaDescriptions[i].MediaName.Protos = strings.Split(o.proto, "/")
		}
	}

	return &sd, nil
}

var (
	pionMedia  = []string{"audio", "video", "text", "application", "message"}
	pionProtos = []string{"UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP", "MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC"}
)

// maskedLine is the original media and transport of an m= line that was masked (empty if it was not).
type maskedLine struct{ media, proto string }

func maskMediaLines(body []byte) ([]byte, []maskedLine) {
	var (
		orig    []maskedLine
		out     []byte
		changed bool
	)
	rest := body
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, '\n')
		line := rest
		if end >= 0 {
			line, rest = rest[:end+1], rest[end+1:]
		} else {
			rest = nil
		}
		if bytes.HasPrefix(line, []byte("m=")) {
			f := strings.Fields(string(line[2:]))
			orig = append(orig, maskedLine{})
			if len(f) >= 3 && (!slices.Contains(pionMedia, f[0]) || !allIn(strings.Split(f[2], "/"), pionProtos)) {
				orig[len(orig)-1] = maskedLine{media: f[0], proto: f[2]}
				if !changed {
					out = append(make([]byte, 0, len(body)+16), body[:len(body)-len(rest)-len(line)]...)
					changed = true
				}
				out = append(out, "m=application "+f[1]+" UDP "+strings.Join(f[3:], " ")+"\r\n"...)
				continue
			}
		}
		if changed {
			out = append(out, line...)
		}
	}
	if !changed {
		return body, orig
	}

	return out, orig
}

func allIn(xs, set []string) bool {
	for _, x := range xs {
		if !slices.Contains(set, x) {
			return false
		}
	}

	return true
}
