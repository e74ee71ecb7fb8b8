package sipcheck

import (
	"testing"
)

func okHeaders() []string {
	return []string{
		"Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKedge1;received=203.0.113.5",
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
		"To: Bob <sip:bob@example.com>;tag=a6c85cf",
		`From: "Alice" <sip:alice@example.com>;tag=1928301774`,
		"Call-ID: a84b4c76e66710@pc33.example.com",
		"CSeq: 314159 INVITE",
		"Contact: <sip:bob@192.0.2.4>",
	}
}

func TestResponseTable(t *testing.T) {
	tests := []struct {
		name   string
		start  string
		edits  []edit
		body   string
		status int
		kind   error
		detail string
	}{
		{name: "200 OK"},
		{name: "200 OK with SDP", edits: []edit{add("Content-Type: application/sdp")}, body: testSDP},
		{name: "100 Trying", start: "SIP/2.0 100 Trying"},
		{name: "699", start: "SIP/2.0 699 Whatever"},
		{name: "empty reason", start: "SIP/2.0 180 "},
		{name: "status 700", start: "SIP/2.0 700 Nope", status: 400, kind: ErrStatusCode, detail: "700"},
		{name: "status 99", start: "SIP/2.0 99 Nope", status: 400, kind: ErrStatusCode, detail: "99"},
		{name: "version", start: "SIP/1.0 200 OK", status: 505, kind: ErrVersion},
		{name: "NUL in reason", start: "SIP/2.0 200 O\x00K", status: 400, kind: ErrHeaderValue, detail: "reason"},
		{name: "no CSeq", edits: []edit{set("CSeq", "")}, status: 400, kind: ErrMissingHeader, detail: "CSeq"},
		{name: "no Call-ID", edits: []edit{set("Call-ID", "")}, status: 400, kind: ErrMissingHeader, detail: "Call-ID"},
		{name: "no From", edits: []edit{set("From", "")}, status: 400, kind: ErrMissingHeader, detail: "From"},
		{name: "no To", edits: []edit{set("To", "")}, status: 400, kind: ErrMissingHeader, detail: "To"},
		{name: "no Via", edits: []edit{set("Via", "")}, status: 400, kind: ErrMissingHeader, detail: "Via"},
		{name: "From tag not needed", edits: []edit{set("From", "From: <sip:alice@example.com>")}},
		{name: "top Via without branch", edits: []edit{set("Via", "Via: SIP/2.0/UDP 203.0.113.5:5060")}, status: 400, kind: ErrVia, detail: "top Via"},
		{name: "bare cookie", edits: []edit{set("Via", "Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK")}, status: 400, kind: ErrVia, detail: "magic cookie"},
		{name: "broadcast Via", edits: []edit{add("Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKx")}, status: 400, kind: ErrBroadcastVia, detail: "255.255.255.255"},
		{name: "unspecified Via", edits: []edit{add("Via: SIP/2.0/UDP 0.0.0.0:5060;branch=z9hG4bKx")}, status: 400, kind: ErrBroadcastVia},
		{name: "multicast Via", edits: []edit{add("Via: SIP/2.0/UDP 224.0.1.75;branch=z9hG4bKx")}, status: 400, kind: ErrBroadcastVia},
		{name: "IPv6 multicast Via", edits: []edit{add("Via: SIP/2.0/UDP [ff02::1]:5060;branch=z9hG4bKx")}, status: 400, kind: ErrBroadcastVia},
		{name: "IPv6 unicast Via", edits: []edit{add("Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx")}},
		{name: "broadcast maddr", edits: []edit{add("Via: SIP/2.0/UDP 192.0.2.7;maddr=255.255.255.255;branch=z9hG4bKx")}, status: 400, kind: ErrBroadcastVia, detail: "maddr"},
		{name: "two Content-Lengths", edits: []edit{add("Content-Length: 0"), add("l: 0")}, status: 400, kind: ErrDuplicateHeader, detail: "Content-Length"},
		{name: "NUL in header", edits: []edit{add("Warning: 399 h \"a\x00\"")}, status: 400, kind: ErrHeaderValue, detail: "Warning"},
		{name: "escaped NUL in quoted string", edits: []edit{add("Warning: 399 h \"a\\\x00\"")}},
		{name: "CSeq out of order method is fine", edits: []edit{set("CSeq", "CSeq: 1 FOO")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := okHeaders()
			for _, e := range tt.edits {
				hs = e(hs)
			}
			start := tt.start
			if start == "" {
				start = "SIP/2.0 200 OK"
			}
			res := parseResponse(t, rawMessage(start, hs, tt.body))
			wantErr(t, Response(res), tt.status, tt.kind, tt.detail)
		})
	}
}
