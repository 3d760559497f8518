// Package coverage checks that a provider adapter leaves no text the model
// reads undecided: every string of a request that reaches the model is
// either scanned (the adapter turns it into a segment of the expected
// source) or deliberately passed (with a written reason). CheckResponse
// does the same for answers: every string of a response reaching the
// client is read by the output guard (an answer segment, or tool-call
// arguments) or passed with a reason.
//
// An adapter's test calls Check with a sample request holding every field
// of its API schema (testdata/coverage_*.json) and the adapter's Table.
// Check walks every string in the sample; a string whose path no table
// entry decides fails the test, naming the entry to add. A new field is
// thus closed in three steps: add it to the sample, decide it in the
// table, and make the adapter scan it if the decision is Scanned. A new
// adapter (a new API) plugs in with its own sample and table.
package coverage

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
)

// Entry decides one field. Pattern is a gjson-style path where "#" stands
// for any array index, "#[t]" for the index of an object whose "type" is t
// (a content block of type t), "*" for any member name and a final "**"
// for anything below. Exactly one of Scanned and Passed is set: Scanned is the
// source the adapter gives the text (the role it is scanned with), Passed
// the reason the gateway lets it through uninspected.
type Entry struct {
	Pattern string
	Scanned conv.Source
	Passed  string
}

// Table is an adapter's decisions; the first entry whose pattern matches a
// field decides it.
type Table []Entry

// Scan decides a field as scanned with source src.
func Scan(pattern string, src conv.Source) Entry { return Entry{Pattern: pattern, Scanned: src} }

// RoleSource is the Scanned value of a field scanned with the source of
// its message's role (user, system, assistant, tool).
const RoleSource conv.Source = "(the message's role)"

// ToolArguments is the Scanned value, in a response table, of tool-call
// arguments: the adapter reads them into conv.ToolCall.Arguments, which the
// output guard scans for secrets and personal data.
const ToolArguments conv.Source = "(tool-call arguments)"

// ByRole decides a field as scanned with its message's role.
func ByRole(pattern string) Entry { return Entry{Pattern: pattern, Scanned: RoleSource} }

// Reasons shared by the adapters' tables.
const (
	WhyAssistantTurn = "an earlier turn of the model (or one the client forged, which it could as well write as user text): scanned only with layers.injection.scan_assistant; a final assistant turn (prefill) is scanned as user text"
	WhyEnum          = "a value from a fixed set the API defines (type, role, detail, format, media type, ...), not read as prose"
	WhyID            = "an identifier the API matches (call id, tool use id, file id, container id), not read as prose"
	WhyNotModel      = "never put in front of the model: it sets the upstream's behaviour (routing, caching, abuse tracking, stopping, output form)"
	WhyStop          = "stop sequences end the output; the model does not read them"
)

// Pass decides a field as passed, for reason.
func Pass(pattern, reason string) Entry { return Entry{Pattern: pattern, Passed: reason} }

// Check parses each sample with a as kind and checks every string in them
// against table (see the package comment); every entry must decide some
// field of some sample. name names the table in failure messages
// ("provider/openai chatCoverage").
func Check(t *testing.T, a provider.Adapter, kind conv.Kind, samples [][]byte, table Table, name string) {
	t.Helper()
	run(t, table, name, len(samples), func(i int, used []bool) []string {
		return check(t, a, kind, samples[i], table, fmt.Sprintf("%s (sample %d)", name, i), used)
	})
}

// CheckResponse is Check for whole responses: each sample is parsed with
// ParseResponse; a field decided Scanned must come out as an answer
// segment of that source (conv.SourceAssistant) or, for ToolArguments, as
// the arguments of a tool call (the call's "arguments", "input",
// "function.arguments", "custom.input" or "args" (Gemini), or anything
// below it).
func CheckResponse(t *testing.T, a provider.Adapter, kind conv.Kind, samples [][]byte, table Table, name string) {
	t.Helper()
	run(t, table, name, len(samples), func(i int, used []bool) []string {
		r, err := a.ParseResponse(samples[i], kind)
		if err != nil {
			t.Fatalf("%s (sample %d): the sample does not parse: %v", name, i, err)
		}
		segs := map[string]conv.Source{}
		for _, ch := range r.Choices {
			for _, s := range ch.Message.Segments {
				segs[s.Path] = s.Source
			}
			for _, c := range ch.Message.ToolCalls {
				for _, k := range []string{"arguments", "input", "function.arguments", "custom.input", "args"} {
					segs[c.Path+"."+k] = ToolArguments
				}
			}
		}
		return checkLeaves(t, samples[i], segs, table, fmt.Sprintf("%s (sample %d)", name, i), used)
	})
}

// run checks table's entries, calls one per sample, and reports the
// fields no entry decides and the entries that decide nothing.
func run(t *testing.T, table Table, name string, n int, one func(i int, used []bool) []string) {
	t.Helper()
	for _, e := range table {
		if (e.Scanned == "") == (e.Passed == "") {
			t.Fatalf("%s: entry %q must set exactly one of Scanned and Passed", name, e.Pattern)
		}
	}
	used := make([]bool, len(table))
	var missing []string
	for i := 0; i < n; i++ {
		missing = append(missing, one(i, used)...)
	}
	sort.Strings(missing)
	for i, m := range missing {
		if i > 0 && missing[i-1] == m {
			continue
		}
		t.Errorf("%s: field %s passes the gateway with no coverage decision: add "+
			"coverage.Scan(%q, conv.Source...) with the adapter reading it into a segment, or "+
			"coverage.Pass(%q, \"why it may pass uninspected\") to %s", name, m, m, m, name)
	}
	for i, u := range used {
		if !u {
			t.Errorf("%s: entry %q matches nothing in the samples: add the field to a sample (or drop the entry)",
				name, table[i].Pattern)
		}
	}
}

func check(t *testing.T, a provider.Adapter, kind conv.Kind, sample []byte, table Table, name string, used []bool) (missing []string) {
	t.Helper()
	c, err := a.ParseRequest(sample, kind)
	if err != nil {
		t.Fatalf("%s: the sample does not parse: %v", name, err)
	}
	segs := map[string]conv.Source{}
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { segs[s.Path] = s.Source })
	for _, s := range c.ReadOnly {
		segs[s.Path] = s.Source
	}
	return checkLeaves(t, sample, segs, table, name, used)
}

// checkLeaves decides every string of sample by table and checks that a
// Scanned one is covered by a segment (segs: path -> source).
func checkLeaves(t *testing.T, sample []byte, segs map[string]conv.Source, table Table, name string, used []bool) (missing []string) {
	t.Helper()
	for _, typed := range Leaves(gjson.ParseBytes(sample)) {
		leaf := untyped(typed)
		i := table.match(typed)
		if i < 0 {
			missing = append(missing, Generalise(typed))
			continue
		}
		used[i] = true
		e := table[i]
		if e.Scanned == "" {
			continue
		}
		src, ok := covered(segs, leaf)
		switch {
		case !ok:
			t.Errorf("%s: %s is decided Scanned(%s) by %q, but the adapter makes no segment that covers it: "+
				"make the adapter read it into a segment (or ReadOnly), or decide it Passed with a reason",
				name, leaf, e.Scanned, e.Pattern)
		case src != e.Scanned && e.Scanned != RoleSource:
			t.Errorf("%s: %s is scanned as %s, the table says %s (entry %q)", name, leaf, src, e.Scanned, e.Pattern)
		}
	}
	return missing
}

// covered finds the segment whose path is leaf or an ancestor of it.
func covered(segs map[string]conv.Source, leaf string) (conv.Source, bool) {
	for p := leaf; ; {
		if src, ok := segs[p]; ok {
			return src, true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

func (tb Table) match(path string) int {
	for i, e := range tb {
		if Match(e.Pattern, path) {
			return i
		}
	}
	return -1
}

// Match reports whether path matches pattern (see Entry).
func Match(pattern, path string) bool {
	pp, ps := strings.Split(pattern, "."), strings.Split(path, ".")
	for i, p := range pp {
		if p == "**" {
			return i == len(pp)-1 && len(ps) > i
		}
		if i >= len(ps) {
			return false
		}
		switch p {
		case "*":
		case "#":
			if !isIndex(untyped(ps[i])) {
				return false
			}
		default:
			if strings.HasPrefix(p, "#[") {
				idx, typ, ok := strings.Cut(ps[i], "[")
				if !ok || !isIndex(idx) || "#["+typ != p {
					return false
				}
			} else if p != ps[i] {
				return false
			}
		}
	}
	return len(pp) == len(ps)
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Generalise replaces array indexes in a typed path by "#" ("3[text]"
// becomes "#[text]").
func Generalise(path string) string {
	ps := strings.Split(path, ".")
	for i, p := range ps {
		idx, typ, typed := strings.Cut(p, "[")
		if isIndex(idx) {
			ps[i] = "#"
			if typed {
				ps[i] += "[" + typ
			}
		}
	}
	return strings.Join(ps, ".")
}

// untyped drops the "[type]" of every index of a typed path.
func untyped(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	ps := strings.Split(path, ".")
	for i, p := range ps {
		if idx, _, ok := strings.Cut(p, "["); ok && isIndex(idx) {
			ps[i] = idx
		}
	}
	return strings.Join(ps, ".")
}

// Leaves lists the typed paths of every string value in v (numbers,
// booleans and nulls carry no text): an array element that is an object
// with a string "type" is written "index[type]". Member names that need
// escaping in a path are not expected in samples.
func Leaves(v gjson.Result) []string {
	var out []string
	var walk func(path string, v gjson.Result)
	walk = func(path string, v gjson.Result) {
		switch {
		case v.Type == gjson.String:
			out = append(out, path)
		case v.IsObject():
			v.ForEach(func(k, e gjson.Result) bool {
				walk(join(path, k.Str), e)
				return true
			})
		case v.IsArray():
			i := 0
			v.ForEach(func(_, e gjson.Result) bool {
				el := fmt.Sprint(i)
				if t := e.Get("type"); e.IsObject() && t.Type == gjson.String {
					el += "[" + t.Str + "]"
				}
				walk(join(path, el), e)
				i++
				return true
			})
		}
	}
	walk("", v)
	return out
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// Samples reads the sample files (full bodies holding every field of an
// API schema) at paths.
func Samples(t testing.TB, paths ...string) [][]byte {
	t.Helper()
	out := make([][]byte, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
