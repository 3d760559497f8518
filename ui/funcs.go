package ui

import (
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"limits": func(m map[string]int64) string {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		for _, k := range names {
			parts = append(parts, k+"="+strconv.FormatInt(m[k], 10))
		}
		return strings.Join(parts, ", ")
	},
	"join":  strings.Join,
	"score": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"dur":   func(d time.Duration) string { return ms(d) },
	"eq2":   func(a, b string) bool { return a == b },
}
