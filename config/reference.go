package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// field is one documented configuration field.
type field struct {
	Path    string
	Doc     string
	Default string // YAML form of the default value
	Group   bool   // a section (struct), not a value
	Depth   int
}

// fields lists every field of the configuration with its doc and default, in declaration order.
func fields() []field {
	var out []field
	var rec func(v reflect.Value, path string, depth int)
	rec = func(v reflect.Value, path string, depth int) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			p := join(path, name)
			fv := v.Field(i)
			if f.Type.Kind() == reflect.Struct {
				out = append(out, field{Path: p, Doc: f.Tag.Get("doc"), Group: true, Depth: depth})
				rec(fv, p, depth+1)
				continue
			}
			out = append(out, field{Path: p, Doc: f.Tag.Get("doc"), Default: yamlValue(fv), Depth: depth})
		}
	}
	rec(reflect.ValueOf(*Default()), "", 0)
	return out
}

func yamlValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Duration:
		return x.String()
	case string:
		return strconv.Quote(x)
	case []string:
		if len(x) == 0 {
			return "[]"
		}
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// DefaultYAML renders the full default configuration as YAML with a comment above every field.
// The output parses back to the defaults.
func DefaultYAML() string {
	var b strings.Builder
	b.WriteString("# sipedge edge configuration: every field with its default.\n")
	b.WriteString("# Unknown keys are errors. Check a file with: edge check-config FILE\n")
	for _, f := range fields() {
		ind := strings.Repeat("  ", f.Depth)
		if f.Depth == 0 {
			b.WriteString("\n")
		}
		for _, line := range wrap(f.Doc, 100-len(ind)) {
			b.WriteString(ind + "# " + line + "\n")
		}
		name := f.Path[strings.LastIndex(f.Path, ".")+1:]
		if f.Group {
			b.WriteString(ind + name + ":\n")
		} else {
			b.WriteString(ind + name + ": " + f.Default + "\n")
		}
	}
	return b.String()
}

// MarkdownReference renders docs/configuration.md.
func MarkdownReference() string {
	var b strings.Builder
	b.WriteString("# Edge configuration reference\n\n")
	b.WriteString("<!-- Generated from config/config.go by `make docs`; do not edit by hand. -->\n\n")
	b.WriteString("One YAML file, passed with `edge --config FILE`. Unknown keys are errors; `edge check-config FILE` ")
	b.WriteString("reports every problem with its field path and line; `edge config default` prints this whole ")
	b.WriteString("configuration with its defaults as YAML. Durations are Go durations (`30s`, `10m`, `1h`).\n\n")
	b.WriteString("| Field | Default | Description |\n|---|---|---|\n")
	for _, f := range fields() {
		def := "`" + f.Default + "`"
		if f.Group {
			def = "(section)"
		}
		doc := strings.ReplaceAll(f.Doc, "|", "\\|")
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Path, def, doc)
	}
	return b.String()
}

func wrap(s string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = w
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
