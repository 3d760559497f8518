package pjson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

// sjsonString is what sjson writes for a string value, the reference for
// AppendString.
func sjsonString(t testing.TB, s string) string {
	out, err := sjson.Set(`{"v":""}`, "v", s)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(out, `{"v":`), "}")
}

var stringCases = []string{
	"", " the", "plain ascii <b>&amp;</b>", "quote \" and back\\slash", "line\nbreak\r\ttab",
	"\b\f\x00\x01\x1f\x7f", "<script>&</script>\n", "héllo wörld", "日本語のテキスト", "emoji 🙂👍🏽",
	"sep\u2028para\u2029", "bad \xff utf8 \xc3", "\xe2\x80", "trailing \\", `\u0041`, "\ufffd", "\xed\xa0\x80",
}

func TestAppendString(t *testing.T) {
	for _, s := range stringCases {
		got := string(AppendString([]byte("x"), s))
		if want := "x" + sjsonString(t, s); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got[1:]), &back); err != nil {
			t.Errorf("AppendString(%q) = %s is not a JSON string: %v", s, got, err)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), sjsonString(t, s); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// spliceBodies are stream events of both APIs plus shapes around the values.
var spliceBodies = []string{
	`{"choices":[{"index":0,"delta":{"content":" the"}}]}`,
	`{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}`,
	`{"choices":[{"index":0,"text":"x","delta":{"content":"y"}}]}`,
	`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"there\"\n"}}`,
	`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"start"}}`,
	` { "delta" : { "text" : "spaced" } } `,
	`{"delta":{"text":1}}`,
	`{"delta":{"text":"a","text":"b"}}`,
	`{"a":"\u00e9\\","b":["x","y"]}`,
}

var splicePaths = []string{
	"choices.0.delta.content", "choices.1.delta.content", "choices.0.text", "delta.text",
	"content_block.text", "a", "b.1", "delta.partial_json",
}

// checkWriteDeltas compares WriteDeltas with the sjson reference for body
// and the given changes; body must be valid JSON (as every parsed event is).
func checkWriteDeltas(t *testing.T, body []byte, ds []conv.Delta) {
	t.Helper()
	fast, ref := Writer{Body: body}, Writer{Body: body}
	errF, errR := fast.WriteDeltas(ds), ref.WriteDeltasSJSON(ds)
	if (errF != nil) != (errR != nil) {
		t.Fatalf("%s: splice error %v, sjson error %v", body, errF, errR)
	}
	if errF == nil && string(fast.Body) != string(ref.Body) {
		t.Fatalf("%s:\nsplice %s\nsjson  %s", body, fast.Body, ref.Body)
	}
}

func changed(path, text string) conv.Delta {
	d := conv.NewDelta(0, "\x00unchanged", path)
	d.Text = text
	return d
}

func TestWriteDeltasMatchesSJSON(t *testing.T) {
	for _, body := range spliceBodies {
		for _, p1 := range splicePaths {
			for _, p2 := range splicePaths {
				for _, s := range stringCases {
					checkWriteDeltas(t, []byte(body), []conv.Delta{changed(p1, s), changed(p2, s+"2")})
				}
			}
		}
	}
	for _, file := range []string{"../../openai/testdata/stream_chat.sse", "../../openai/testdata/stream_completion.sse",
		"../../openai/testdata/stream_tools.sse", "../../anthropic/testdata/stream.sse"} {
		for _, e := range ptest.ReadSSE(t, file) {
			for _, p := range splicePaths {
				checkWriteDeltas(t, e.Data, []conv.Delta{changed(p, "held <back> \n")})
			}
		}
	}
	// An unchanged delta is not written, even at a path holding no string.
	w := Writer{Body: []byte(`{"a":1}`)}
	if err := w.WriteDeltas([]conv.Delta{conv.NewDelta(0, "x", "a")}); err != nil || string(w.Body) != `{"a":1}` {
		t.Fatalf("unchanged delta: %s, %v", w.Body, err)
	}
	if err := w.WriteDeltas([]conv.Delta{changed("", "x")}); err == nil {
		t.Fatal("changed delta without a path accepted")
	}
}

func FuzzWriteDeltas(f *testing.F) {
	for i, body := range spliceBodies {
		f.Add([]byte(body), uint8(i), uint8(i+1), stringCases[i%len(stringCases)], "x")
	}
	f.Fuzz(func(t *testing.T, body []byte, p1, p2 uint8, s1, s2 string) {
		if !gjson.ValidBytes(body) || !depthOK(string(body), MaxDepth) {
			return
		}
		ds := []conv.Delta{changed(splicePaths[int(p1)%len(splicePaths)], s1)}
		if p2 < 128 {
			ds = append(ds, changed(splicePaths[int(p2)%len(splicePaths)], s2))
		}
		checkWriteDeltas(t, body, ds)
	})
}

// depthOKByteWise is the former byte-by-byte depthOK, the reference for the
// IndexByte-based string skipping.
func depthOKByteWise(s string, max int) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			for i++; i < len(s); i++ {
				if s[i] == '\\' {
					i++
				} else if s[i] == '"' {
					break
				}
			}
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

func FuzzDepthOK(f *testing.F) {
	for _, s := range append(spliceBodies, `[[["\\"]]]`, `["\\\"[[["]`, `"\`, `["\\\\"[`, `[[`, `"abc`) {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, max uint8) {
		if got, want := depthOK(s, int(max%8)), depthOKByteWise(s, int(max%8)); got != want {
			t.Fatalf("depthOK(%q, %d) = %v, want %v", s, max%8, got, want)
		}
	})
}

func FuzzDataTextAndText(f *testing.F) {
	for _, s := range []string{"data:text/plain;base64,aGVsbG8=", "aGVsbG8=", "data:x", "JVBERi0xLjQK", "",
		`{"a":{"description":"d","enum":["x"]},"type":"object"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, ok, err := DataText(s, "p")
		if ok && (err != nil || !isText([]byte(text), false)) {
			t.Fatalf("ok with err %v or non-text %q", err, text)
		}
		if gjson.Valid(s) {
			_ = Text(gjson.Parse(s))
		}
	})
}
