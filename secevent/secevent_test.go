package secevent

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAppendOnlyJSONLinesAndReopen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sec", "security.log")
	reg := prometheus.NewRegistry()
	l, err := Open(p, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	var seen []Type
	l.Subscribe(func(e Event) { seen = append(seen, e.Type) })
	if err := l.Emit(Event{Type: AuthFailed, SrcIP: "127.0.0.5", SrcPort: 5060, User: "alice", Reason: "bad password"}); err != nil {
		t.Fatal(err)
	}
	// logrotate: move the file away, reopen, keep writing.
	os.Rename(p, p+".1")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Emit(Event{Type: BanAdded, SrcIP: "127.0.0.5"})
	l.Close()
	if err := l.Emit(Event{Type: BanAdded}); !errors.Is(err, ErrClosed) {
		t.Fatalf("emit after close: %v", err)
	}
	check := func(path string, want Type) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("not JSON: %q", sc.Text())
			}
			if e.Type != want || e.Time.IsZero() {
				t.Fatalf("event %+v", e)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("%s: %d lines", path, n)
		}
	}
	check(p+".1", AuthFailed)
	check(p, BanAdded)
	if len(seen) != 2 {
		t.Fatalf("subscribers saw %v", seen)
	}
	if v := testutil.ToFloat64(l.events.WithLabelValues("auth_failed")); v != 1 {
		t.Fatalf("metric = %v", v)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}
