// Package ptest holds test helpers shared by the provider adapters' tests:
// SSE fixture reading, the bad-input table, error assertions and the
// round-trip splice check.
package ptest

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/provider"
)

// Event is one server-sent event read from a fixture.
type Event struct {
	Name string
	Data []byte
}

// ReadSSE reads a fixture of server-sent events separated by blank lines.
func ReadSSE(t testing.TB, path string) []Event {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	for _, block := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n") {
		var ev Event
		var data []string
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
		if len(data) > 0 {
			ev.Data = []byte(strings.Join(data, "\n"))
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no events", path)
	}
	return out
}

// Read reads a fixture file.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Bad is one malformed body.
type Bad struct {
	Name string
	Body []byte
}

// Nest returns n opening brackets of an array around 1 and the closing ones.
func Nest(n int) []byte {
	return []byte(strings.Repeat("[", n) + "1" + strings.Repeat("]", n))
}

// Wrap returns {"key": v} around raw JSON v.
func Wrap(key string, v []byte) []byte {
	return append(append([]byte(`{"`+key+`":`), v...), '}')
}

// BadBodies are malformed whatever the route: not JSON, not an object,
// invalid UTF-8, nesting over the limit.
func BadBodies() []Bad {
	return []Bad{
		{"empty", nil},
		{"whitespace", []byte("  \n")},
		{"truncated", []byte(`{"model":"x","messages":[`)},
		{"trailing garbage", []byte(`{"model":"x"} {}`)},
		{"single quotes", []byte(`{'model':'x'}`)},
		{"array", []byte(`[{"model":"x"}]`)},
		{"string", []byte(`"hello"`)},
		{"number", []byte(`42`)},
		{"null", []byte(`null`)},
		{"invalid utf8 in string", []byte("{\"model\":\"x\xff\xfe\",\"messages\":[]}")},
		{"invalid utf8 in key", []byte("{\"mo\xc3del\":\"x\"}")},
		{"overlong utf8", []byte("{\"model\":\"\xc0\xaf\"}")},
		{"deep nesting 10000", Wrap("x", Nest(10000))},
		{"deep nesting 65", Wrap("x", Nest(65))},
		{"deep objects", []byte(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000))},
		{"unterminated string", []byte(`{"model":"x`)},
		{"control char in string", []byte("{\"model\":\"a\x01b\"}")},
		{"bare NaN", []byte(`{"model":NaN}`)},
	}
}

// HugeArray returns a JSON array of n copies of elem.
func HugeArray(elem string, n int) []byte {
	var b bytes.Buffer
	b.Grow(n * (len(elem) + 1))
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// WantError asserts err is a *provider.Error with the given status.
func WantError(t testing.TB, err error, status int) *provider.Error {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want *provider.Error", err, err)
	}
	if pe.Status != status {
		t.Fatalf("status = %d, want %d (%s)", pe.Status, status, pe.Message)
	}
	if pe.Message == "" || pe.Code == "" {
		t.Fatalf("error lacks message or code: %+v", pe)
	}
	return pe
}

// CheckSplice asserts that out is orig with only the JSON string at path
// replaced by one that decodes to text: every byte before and after it is
// unchanged.
func CheckSplice(t testing.TB, orig, out []byte, path, text string) {
	t.Helper()
	old := gjson.GetBytes(orig, path)
	if old.Type != gjson.String {
		t.Fatalf("%s is not a string in the original", path)
	}
	start, end := old.Index, old.Index+len(old.Raw)
	tail := len(orig) - end
	if len(out) < start+tail || !bytes.Equal(out[:start], orig[:start]) || !bytes.Equal(out[len(out)-tail:], orig[end:]) {
		t.Fatalf("bytes outside %s changed:\n orig %s\n out  %s", path, orig, out)
	}
	mid := gjson.ParseBytes(out[start : len(out)-tail])
	if mid.Type != gjson.String || mid.Str != text {
		t.Fatalf("%s = %q (%s), want %q", path, mid.Str, mid.Raw, text)
	}
	if !gjson.ValidBytes(out) {
		t.Fatalf("output is not valid JSON: %s", out)
	}
}
