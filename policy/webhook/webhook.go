// Package webhook delivers security events to an HTTP endpoint: one JSON POST per event, from a bounded
// queue, with retries and exponential backoff. Send never blocks; events that do not fit in the queue or
// run out of attempts are dropped and counted. The security log file remains the source of truth.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/sipedge/sipedge/secevent"
)

// Config configures a Sender.
type Config struct {
	URL         string        // http(s) endpoint
	Timeout     time.Duration // per attempt; default 5s
	QueueSize   int           // events waiting; default 1000
	MaxAttempts int           // per event; default 5
	Backoff     time.Duration // first retry wait, doubled per retry; default 1s
	MaxBackoff  time.Duration // default 1m
	Client      *http.Client  // nil: a client with Timeout
	Log         *zap.Logger
	Registerer  prometheus.Registerer // nil: metrics not registered
}

// Sender delivers events in the background. Close stops it.
type Sender struct {
	c      Config
	queue  chan secevent.Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	results *prometheus.CounterVec
	sent    prometheus.Counter
	dropped prometheus.Counter // queue full
	failed  prometheus.Counter // attempts exhausted or refused
	retried prometheus.Counter
}

// New validates c and starts the delivery goroutine.
func New(c Config) (*Sender, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrConfig, c.URL)
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1000
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = max(time.Minute, c.Backoff)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	s := &Sender{c: c, queue: make(chan secevent.Event, c.QueueSize), done: make(chan struct{})}
	s.results = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sipedge_webhook_events_total",
		Help: "Security events by webhook delivery result: sent, dropped (queue full), failed (attempts exhausted or refused), retried (attempts repeated)."},
		[]string{"result"})
	s.sent, s.dropped = s.results.WithLabelValues("sent"), s.results.WithLabelValues("dropped")
	s.failed, s.retried = s.results.WithLabelValues("failed"), s.results.WithLabelValues("retried")
	if c.Registerer != nil {
		if err := c.Registerer.Register(s.results); err != nil {
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Send queues e for delivery without blocking; when the queue is full e is dropped (and counted).
// Its signature fits secevent.Log.Subscribe.
func (s *Sender) Send(e secevent.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	select {
	case <-s.ctx.Done():
		s.dropped.Inc()
		return
	default:
	}
	select {
	case s.queue <- e:
	default:
		s.dropped.Inc()
	}
}

// Close stops delivery at once (an attempt in flight is cancelled); queued events are dropped and counted.
func (s *Sender) Close() {
	s.once.Do(func() {
		s.cancel()
		<-s.done
		for {
			select {
			case <-s.queue:
				s.dropped.Inc()
			default:
				return
			}
		}
	})
}

func (s *Sender) run() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case e := <-s.queue:
			s.deliver(e)
		}
	}
}

// deliver tries e up to MaxAttempts times with growing waits between attempts.
func (s *Sender) deliver(e secevent.Event) {
	body, err := json.Marshal(e)
	if err != nil {
		s.failed.Inc()
		return
	}
	wait := s.c.Backoff
	for attempt := 1; ; attempt++ {
		retry, err := s.post(body)
		if err == nil {
			s.sent.Inc()
			return
		}
		if s.ctx.Err() != nil { // closing: the attempt was cancelled
			s.dropped.Inc()
			return
		}
		if !retry || attempt >= s.c.MaxAttempts {
			s.failed.Inc()
			s.c.Log.Warn("webhook delivery failed", zap.String("event", string(e.Type)), zap.Int("attempts", attempt), zap.Error(err))
			return
		}
		s.retried.Inc()
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			s.dropped.Inc()
			return
		case <-t.C:
		}
		wait = min(2*wait, s.c.MaxBackoff)
	}
}

// post makes one attempt; retry is true for errors worth retrying (network, 408, 429, 5xx).
func (s *Sender) post(body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sipedge-webhook")
	resp, err := s.c.Client.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook answered %s", resp.Status)
	default:
		return false, fmt.Errorf("webhook refused the event: %s", resp.Status)
	}
}
