package proxy

import (
	"context"
	"log/slog"

	"go.uber.org/zap"
)

// zapSlog routes sipgo's slog output into zap at debug level (sipgo logs parse failures of hostile
// input as errors; at the edge they are expected and counted, not alarming).
type zapSlog struct {
	l     *zap.Logger
	attrs []zap.Field
}

// NewSlog returns a slog.Logger writing to l at debug level. The edge's wiring also installs one as
// sipgo's process-wide default logger, which some sipgo transports use regardless of their layer's.
func NewSlog(l *zap.Logger) *slog.Logger { return slog.New(&zapSlog{l: l}) }

func (h *zapSlog) Enabled(_ context.Context, lvl slog.Level) bool {
	return h.l.Core().Enabled(zap.DebugLevel)
}

func (h *zapSlog) Handle(_ context.Context, r slog.Record) error {
	fs := append([]zap.Field(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		fs = append(fs, zap.Any(a.Key, a.Value.Any()))
		return true
	})
	fs = append(fs, zap.String("sipgo_level", r.Level.String()))
	h.l.Debug(r.Message, fs...)
	return nil
}

func (h *zapSlog) WithAttrs(as []slog.Attr) slog.Handler {
	n := &zapSlog{l: h.l, attrs: append([]zap.Field(nil), h.attrs...)}
	for _, a := range as {
		n.attrs = append(n.attrs, zap.Any(a.Key, a.Value.Any()))
	}
	return n
}

func (h *zapSlog) WithGroup(string) slog.Handler { return h }
