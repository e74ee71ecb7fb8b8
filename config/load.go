package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads, decodes strictly, defaults and validates the configuration in path. On any problem it
// returns an Errors value listing all of them with field paths and lines.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return Parse(data)
}

// Parse decodes YAML configuration text strictly (unknown keys are errors), applies defaults and validates.
func Parse(data []byte) (*Config, error) {
	cfg := &Config{}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{{Path: "(file)", Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	lines := map[string]int{}
	var errs Errors
	if len(bytes.TrimSpace(data)) > 0 && root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		doc := root.Content[0]
		if doc.Kind != yaml.MappingNode && !(doc.Kind == yaml.ScalarNode && doc.Tag == "!!null") {
			return nil, Errors{{Path: "(file)", Line: doc.Line, Msg: "the configuration must be a mapping of keys to values"}}
		}
		walk(doc, reflect.TypeOf(*cfg), "", lines, &errs)
		if err := doc.Decode(cfg); err != nil {
			errs = append(errs, decodeErrors(err, lines)...)
		}
	}
	cfg.ApplyDefaults()
	for _, fe := range cfg.Validate() {
		if fe.Line == 0 {
			fe.Line = lines[fe.Path]
		}
		errs = append(errs, fe)
	}
	if len(errs) > 0 {
		return nil, dedupe(errs).sorted()
	}
	return cfg, nil
}

// walk records the line of every field path and reports keys that do not exist in the struct type t.
func walk(n *yaml.Node, t reflect.Type, path string, lines map[string]int, errs *Errors) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			lines[p] = k.Line
			f, ok := fields[k.Value]
			if !ok {
				msg := "unknown field"
				if s := closest(k.Value, fields); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				*errs = append(*errs, FieldError{Path: p, Line: k.Line, Msg: msg})
				continue
			}
			walk(v, f.Type, p, lines, errs)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			lines[p] = v.Line
			walk(v, t.Elem(), p, lines, errs)
		}
	}
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name != "" && name != "-" {
			m[name] = f
		}
	}
	return m
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// decodeErrors turns yaml type errors ("line 7: cannot unmarshal ...") into field errors with paths.
func decodeErrors(err error, lines map[string]int) Errors {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	byLine := map[int]string{}
	for p, l := range lines {
		// Prefer the deepest path on a line (a list item over its parent key).
		if cur, ok := byLine[l]; !ok || len(p) > len(cur) {
			byLine[l] = p
		}
	}
	var out Errors
	for _, m := range msgs {
		fe := FieldError{Path: "(file)", Msg: m}
		if sm := lineRe.FindStringSubmatch(m); sm != nil {
			fe.Line, _ = strconv.Atoi(sm[1])
			fe.Msg = humanizeTypeError(sm[2])
			if p, ok := byLine[fe.Line]; ok {
				fe.Path = p
			}
		}
		if strings.Contains(fe.Msg, "not found in type") {
			continue // already reported by walk with its path
		}
		out = append(out, fe)
	}
	return out
}

func humanizeTypeError(m string) string {
	// "cannot unmarshal !!str `abc` into int" -> "expected int, got \"abc\""
	re := regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (.+)$")
	if sm := re.FindStringSubmatch(m); sm != nil {
		want := sm[3]
		switch {
		case strings.HasPrefix(want, "[]"):
			want = "a list"
		case strings.HasPrefix(want, "config."):
			want = "a mapping"
		}
		return fmt.Sprintf("expected %s, got %q", want, sm[2])
	}
	if strings.HasPrefix(m, "cannot unmarshal !!seq") {
		return "expected a single value, got a list"
	}
	if strings.HasPrefix(m, "cannot unmarshal !!map") {
		return "expected a single value, got a mapping"
	}
	return m
}

func dedupe(es Errors) Errors {
	seen := map[string]bool{}
	var out Errors
	for _, e := range es {
		k := e.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest suggests a known field within edit distance 2 of an unknown one.
func closest(name string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(name, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
