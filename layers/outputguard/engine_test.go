package outputguard

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/gemini"
	"github.com/rampart-ai/rampart/provider/openai"
)

// Streams through the real engine (its release of held text before the
// events that close a run of text) and the real adapters, with the layer
// in enforce mode; the upstream is a fixed SSE body.

var (
	chatRoute      = engine.Route{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}
	messagesRoute  = engine.Route{Path: "/v1/messages", Kind: conv.KindChat, Adapter: anthropic.New()}
	responsesRoute = engine.Route{Path: "/v1/responses", Kind: conv.KindResponses, Adapter: openai.New()}
	geminiRoute    = engine.Route{Path: "/v1beta/models/g:streamGenerateContent", Kind: conv.KindGenerateContent, Adapter: gemini.New(),
		FromRequest: func(_ *http.Request, c *conv.Conversation) error { c.Model, c.Stream = "g", true; return nil }}
)

func requestFor(r engine.Route) string {
	switch r.Path {
	case messagesRoute.Path:
		return `{"model":"c","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	case responsesRoute.Path:
		return `{"model":"m","stream":true,"input":"hi"}`
	case geminiRoute.Path:
		return `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	}
	return `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
}

// throughEngine streams body (SSE) from a mock upstream through an engine
// holding l and returns what the client receives.
func throughEngine(t *testing.T, l *Layer, route engine.Route, body string) string {
	t.Helper()
	return throughEngineWith(t, l, route, requestFor(route), body, "text/event-stream")
}

// throughEngineWith sends req to route and answers body with content type
// ctype (an SSE stream, or a whole JSON answer).
func throughEngineWith(t *testing.T, l *Layer, route engine.Route, req, body, ctype string) string {
	t.Helper()
	e, err := engine.New(engine.Options{Layers: []engine.Configured{{Layer: l, Mode: engine.ModeEnforce}},
		Routes: []engine.Route{route}, ContentKey: []byte("test-content-key"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	up := engine.UpstreamFunc(func(tx *engine.Tx, r *http.Request, _ []byte) (*http.Response, error) {
		h := http.Header{}
		h.Set("Content-Type", ctype)
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}, nil
	})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, route.Path, strings.NewReader(req))
	r.Header.Set("Content-Type", "application/json")
	e.Handler(route, up).ServeHTTP(w, r)
	return w.Body.String()
}

// sse frames events (name, data); an empty name writes no event: line.
func sse(events ...[2]string) string {
	var b strings.Builder
	for _, e := range events {
		if e[0] != "" {
			b.WriteString("event: " + e[0] + "\n")
		}
		b.WriteString("data: " + e[1] + "\n\n")
	}
	return b.String()
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// channelText joins what the client received in one channel: "content",
// "refusal", "reasoning_content", "arguments" (OpenAI chat); "text",
// "thinking", "partial_json" (Anthropic); "output_text", "arguments"
// (Responses API deltas).
func channelText(body, channel string) string {
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || !gjson.Valid(data) {
			continue
		}
		ev := gjson.Parse(data)
		switch typ := ev.Get("type").Str; {
		case ev.Get("candidates").Exists():
			ev.Get("candidates.0.content.parts").ForEach(func(_, p gjson.Result) bool {
				switch {
				case channel == "gemini_text" && p.Get("text").Exists() && !p.Get("thought").Bool():
					b.WriteString(p.Get("text").Str)
				case channel == "gemini_thought" && p.Get("thought").Bool():
					b.WriteString(p.Get("text").Str)
				case channel == "gemini_code":
					b.WriteString(p.Get("executableCode.code").Str)
				}
				return true
			})
		case typ == "content_block_delta":
			b.WriteString(ev.Get("delta." + channel).Str)
		case typ == "response.output_text.delta" && channel == "output_text",
			typ == "response.reasoning_text.delta" && channel == "reasoning_text",
			typ == "response.function_call_arguments.delta" && channel == "arguments":
			b.WriteString(ev.Get("delta").Str)
		case typ == "":
			if channel == "arguments" {
				ev.Get("choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
					b.WriteString(tc.Get("function.arguments").Str + tc.Get("custom.input").Str)
					return true
				})
			} else {
				b.WriteString(ev.Get("choices.0.delta." + channel).Str)
			}
		}
	}
	return b.String()
}

// sideChannel is one channel of one API with the events that carry the
// given pieces of text.
type sideChannel struct {
	name    string
	route   engine.Route
	channel string // for channelText
	events  func(pieces ...string) string
	rewrite bool // text is rewritten (redacted); else a hit stops the stream
	done    string
}

func oaChunk(delta string) [2]string {
	return [2]string{"", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}`}
}

var oaFinish = [2]string{"", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`}

func oaText(field string) func(pieces ...string) string {
	return func(pieces ...string) string {
		var evs [][2]string
		for _, p := range pieces {
			evs = append(evs, oaChunk(`{"`+field+`":`+js(p)+`}`))
		}
		return sse(append(evs, oaFinish, [2]string{"", "[DONE]"})...)
	}
}

func oaArgs(pieces ...string) string {
	evs := [][2]string{oaChunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"send","arguments":""}}]}`)}
	for _, p := range pieces {
		evs = append(evs, oaChunk(`{"tool_calls":[{"index":0,"function":{"arguments":`+js(p)+`}}]}`))
	}
	evs = append(evs, [2]string{"", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`})
	return sse(append(evs, [2]string{"", "[DONE]"})...)
}

func oaCustom(pieces ...string) string {
	evs := [][2]string{oaChunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"custom","custom":{"name":"send","input":""}}]}`)}
	for _, p := range pieces {
		evs = append(evs, oaChunk(`{"tool_calls":[{"index":0,"custom":{"input":`+js(p)+`}}]}`))
	}
	evs = append(evs, [2]string{"", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`})
	return sse(append(evs, [2]string{"", "[DONE]"})...)
}

func anBlock(start string, deltaType, field string, closing ...[2]string) func(pieces ...string) string {
	return func(pieces ...string) string {
		evs := [][2]string{
			{"message_start", `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c","usage":{"input_tokens":1,"output_tokens":0}}}`},
			{"content_block_start", `{"type":"content_block_start","index":0,"content_block":` + start + `}`},
		}
		for _, p := range pieces {
			evs = append(evs, [2]string{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"` + deltaType + `","` + field + `":` + js(p) + `}}`})
		}
		evs = append(evs, closing...)
		evs = append(evs, [2]string{"content_block_stop", `{"type":"content_block_stop","index":0}`},
			[2]string{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`},
			[2]string{"message_stop", `{"type":"message_stop"}`})
		return sse(evs...)
	}
}

func respText(pieces ...string) string {
	full := strings.Join(pieces, "")
	evs := [][2]string{
		{"response.output_item.added", `{"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}}`},
		{"response.content_part.added", `{"type":"response.content_part.added","item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}}`},
	}
	for _, p := range pieces {
		evs = append(evs, [2]string{"response.output_text.delta", `{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":` + js(p) + `}`})
	}
	item := `{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":` + js(full) + `}]}`
	evs = append(evs,
		[2]string{"response.output_text.done", `{"type":"response.output_text.done","item_id":"msg_1","output_index":0,"content_index":0,"text":` + js(full) + `}`},
		[2]string{"response.output_item.done", `{"type":"response.output_item.done","output_index":0,"item":` + item + `}`},
		[2]string{"response.completed", `{"type":"response.completed","response":{"id":"r","output":[` + item + `],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}}`})
	return sse(evs...)
}

// respReasoning streams a reasoning item's text (open-weight models'
// reasoning_text parts).
func respReasoning(pieces ...string) string {
	full := strings.Join(pieces, "")
	evs := [][2]string{{"response.output_item.added", `{"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[],"content":[]}}`}}
	for _, p := range pieces {
		evs = append(evs, [2]string{"response.reasoning_text.delta", `{"type":"response.reasoning_text.delta","item_id":"rs_1","output_index":0,"content_index":0,"delta":` + js(p) + `}`})
	}
	item := `{"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":` + js(full) + `}]}`
	evs = append(evs,
		[2]string{"response.reasoning_text.done", `{"type":"response.reasoning_text.done","item_id":"rs_1","output_index":0,"content_index":0,"text":` + js(full) + `}`},
		[2]string{"response.output_item.done", `{"type":"response.output_item.done","output_index":0,"item":` + item + `}`},
		[2]string{"response.completed", `{"type":"response.completed","response":{"id":"r","output":[` + item + `],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}}`})
	return sse(evs...)
}

func respArgs(pieces ...string) string {
	full := strings.Join(pieces, "")
	item := `{"type":"function_call","id":"fc_1","call_id":"call_1","name":"send","arguments":` + js(full) + `}`
	evs := [][2]string{{"response.output_item.added", `{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"send","arguments":""}}`}}
	for _, p := range pieces {
		evs = append(evs, [2]string{"response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":` + js(p) + `}`})
	}
	evs = append(evs,
		[2]string{"response.function_call_arguments.done", `{"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":0,"arguments":` + js(full) + `}`},
		[2]string{"response.output_item.done", `{"type":"response.output_item.done","output_index":0,"item":` + item + `}`},
		[2]string{"response.completed", `{"type":"response.completed","response":{"id":"r","output":[` + item + `],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}}`})
	return sse(evs...)
}

// gemParts streams a Gemini answer whose parts hold the pieces in field
// (a part object with %s for the piece), the last chunk with finishReason.
func gemParts(part string) func(pieces ...string) string {
	return func(pieces ...string) string {
		var evs [][2]string
		for i, p := range pieces {
			fin := ""
			if i == len(pieces)-1 {
				fin = `,"finishReason":"STOP"`
			}
			evs = append(evs, [2]string{"", `{"candidates":[{"content":{"role":"model","parts":[` + strings.Replace(part, "%s", js(p), 1) + `]},"index":0` + fin + `}],"modelVersion":"g"}`})
		}
		return sse(evs...)
	}
}

var sideChannels = []sideChannel{
	{"openai content", chatRoute, "content", oaText("content"), true, "[DONE]"},
	{"openai refusal", chatRoute, "refusal", oaText("refusal"), true, "[DONE]"},
	{"openai reasoning_content", chatRoute, "reasoning_content", oaText("reasoning_content"), true, "[DONE]"},
	{"openai tool-call arguments", chatRoute, "arguments", oaArgs, false, "[DONE]"},
	{"openai custom tool input", chatRoute, "arguments", oaCustom, false, "[DONE]"},
	{"anthropic text", messagesRoute, "text", anBlock(`{"type":"text","text":""}`, "text_delta", "text"), true, "message_stop"},
	{"anthropic thinking", messagesRoute, "thinking", anBlock(`{"type":"thinking","thinking":""}`, "thinking_delta", "thinking",
		[2]string{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}`}), false, "message_stop"},
	{"anthropic tool_use input", messagesRoute, "partial_json", anBlock(`{"type":"tool_use","id":"t","name":"send","input":{}}`, "input_json_delta", "partial_json"), false, "message_stop"},
	{"responses output_text", responsesRoute, "output_text", respText, true, "response.completed"},
	{"responses reasoning_text", responsesRoute, "reasoning_text", respReasoning, true, "response.completed"},
	{"responses function_call arguments", responsesRoute, "arguments", respArgs, false, "response.completed"},
	{"gemini text", geminiRoute, "gemini_text", gemParts(`{"text":%s}`), true, `"finishReason":"STOP"`},
	{"gemini thought", geminiRoute, "gemini_thought", gemParts(`{"text":%s,"thought":true}`), true, `"finishReason":"STOP"`},
	{"gemini executableCode", geminiRoute, "gemini_code", gemParts(`{"executableCode":{"language":"PYTHON","code":%s}}`), true, `"finishReason":"STOP"`},
}

// Every streamed channel of both APIs holds a secret back until it can
// be judged: no piece of it reaches the client, whether the channel is
// rewritten (the secret redacted where it stands) or cannot be (tool-call
// arguments: the stream stops before the first piece goes out). A benign
// text split the same way arrives whole and unchanged, in its channel,
// through the adapters' release events.
func TestSideChannelsHeldBack(t *testing.T) {
	l := provisioned(t, Config{})
	for _, c := range sideChannels {
		t.Run(c.name, func(t *testing.T) {
			var pieces []string
			if c.rewrite {
				pieces = []string{"the token is ", chanA[:9], chanA[9:], chanB, " ok"}
			} else {
				pieces = []string{`{"body":"`, chanA[:9], chanA[9:], chanB, `"}`}
			}
			out := throughEngine(t, l, c.route, c.events(pieces...))
			for i := 0; i+8 <= len(chanSecret); i++ {
				if strings.Contains(out, chanSecret[i:i+8]) {
					t.Fatalf("piece %q of the secret reached the client:\n%s", chanSecret[i:i+8], out)
				}
			}
			if c.rewrite {
				if got := channelText(out, c.channel); got != "the token is [GITHUB_TOKEN] ok" {
					t.Fatalf("%s: %q\n%s", c.channel, got, out)
				}
				if !strings.Contains(out, c.done) {
					t.Fatalf("stream did not end normally:\n%s", out)
				}
			} else if !strings.Contains(out, "event: error") || strings.Contains(out, c.done) {
				t.Fatalf("stream not stopped:\n%s", out)
			}

			benign := []string{"Deploy", " version 2", ".4.1 to", " the EU-west", " region at 09", ":30, then call", " +1 555", " 010 9999."}
			if !c.rewrite {
				benign = []string{`{"region":"EU-`, `west","at":"09`, `:30","n":4`, `2}`}
			}
			out = throughEngine(t, l, c.route, c.events(benign...))
			if got := channelText(out, c.channel); got != strings.Join(benign, "") {
				t.Fatalf("benign %s: %q\n%s", c.channel, got, out)
			}
			if !strings.Contains(out, c.done) || strings.Contains(out, "event: error") {
				t.Fatalf("benign stream did not end normally:\n%s", out)
			}
		})
	}
}

// Log probabilities repeat the answer's tokens: where the guard changed
// or held text, they are emptied, whole and streamed, in chat and in the
// Responses API, so a redacted secret does not come back through them.
func TestLogprobsOfChangedTextDropped(t *testing.T) {
	l := provisioned(t, Config{})
	lp := func(tokens ...string) string {
		var b strings.Builder
		for i, tok := range tokens {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"token":` + js(tok) + `,"logprob":-0.1,"bytes":null,"top_logprobs":[{"token":` + js(tok) + `,"logprob":-0.1,"bytes":null}]}`)
		}
		return "[" + b.String() + "]"
	}
	check := func(name, out string) {
		t.Helper()
		for i := 0; i+8 <= len(chanSecret); i++ {
			if strings.Contains(out, chanSecret[i:i+8]) {
				t.Fatalf("%s: piece %q of the secret reached the client:\n%s", name, chanSecret[i:i+8], out)
			}
		}
	}
	// chat stream: every chunk carries its tokens' log probabilities
	var evs [][2]string
	for _, p := range []string{"the token is ", chanA, chanB, " ok"} {
		evs = append(evs, [2]string{"", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":` + js(p) + `},"logprobs":{"content":` + lp(p) + `},"finish_reason":null}]}`})
	}
	out := throughEngine(t, l, chatRoute, sse(append(evs, oaFinish, [2]string{"", "[DONE]"})...))
	check("chat stream", out)
	if !strings.Contains(out, `"logprobs":{"content":[{"token":"the token is "`) {
		t.Fatalf("log probabilities of unchanged text were removed:\n%s", out)
	}
	// Responses stream: output_text deltas and the done event carry them
	var revs [][2]string
	for _, p := range []string{"the token is ", chanA, chanB, " ok"} {
		revs = append(revs, [2]string{"response.output_text.delta", `{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":` + js(p) + `,"logprobs":` + lp(p) + `}`})
	}
	full := "the token is " + chanSecret + " ok"
	revs = append(revs, [2]string{"response.output_text.done", `{"type":"response.output_text.done","item_id":"msg_1","output_index":0,"content_index":0,"text":` + js(full) + `,"logprobs":` + lp(full) + `}`},
		[2]string{"response.completed", `{"type":"response.completed","response":{"id":"r","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":` + js(full) + `,"logprobs":` + lp(full) + `}]}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}}`})
	check("responses stream", throughEngine(t, l, responsesRoute, sse(revs...)))

	// whole chat answer and whole Responses answer
	chat := `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":` + js(full) + `},"logprobs":{"content":` + lp(full) + `},"finish_reason":"stop"}]}`
	got, _ := wholeThrough(t, openai.New(), l, chat)
	check("chat whole", got)
	resp := `{"id":"r","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":` + js(full) + `,"annotations":[],"logprobs":` + lp(full) + `}]}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`
	r, err := openai.New().ParseResponse([]byte(resp), conv.KindResponses)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.OnResponse(&engine.Tx{}, r); err != nil {
		t.Fatal(err)
	}
	enc, err := openai.New().EncodeResponse([]byte(resp), r)
	if err != nil {
		t.Fatal(err)
	}
	check("responses whole", string(enc))
}

// An attacker who makes the model write a key's plain lower-case head as
// its own event ("sk" then "-proj-…", "gh" then "p_…", "xox" then
// "b-…", "AK" then "IA…", a single "s" then "k-proj-…", or the head of a
// key only a gitleaks rule knows, "do" then "p_v1_…") gets nothing of it
// out ahead of the rest:
// the streamed answer equals the whole one, in every channel of every API
// (text channels redacted in place, tool-call arguments stopped before
// their first piece).
func TestKeyHeadHeldBack(t *testing.T) {
	l := provisioned(t, Config{})
	keys := []struct{ head, rest, entity string }{
		{"sk", "-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh", "[OPENAI_API_KEY]"},
		{"gh", "p_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP", "[GITHUB_TOKEN]"},
		{"ghp", "_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP", "[GITHUB_TOKEN]"},
		{"xox", "b-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "[SECRET]"},
		{"AK", "IAIOSFODNN7EXAMPLF", "[AWS_ACCESS_KEY]"},
		{"glp", "at-Ab3dEf6hIj9kLm2nOp5q", "[SECRET]"},
		{"---", "--BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\n-----END RSA PRIVATE KEY-----", "[PRIVATE_KEY]"},
		// one letter alone, and heads taken from the secret rules'
		// literals (DigitalOcean "dop_v1_", Linear "lin_api_", npm)
		{"s", "k-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh", "[OPENAI_API_KEY]"},
		{"g", "hp_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP", "[GITHUB_TOKEN]"},
		{"do", "p_v1_" + strings.Repeat("3fa9c0de", 8), "[SECRET]"},
		{"l", "in_api_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0f", "[SECRET]"},
		{"np", "m_" + "ab3def6hij9klm2nop5qrs8tuv1wxy4zab7c", "[SECRET]"},
		{"ghs", "_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP", "[GITHUB_TOKEN]"},
		{"xoxp", "-4829173650-7391028465-5820617394-Qm7vT2xK9pLw4ZbN8cRj3HsYd6Fg", "[SECRET]"},
	}
	for _, c := range sideChannels {
		for _, k := range keys {
			t.Run(c.name+"/"+k.head, func(t *testing.T) {
				if c.rewrite {
					pieces := []string{"the key is ", "(", k.head, k.rest[:6], k.rest[6:], " ok"}
					want, _ := whole(t, l, &engine.Tx{}, strings.Join(pieces, ""))
					if want != "the key is ("+k.entity+" ok" {
						t.Fatalf("whole answer: %q", want)
					}
					out := throughEngine(t, l, c.route, c.events(pieces...))
					if got := channelText(out, c.channel); got != want {
						t.Fatalf("streamed %q, whole %q\n%s", got, want, out)
					}
					return
				}
				out := throughEngine(t, l, c.route, c.events(`{"body":"`, k.head, k.rest[:6], k.rest[6:], `"}`))
				if got := channelText(out, c.channel); strings.Contains(got, k.head) || !strings.Contains(out, "event: error") {
					t.Fatalf("arguments released %q:\n%s", got, out)
				}
			})
		}
	}
	// whole answers of every API: the key is redacted (or, in tool-call
	// arguments, the answer blocked)
	full := "the key is sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh ok"
	for _, w := range []struct {
		name, body string
		a          provider.Adapter
		kind       conv.Kind
	}{
		{"openai chat", `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":` + js(full) + `},"finish_reason":"stop"}]}`, openai.New(), conv.KindChat},
		{"responses", `{"id":"r","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":` + js(full) + `,"annotations":[]}]}]}`, openai.New(), conv.KindResponses},
		{"anthropic", `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":` + js(full) + `}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`, anthropic.New(), conv.KindChat},
		{"gemini", `{"candidates":[{"content":{"role":"model","parts":[{"text":` + js(full) + `}]},"finishReason":"STOP","index":0}]}`, gemini.New(), conv.KindGenerateContent},
	} {
		r, err := w.a.ParseResponse([]byte(w.body), w.kind)
		if err != nil {
			t.Fatal(w.name, err)
		}
		if _, err := l.OnResponse(&engine.Tx{}, r); err != nil {
			t.Fatal(err)
		}
		enc, err := w.a.EncodeResponse([]byte(w.body), r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(enc), "the key is [OPENAI_API_KEY] ok") || strings.Contains(string(enc), "sk-") {
			t.Errorf("%s whole: %s", w.name, enc)
		}
	}
}

// The system prompt written in an encoding (ROT13, leetspeak, JSON or HTML
// escapes…) by the model is caught in every API's answer text, whole and
// streamed (in 5-byte events), before its last quarter goes out.
func TestLeakEncodedThroughAPIs(t *testing.T) {
	l := provisioned(t, Config{})
	sys := js(leakSys)
	apis := []struct {
		name  string
		route engine.Route
		req   string
		ch    string // the side channel carrying the text
		whole func(text string) string
	}{
		{"openai chat", chatRoute, `{"model":"m","stream":true,"messages":[{"role":"system","content":` + sys + `},{"role":"user","content":"hi"}]}`, "openai content",
			func(x string) string {
				return `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":` + js(x) + `},"finish_reason":"stop"}]}`
			}},
		{"responses", responsesRoute, `{"model":"m","stream":true,"instructions":` + sys + `,"input":"hi"}`, "responses output_text",
			func(x string) string {
				return `{"id":"r","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":` + js(x) + `,"annotations":[]}]}]}`
			}},
		{"anthropic", messagesRoute, `{"model":"c","max_tokens":50,"stream":true,"system":` + sys + `,"messages":[{"role":"user","content":"hi"}]}`, "anthropic text",
			func(x string) string {
				return `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":` + js(x) + `}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`
			}},
		{"gemini", geminiRoute, `{"systemInstruction":{"parts":[{"text":` + sys + `}]},"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, "gemini text",
			func(x string) string {
				return `{"candidates":[{"content":{"role":"model","parts":[{"text":` + js(x) + `}]},"finishReason":"STOP","index":0}]}`
			}},
	}
	encs := leakEncodings()
	for _, api := range apis {
		var ch sideChannel
		for _, c := range sideChannels {
			if c.name == api.ch {
				ch = c
			}
		}
		for _, name := range []string{"rot13", "leetspeak", "json escapes", "html entities", "url escapes", "zero-width inside"} {
			enc := encs[name]
			t.Run(api.name+"/"+name, func(t *testing.T) {
				answer := "Sure: " + enc + " Anything else?"
				var pieces []string
				for i := 0; i < len(answer); i += 5 {
					pieces = append(pieces, answer[i:min(i+5, len(answer))])
				}
				out := throughEngineWith(t, l, api.route, api.req, ch.events(pieces...), "text/event-stream")
				if !strings.Contains(out, "sensitive_output") {
					t.Fatalf("stream not stopped:\n%.600s", out)
				}
				if tail := enc[len(enc)*3/4:]; strings.Contains(channelText(out, ch.channel), tail) {
					t.Fatalf("the last quarter went out")
				}
				out = throughEngineWith(t, l, api.route, strings.Replace(api.req, `"stream":true,`, "", 1), api.whole(answer), "application/json")
				if !strings.Contains(out, "sensitive_output") || strings.Contains(out, enc[:len(enc)/2]) {
					t.Fatalf("whole answer not blocked:\n%.600s", out)
				}
			})
		}
	}
}
