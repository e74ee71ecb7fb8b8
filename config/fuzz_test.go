package config

import "testing"

// Parse reads operator-written YAML: whatever it gets, it returns a config or an error, never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("listen: {access: [\"tls://127.0.0.1:5061\"]}\n"))
	f.Add([]byte("media: {port_range: 30000-29000, srtp: maybe}\npolicy: {roles: [{name: x, classes: [nope]}]}\n"))
	f.Add([]byte("pbx: {targets: [\"udp://[::1]:5060\", \"tcp://pbx:x\"]}\nlimits: {read_timeout: -1s}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
	})
}
