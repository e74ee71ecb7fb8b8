// Package secevent is the append-only security event log: one JSON object per line, the source of truth
// for security teams (failed and successful authentication, bans, policy denials, floods, scanners).
// Every event is also logged through zap and counted in sipedge_security_events_total{type}.
package secevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Type names a kind of security event.
type Type string

// The event types. The set is closed so that metric labels stay bounded.
const (
	AuthFailed             Type = "auth_failed"
	AuthSucceeded          Type = "auth_succeeded"
	BanAdded               Type = "ban_added"
	BanExpired             Type = "ban_expired"
	BanRemoved             Type = "ban_removed"
	PolicyDenied           Type = "policy_denied"
	GeoDenied              Type = "geo_denied"
	FloodDetected          Type = "flood_detected"
	ScannerDetected        Type = "scanner_detected"
	SpendLimitReached      Type = "spend_limit_reached"
	CallTerminatedByPolicy Type = "call_terminated_by_policy"
	// CallTerminatedByOperator: an operator ended the call through the admin API (src_ip: the API client).
	CallTerminatedByOperator Type = "call_terminated_by_operator"
	FlowRejected             Type = "flow_rejected"
)

// Types lists every event type.
var Types = []Type{AuthFailed, AuthSucceeded, BanAdded, BanExpired, BanRemoved, PolicyDenied, GeoDenied,
	FloodDetected, ScannerDetected, SpendLimitReached, CallTerminatedByPolicy, CallTerminatedByOperator, FlowRejected}

// ErrClosed is returned by Emit after Close.
var ErrClosed = errors.New("security log closed")

// Event is one security event.
type Event struct {
	Time      time.Time `json:"time"`
	Type      Type      `json:"type"`
	SrcIP     string    `json:"src_ip,omitempty"`
	SrcPort   int       `json:"src_port,omitempty"`
	Transport string    `json:"transport,omitempty"`
	Country   string    `json:"country,omitempty"`
	User      string    `json:"user,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	CallID    string    `json:"call_id,omitempty"`
	Method    string    `json:"method,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	DryRun    bool      `json:"dry_run,omitempty"`
}

// Emitter receives security events. *Log implements it; tests may use a slice-backed one.
type Emitter interface {
	Emit(Event) error
}

// Log writes events to an append-only file.
type Log struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	log     *zap.Logger
	now     func() time.Time
	subs    []func(Event)
	events  *prometheus.CounterVec
	writeEr prometheus.Counter
}

// Open opens (creating if needed, mode 0600) the log at path for appending. reg may be nil.
func Open(path string, log *zap.Logger, reg prometheus.Registerer) (*Log, error) {
	if log == nil {
		log = zap.NewNop()
	}
	l := &Log{path: path, log: log, now: time.Now}
	l.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sipedge_security_events_total", Help: "Security events written to the security log, by type.",
	}, []string{"type"})
	l.writeEr = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sipedge_security_log_write_errors_total", Help: "Security events that could not be written to the file.",
	})
	for _, t := range Types {
		l.events.WithLabelValues(string(t))
	}
	if reg != nil {
		if err := reg.Register(l.events); err != nil {
			return nil, fmt.Errorf("register security metrics: %w", err)
		}
		if err := reg.Register(l.writeEr); err != nil {
			return nil, fmt.Errorf("register security metrics: %w", err)
		}
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) open() error {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("security log: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("security log: %w", err)
	}
	l.f = f
	return nil
}

// Subscribe registers fn to be called (synchronously, keep it cheap) for every event after it is written.
func (l *Log) Subscribe(fn func(Event)) {
	l.mu.Lock()
	l.subs = append(l.subs, fn)
	l.mu.Unlock()
}

// Emit writes e as one JSON line (filling Time when zero), logs it via zap and counts it.
func (l *Log) Emit(e Event) error {
	if e.Time.IsZero() {
		e.Time = l.now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	l.mu.Lock()
	if l.f == nil {
		l.mu.Unlock()
		return ErrClosed
	}
	_, werr := l.f.Write(line)
	subs := l.subs
	l.mu.Unlock()
	l.events.WithLabelValues(string(e.Type)).Inc()
	fields := []zap.Field{zap.String("event", string(e.Type)), zap.String("src_ip", e.SrcIP), zap.Int("src_port", e.SrcPort),
		zap.String("user", e.User), zap.String("reason", e.Reason)}
	if e.Rule != "" {
		fields = append(fields, zap.String("rule", e.Rule))
	}
	if e.CallID != "" {
		fields = append(fields, zap.String("call_id", e.CallID))
	}
	if e.UserAgent != "" {
		fields = append(fields, zap.String("user_agent", e.UserAgent))
	}
	l.log.Warn("security event", fields...)
	for _, fn := range subs {
		fn(e)
	}
	if werr != nil {
		l.writeEr.Inc()
		l.log.Error("security log write failed", zap.Error(werr))
		return fmt.Errorf("security log: %w", werr)
	}
	return nil
}

// Reopen closes and reopens the file (after logrotate moved it).
func (l *Log) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
	}
	return l.open()
}

// Close closes the file; later Emits return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
