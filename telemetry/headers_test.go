package telemetry

import (
	"strconv"
	"strings"
	"testing"
)

var headerTests = []struct {
	name, in string
	want     map[string]string
	err      string
}{
	{"empty", "", map[string]string{}, ""},
	{"blank", "  ", map[string]string{}, ""},
	{"one", "api-key=abc", map[string]string{"Api-Key": "abc"}, ""},
	{"two with blanks", " a=1 , b = 2 ", map[string]string{"A": "1", "B": "2"}, ""},
	{"url-encoded", "Authorization=Basic%20dXNlcjpwYXNz", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, ""},
	{"value with equals", "k=a=b", map[string]string{"K": "a=b"}, ""},
	{"empty value", "k=", map[string]string{"K": ""}, ""},
	{"no equals", "justakey", nil, "entry 1 is not key=value"},
	{"empty key", "=v", nil, "entry 1 is not key=value"},
	{"bad name", "a b=c", nil, "not a header name"},
	{"bad escape", "k=%zz", nil, "not URL-encoded"},
	{"newline", "k=a%0d%0aX-Injected: 1", nil, "control character"},
	{"duplicate", "k=1,K=2", nil, "given twice"},
	{"trailing comma", "k=1,", nil, "entry 2 is not key=value"},
	{"too many", manyHeaders(40), nil, "more than 32"},
	{"at the bound", manyHeaders(32), nil, ""},
	{"too long", "k=" + strings.Repeat("x", 9000), nil, "longer than"},
}

func manyHeaders(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, "k"+strconv.Itoa(i)+"=v")
	}
	return strings.Join(parts, ",")
}

func TestParseHeaders(t *testing.T) {
	for _, tt := range headerTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeaders(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil { // only the count matters
				if len(got) != strings.Count(tt.in, "=") {
					t.Fatalf("got %d headers", len(got))
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestParseHeadersErrorsHideValues: a header value may be a credential.
func TestParseHeadersErrorsHideValues(t *testing.T) {
	for _, in := range []string{"k=s3cr3t%zz", "k=s3cr3t%0a", "a=s3cr3t,a=s3cr3t"} {
		if _, err := ParseHeaders(in); err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("ParseHeaders(%q) error = %v", in, err)
		}
	}
}

func FuzzParseHeaders(f *testing.F) {
	for _, tt := range headerTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseHeaders(in)
		if err != nil {
			return
		}
		if len(got) > maxHeaders {
			t.Fatalf("%d headers", len(got))
		}
		for k, v := range got {
			if !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("unsafe header %q: %q", k, v)
			}
		}
	})
}
