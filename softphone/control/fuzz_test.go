package control

import (
	"encoding/json"
	"testing"
)

// Any program may write to the daemon's socket: a line is a request or an error, never a panic, and a
// request that validates names a known command.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{`{"cmd":"dial","uri":"sip:bob@x"}`, `{"cmd":"dtmf","call":"c1","digits":"12#"}`,
		`{"cmd":"status"}`, `{"cmd":""}`, `{"cmd":"transfer","call":"c1"}`, `[1,2]`, `{"id":1e999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Request
		if json.Unmarshal(line, &r) != nil {
			return
		}
		if err := r.Validate(); err == nil && r.Cmd == "" {
			t.Fatalf("%q validates without a command", line)
		}
	})
}
