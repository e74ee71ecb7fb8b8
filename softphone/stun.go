package softphone

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
)

// RFC 5626 section 4.4.2 keepalives on UDP flows: the phone sends STUN
// Binding requests (RFC 5389) to the edge from its SIP socket. The answer's
// XOR-MAPPED-ADDRESS is where the edge sees the phone; when it changes (a NAT
// rebinding) the flow is treated as failed and the phone registers again, so
// the edge learns the new address. No answer within the pong timeout is a
// failed flow too.

const (
	stunMagic          = 0x2112A442
	stunBindingRequest = 0x0001
	stunBindingSuccess = 0x0101
	stunHeaderLen      = 20
	attrMappedAddress  = 0x0001
	attrXORMapped      = 0x0020
)

// stunTxID is a STUN transaction id.
type stunTxID [12]byte

func newSTUNTxID() stunTxID {
	var id stunTxID
	_, _ = rand.Read(id[:])
	return id
}

// stunRequest builds a Binding request without attributes.
func stunRequest(id stunTxID) []byte {
	b := make([]byte, stunHeaderLen)
	binary.BigEndian.PutUint16(b[0:2], stunBindingRequest)
	binary.BigEndian.PutUint32(b[4:8], stunMagic)
	copy(b[8:20], id[:])
	return b
}

// isSTUN reports whether a datagram is a STUN message (RFC 5389 section 6:
// the two top bits zero, the magic cookie, a length that fits). SIP never
// starts with a byte below 0x40.
func isSTUN(b []byte) bool {
	return len(b) >= stunHeaderLen && b[0]&0xC0 == 0 && binary.BigEndian.Uint32(b[4:8]) == stunMagic &&
		int(binary.BigEndian.Uint16(b[2:4]))+stunHeaderLen == len(b)
}

// parseBindingSuccess returns the transaction id and the mapped address of a
// Binding success response (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS).
func parseBindingSuccess(b []byte) (stunTxID, netip.AddrPort, bool) {
	var id stunTxID
	if !isSTUN(b) || binary.BigEndian.Uint16(b[0:2]) != stunBindingSuccess {
		return id, netip.AddrPort{}, false
	}
	copy(id[:], b[8:20])
	var mapped netip.AddrPort
	found := false
	for attrs := b[stunHeaderLen:]; len(attrs) >= 4; {
		typ, n := binary.BigEndian.Uint16(attrs[0:2]), int(binary.BigEndian.Uint16(attrs[2:4]))
		if 4+n > len(attrs) {
			break
		}
		val := attrs[4 : 4+n]
		switch typ {
		case attrXORMapped:
			if ap, ok := decodeAddress(val, b[4:20]); ok {
				return id, ap, true
			}
		case attrMappedAddress:
			if ap, ok := decodeAddress(val, nil); ok && !found {
				mapped, found = ap, true
			}
		}
		attrs = attrs[4+(n+3)&^3:] // attributes are padded to 4 bytes
	}
	return id, mapped, found
}

// decodeAddress decodes a (XOR-)MAPPED-ADDRESS value; xor is the magic
// cookie and transaction id for XOR-MAPPED-ADDRESS, nil for MAPPED-ADDRESS.
func decodeAddress(v, xor []byte) (netip.AddrPort, bool) {
	if len(v) < 4 {
		return netip.AddrPort{}, false
	}
	alen := 0
	switch v[1] {
	case 0x01:
		alen = 4
	case 0x02:
		alen = 16
	default:
		return netip.AddrPort{}, false
	}
	if len(v) < 4+alen {
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(v[2:4])
	raw := make([]byte, alen)
	copy(raw, v[4:4+alen])
	if xor != nil {
		port ^= uint16(stunMagic >> 16)
		for i := range raw {
			raw[i] ^= xor[i]
		}
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), port), true
}
