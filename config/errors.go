package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every configuration error, so callers can test with errors.Is.
var ErrInvalid = errors.New("invalid configuration")

// FieldError is one problem in the configuration, named by its field path (e.g. "listen.access[1]").
type FieldError struct {
	Path string // dotted field path with list indexes
	Line int    // line in the YAML file, 0 when unknown (e.g. a missing field or defaults)
	Msg  string
}

func (e FieldError) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Errors is every problem found in a configuration.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.String()
	}
	return fmt.Sprintf("%d configuration error(s):\n  %s", len(es), strings.Join(lines, "\n  "))
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (es Errors) Unwrap() error { return ErrInvalid }

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line && es[i].Line > 0 && es[j].Line > 0 {
			return es[i].Line < es[j].Line
		}
		return false
	})
	return es
}
