package webhook

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/sipedge/sipedge/secevent"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func results(s *Sender) map[string]float64 {
	return map[string]float64{"sent": testutil.ToFloat64(s.sent), "dropped": testutil.ToFloat64(s.dropped),
		"failed": testutil.ToFloat64(s.failed), "retried": testutil.ToFloat64(s.retried)}
}

func TestDeliversOverHTTP(t *testing.T) {
	got := make(chan secevent.Event, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e secevent.Event
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(400)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			w.WriteHeader(400)
			return
		}
		got <- e
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	s, err := New(Config{URL: srv.URL, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Send(secevent.Event{Type: secevent.BanAdded, SrcIP: "203.0.113.1", Rule: "auth_ban", Reason: "5 failures"})
	select {
	case e := <-got:
		if e.Type != secevent.BanAdded || e.SrcIP != "203.0.113.1" || e.Rule != "auth_ban" || e.Time.IsZero() {
			t.Errorf("received %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("event not delivered")
	}
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(s.sent) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r := results(s); r["sent"] != 1 || r["failed"] != 0 {
		t.Errorf("results %v", r)
	}
	if n, _ := testutil.GatherAndCount(reg, "sipedge_webhook_events_total"); n != 4 {
		t.Errorf("metric series = %d, want 4 (sent, dropped, failed, retried)", n)
	}
}

// rt is a scripted http.RoundTripper: it answers with the next status (0: network error) and records when.
type rt struct {
	mu     sync.Mutex
	script []int
	times  []time.Time
	block  chan struct{} // when non-nil, every request waits for it
}

func (f *rt) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.block != nil {
		select {
		case <-f.block:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	f.mu.Lock()
	f.times = append(f.times, time.Now())
	st := 200
	if len(f.script) > 0 {
		st, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if st == 0 {
		return nil, errors.New("connection refused")
	}
	return &http.Response{StatusCode: st, Status: http.StatusText(st), Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

func TestRetryWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &rt{script: []int{503, 0, 429, 200}}
		s, err := New(Config{URL: "http://siem.invalid/hook", Client: &http.Client{Transport: f}, Backoff: time.Second,
			MaxBackoff: 3 * time.Second, MaxAttempts: 5})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s.Send(secevent.Event{Type: secevent.AuthFailed})
		time.Sleep(time.Minute)
		synctest.Wait()
		var waits []time.Duration
		for _, at := range f.times {
			waits = append(waits, at.Sub(start))
		}
		want := []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second} // 1s, 2s, then capped 3s
		if len(waits) != 4 || waits[1] != want[1] || waits[2] != want[2] || waits[3] != want[3] {
			t.Errorf("attempt times %v, want %v", waits, want)
		}
		if r := results(s); r["sent"] != 1 || r["retried"] != 3 || r["failed"] != 0 {
			t.Errorf("results %v", r)
		}
		s.Close()
	})
}

func TestGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &rt{script: []int{500, 500, 500, 400}}
		s, _ := New(Config{URL: "https://siem.invalid/", Client: &http.Client{Transport: f}, MaxAttempts: 3})
		s.Send(secevent.Event{Type: secevent.AuthFailed}) // 3 attempts, all 500: failed
		s.Send(secevent.Event{Type: secevent.AuthFailed}) // 400: failed at once, no retry
		time.Sleep(time.Hour)
		synctest.Wait()
		if r := results(s); r["failed"] != 2 || r["retried"] != 2 || r["sent"] != 0 || len(f.times) != 4 {
			t.Errorf("results %v after %d attempts", r, len(f.times))
		}
		s.Close()
	})
}

func TestSendNeverBlocksAndCountsDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &rt{block: make(chan struct{})}
		s, _ := New(Config{URL: "http://siem.invalid/", Client: &http.Client{Transport: f}, QueueSize: 2})
		s.Send(secevent.Event{Type: secevent.BanAdded})
		synctest.Wait() // the worker holds the first event, blocked in the request
		for i := 0; i < 9; i++ {
			s.Send(secevent.Event{Type: secevent.BanAdded}) // 2 fit in the queue, 7 are dropped
		}
		if r := results(s); r["dropped"] != 7 {
			t.Errorf("dropped = %v, want 7", r["dropped"])
		}
		close(f.block)
		synctest.Wait()
		if r := results(s); r["sent"] != 3 {
			t.Errorf("sent = %v, want 3", r["sent"])
		}
		s.Close()
		s.Send(secevent.Event{}) // after Close: dropped, no panic, no block
		if r := results(s); r["dropped"] != 8 {
			t.Errorf("dropped after close = %v, want 8", r["dropped"])
		}
	})
}

func TestCloseCancelsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &rt{block: make(chan struct{})}
		s, _ := New(Config{URL: "http://siem.invalid/", Client: &http.Client{Transport: f}, QueueSize: 5})
		for i := 0; i < 3; i++ {
			s.Send(secevent.Event{Type: secevent.BanAdded})
		}
		synctest.Wait()
		s.Close() // one in flight (cancelled) and two queued: all dropped
		if r := results(s); r["dropped"] != 3 || r["sent"] != 0 || r["retried"] != 0 {
			t.Errorf("results after close %v", r)
		}
	})
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/", "http://", "::"} {
		if _, err := New(Config{URL: u}); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v", u, err)
		}
	}
}
