// Package admin serves the edge's admin HTTP endpoints: /healthz (process alive), /readyz (ready for
// traffic: every registered check passes) and /metrics (Prometheus, from an injected registry).
package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one part of the edge is ready; a non-nil error names what is not.
type Check func(ctx context.Context) error

// Server is the admin HTTP server.
type Server struct {
	srv      *http.Server
	mu       sync.RWMutex
	mux      *http.ServeMux
	checks   map[string]Check
	draining bool
	token    []byte // bearer token for everything but /healthz and /readyz; empty: no authentication
}

// New returns a server exposing the metrics of g.
func New(g prometheus.Gatherer) *Server {
	s := &Server{checks: map[string]Check{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	s.mux = mux
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	return s
}

// SetToken requires "Authorization: Bearer <token>" on every endpoint but /healthz and /readyz (probes
// carry no credentials). Call it before Serve; an empty token turns authentication off.
func (s *Server) SetToken(token string) { s.token = []byte(token) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if len(s.token) > 0 && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), s.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sipedge admin"`)
			http.Error(w, "missing or wrong bearer token (admin.token_file)", http.StatusUnauthorized)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// Handle adds an operator endpoint (pattern as for http.ServeMux, e.g. "GET /bans"). Call it before Serve.
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// AddCheck registers a readiness check under name.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	s.checks[name] = c
	s.mu.Unlock()
}

// SetDraining makes /readyz fail (503) so load balancers stop sending new traffic during a drain.
func (s *Server) SetDraining(v bool) {
	s.mu.Lock()
	s.draining = v
	s.mu.Unlock()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	s.mu.RLock()
	draining := s.draining
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := s.checks
	s.mu.RUnlock()
	sort.Strings(names)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	status, body := http.StatusOK, ""
	if draining {
		status, body = http.StatusServiceUnavailable, "draining\n"
	}
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			status = http.StatusServiceUnavailable
			body += fmt.Sprintf("%s: %v\n", n, err)
		} else {
			body += fmt.Sprintf("%s: ok\n", n)
		}
	}
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops the server, waiting for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
