package auth

import "testing"

func TestSameURI(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"sip:alice@example.com", "sip:alice@example.com", true},
		{"sip:alice@example.com", "SIP:alice@EXAMPLE.com", true},
		{"sip:example.com;transport=tls;lr", "sip:example.com;LR;Transport=TLS", true},
		{"sip:example.com:5061;transport=tls", "sip:example.com:5061;transport=tls", true},
		{"sips:example.com", "sip:example.com", false},
		{"sip:alice@example.com", "sip:Alice@example.com", false},
		{"sip:alice@example.com", "sip:bob@example.com", false},
		{"sip:example.com", "sip:alice@example.com", false},
		{"sip:example.com:5060", "sip:example.com", false},
		{"sip:example.com;transport=tcp", "sip:example.com;transport=udp", false},
		{"sip:example.com;transport=tcp", "sip:example.com", false},
		{"sip:example.com?subject=a", "sip:example.com?subject=b", false},
		{"sip:example.com", "example.com", false},
		{"tel:+15551234", "tel:+15551234", true},
		{"", "", true},
		{"", "sip:x", false},
	}
	for _, c := range cases {
		if got := sameURI(c.a, c.b); got != c.want {
			t.Errorf("sameURI(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := sameURI(c.b, c.a); got != c.want {
			t.Errorf("sameURI(%q, %q) = %v, want %v (symmetry)", c.b, c.a, got, c.want)
		}
	}
}
