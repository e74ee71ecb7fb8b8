package logging

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestJSONAndLevels(t *testing.T) {
	var buf bytes.Buffer
	log, lvl, err := New(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &m); err != nil || m["msg"] != "shown" {
		t.Fatalf("got %q (%v)", buf.String(), err)
	}
	lvl.SetLevel(-1) // debug
	buf.Reset()
	log.Debug("now shown")
	if buf.Len() == 0 {
		t.Fatal("level change not applied")
	}
}

func TestBadInput(t *testing.T) {
	if _, _, err := New(&bytes.Buffer{}, "loud", "json"); err == nil {
		t.Fatal("bad level accepted")
	}
	if _, _, err := New(&bytes.Buffer{}, "info", "xml"); err == nil {
		t.Fatal("bad format accepted")
	}
}
