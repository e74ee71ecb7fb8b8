package media

import (
	"encoding/hex"
	"testing"
)

func TestClassifyAndIsRTCP(t *testing.T) {
	tests := []struct {
		pkt  []byte
		want PacketClass
	}{
		{nil, PacketUnknown},
		{[]byte{0x00, 0x01, 0x00, 0x00}, PacketSTUN}, // binding request
		{[]byte{0x01, 0x01}, PacketSTUN},
		{[]byte{0x10, 0x00}, PacketZRTP},
		{[]byte{0x16, 0xfe, 0xfd}, PacketDTLS}, // handshake
		{[]byte{0x40, 0x00, 0x00, 0x04}, PacketTURNChannel},
		{[]byte{0x80, 0x00}, PacketRTP},        // PCMU
		{[]byte{0x80, 0x60}, PacketRTP},        // PT 96
		{[]byte{0x80, 0xe0}, PacketRTP},        // marker + PT 96 = 224: not RTCP
		{[]byte{0x80, 0x80 | 0x08}, PacketRTP}, // marker + PCMA = 136
		{[]byte{0x80, 0xc8}, PacketRTCP},       // SR 200
		{[]byte{0x81, 0xc9}, PacketRTCP},       // RR 201
		{[]byte{0x81, 0xca}, PacketRTCP},       // SDES
		{[]byte{0x81, 0xcb}, PacketRTCP},       // BYE
		{[]byte{0x8f, 0xcd}, PacketRTCP},       // RTPFB
		{[]byte{0x80, 0xcf}, PacketRTCP},       // XR 207
		{[]byte{0x80, 0xc0}, PacketRTCP},       // 192 (FIR, RFC 2032)
		{[]byte{0x80, 0xdf}, PacketRTCP},       // 223: end of range
		{[]byte{0xc0, 0x00}, PacketUnknown},    // version 3
		{[]byte{0x50, 0x00}, PacketUnknown},
		{[]byte{0x80}, PacketRTP},
	}
	for _, tt := range tests {
		if got := Classify(tt.pkt); got != tt.want {
			t.Errorf("Classify(%x) = %v, want %v", tt.pkt, got, tt.want)
		}
		if got := IsRTCP(tt.pkt); got != (tt.want == PacketRTCP) {
			t.Errorf("IsRTCP(%x) = %v", tt.pkt, got)
		}
	}
	if PacketRTCP.String() != "rtcp" || PacketClass(99).String() != "unknown" || PacketClass(-1).String() != "unknown" {
		t.Error("PacketClass names")
	}
}

func TestIsClearRTCP(t *testing.T) {
	// baresip's final RTCP BYE ("Adjo") and SDES, sent in clear on an SRTP session.
	bye, _ := hex.DecodeString("81cb00035140639e0441646a6f00000081ca00065140639e01117369703a626f62403132372e302e302e3100")
	if !IsClearRTCP(bye) {
		t.Error("a clear-text RTCP BYE+SDES compound not recognised")
	}
	enc, err := NewEncryptor(CryptoAttr{Tag: 1, Suite: SuiteAES80, Key: make([]byte, 16), Salt: make([]byte, 14)})
	if err != nil {
		t.Fatal(err)
	}
	srtcp, err := enc.EncryptRTCP(nil, bye)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"SRTCP (index and tag follow)": srtcp, "truncated": bye[:20], "empty": nil, "not v2": {0x01, 0xc9, 0, 0}} {
		if IsClearRTCP(b) {
			t.Errorf("%s taken for clear-text RTCP", name)
		}
	}
}
