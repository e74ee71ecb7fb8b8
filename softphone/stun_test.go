package softphone

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// bindingSuccess builds a Binding success response the way a STUN server does (RFC 5389 section 15).
func bindingSuccess(id stunTxID, mapped netip.AddrPort, xor bool) []byte {
	ip := mapped.Addr().AsSlice()
	family := byte(0x01)
	if len(ip) == 16 {
		family = 0x02
	}
	b := make([]byte, stunHeaderLen+4+4+len(ip))
	binary.BigEndian.PutUint16(b[0:2], stunBindingSuccess)
	binary.BigEndian.PutUint16(b[2:4], uint16(4+4+len(ip)))
	binary.BigEndian.PutUint32(b[4:8], stunMagic)
	copy(b[8:20], id[:])
	typ, port := uint16(attrMappedAddress), mapped.Port()
	if xor {
		typ, port = attrXORMapped, port^uint16(stunMagic>>16)
		for i := range ip {
			ip[i] ^= b[4+i]
		}
	}
	binary.BigEndian.PutUint16(b[20:22], typ)
	binary.BigEndian.PutUint16(b[22:24], uint16(4+len(ip)))
	b[25] = family
	binary.BigEndian.PutUint16(b[26:28], port)
	copy(b[28:], ip)
	return b
}

func TestSTUNRequestAndResponse(t *testing.T) {
	id := newSTUNTxID()
	req := stunRequest(id)
	if !isSTUN(req) || binary.BigEndian.Uint16(req[0:2]) != stunBindingRequest || [12]byte(req[8:20]) != id {
		t.Fatalf("bad request % x", req)
	}
	for _, tc := range []struct {
		addr string
		xor  bool
	}{
		{"192.0.2.7:40001", true}, {"192.0.2.7:40001", false}, {"[2001:db8::5]:5060", true},
	} {
		want := netip.MustParseAddrPort(tc.addr)
		gotID, got, ok := parseBindingSuccess(bindingSuccess(id, want, tc.xor))
		if !ok || gotID != id || got != want {
			t.Errorf("%s xor=%v: parsed %v %v %v", tc.addr, tc.xor, gotID == id, got, ok)
		}
	}
	// Not STUN, or not a success response: refused.
	good := bindingSuccess(id, netip.MustParseAddrPort("192.0.2.7:1"), true)
	for name, b := range map[string][]byte{
		"sip":       []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n\r\n"),
		"short":     good[:19],
		"badlength": append(append([]byte{}, good...), 0, 0, 0, 0),
		"request":   req,
		"truncated attribute": func() []byte {
			b := append([]byte{}, good[:26]...)
			binary.BigEndian.PutUint16(b[2:4], 6)
			return b
		}(),
	} {
		if _, _, ok := parseBindingSuccess(b); ok {
			t.Errorf("%s: parsed as a binding success", name)
		}
	}
	if isSTUN([]byte("INVITE sip:bob@example.com SIP/2.0\r\n")) {
		t.Error("a SIP request taken for STUN")
	}
}
