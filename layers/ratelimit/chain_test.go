package ratelimit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/openai"
)

// These tests run the layer inside the engine with the real adapters: what
// the upstream receives (rewritten max_tokens, a usage request), what the
// client gets (headers), and what is charged (the upstream's usage).

var (
	openaiChat    = engine.Route{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}
	anthropicMsgs = engine.Route{Path: "/v1/messages", Kind: conv.KindChat, Adapter: anthropic.New()}
)

const (
	openaiWhole  = `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":333,"total_tokens":344}}`
	openaiStream = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
	openaiUsageChunk = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":333,\"total_tokens\":344}}\n\n"
	anthropicWhole   = `{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":25,"output_tokens":40}}`
	anthropicStream  = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":40}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
)

// upstream answers like a provider would and records the bodies it got.
type upstream struct {
	mu   sync.Mutex
	sent []string
}

func (u *upstream) RoundTrip(tx *engine.Tx, _ *http.Request, body []byte) (*http.Response, error) {
	u.mu.Lock()
	u.sent = append(u.sent, string(body))
	u.mu.Unlock()
	stream := gjson.GetBytes(body, "stream").Bool()
	ct, out := "application/json", openaiWhole
	switch {
	case tx.Route == anthropicMsgs.Path && stream:
		ct, out = "text/event-stream", anthropicStream
	case tx.Route == anthropicMsgs.Path:
		out = anthropicWhole
	case stream:
		ct, out = "text/event-stream", openaiStream
		if gjson.GetBytes(body, "stream_options.include_usage").Bool() {
			out += openaiUsageChunk
		}
		out += "data: [DONE]\n\n"
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}},
		Body: io.NopCloser(strings.NewReader(out)), ContentLength: -1}, nil
}

func (u *upstream) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.sent[len(u.sent)-1]
}

func newChain(t *testing.T, cfg Config, route engine.Route) (http.Handler, *upstream) {
	t.Helper()
	l, _ := newLayer(t, cfg)
	e, err := engine.New(engine.Options{Layers: []engine.Configured{{Layer: l}}, Routes: []engine.Route{route}})
	if err != nil {
		t.Fatal(err)
	}
	up := &upstream{}
	return e.Handler(route, up), up
}

func send(t *testing.T, h http.Handler, route engine.Route, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, route.Path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// clamp rewrites the request the upstream receives, for both providers,
// whole and streamed; block refuses it; a request without max_tokens gets
// the default; unknown fields pass byte for byte.
func TestMaxTokensThroughEngine(t *testing.T) {
	clamp := Config{Rules: []Rule{{Name: "cap", Scope: ScopeGlobal, MaxTokens: 100, MaxTokensAction: MaxTokensClamp}}}
	cases := []struct {
		name  string
		cfg   Config
		route engine.Route
		body  string
		code  int
		want  string // body the upstream receives
	}{
		{"openai whole", clamp, openaiChat,
			`{"model":"gpt-4o","x_vendor":{"k":[1,2]},"max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"gpt-4o","x_vendor":{"k":[1,2]},"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`},
		{"openai stream", clamp, openaiChat,
			`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":100,"messages":[{"role":"user","content":"hi"}]}`},
		{"openai absent gets the cap", clamp, openaiChat,
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":100}`},
		{"openai below the cap unchanged", clamp, openaiChat,
			`{"model":"gpt-4o","max_tokens":  50,"messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"gpt-4o","max_tokens":  50,"messages":[{"role":"user","content":"hi"}]}`},
		{"anthropic whole", clamp, anthropicMsgs,
			`{"model":"claude","max_tokens":8192,"metadata":{"user_id":"u1"},"messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"claude","max_tokens":100,"metadata":{"user_id":"u1"},"messages":[{"role":"user","content":"hi"}]}`},
		{"anthropic stream", clamp, anthropicMsgs,
			`{"model":"claude","stream":true,"max_tokens":8192,"messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"claude","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`},
		{"block", Config{Rules: []Rule{{Scope: ScopeGlobal, MaxTokens: 100}}}, openaiChat,
			`{"model":"gpt-4o","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}`, 400, ""},
		{"default only", Config{Rules: []Rule{{Scope: ScopeGlobal, MaxTokensDefault: 700}}}, openaiChat,
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, 200,
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":700}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, up := newChain(t, tc.cfg, tc.route)
			w := send(t, h, tc.route, tc.body)
			if w.Code != tc.code {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if tc.code != 200 {
				if len(up.sent) != 0 || !strings.Contains(w.Body.String(), CodeMaxTokens) {
					t.Fatalf("refused request went upstream or wrong error: %s", w.Body)
				}
				return
			}
			if got := up.last(); got != tc.want {
				t.Fatalf("upstream got\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

// A successful answer carries OpenAI's x-ratelimit-* headers (the engine
// adds Decision.Headers of enforcing layers that did not block).
func TestSuccessHeaders(t *testing.T) {
	h, _ := newChain(t, Config{Rules: []Rule{{Scope: ScopeIP, RPM: 10, TPM: 100000}}}, openaiChat)
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	w := send(t, h, openaiChat, body)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	for k, want := range map[string]string{"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "9",
		"x-ratelimit-limit-tokens": "100000"} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if w.Header().Get("x-ratelimit-remaining-tokens") == "" || w.Header().Get("x-ratelimit-reset-requests") == "" {
		t.Errorf("headers %v", w.Header())
	}
	w = send(t, h, openaiChat, body)
	if got := w.Header().Get("x-ratelimit-remaining-requests"); got != "8" {
		t.Errorf("second request: remaining %q", got)
	}

	// A global (or route, or model) rule's state is shared by every tenant:
	// it is not shown on successful answers (only the 429 names it).
	h, _ = newChain(t, Config{Rules: []Rule{{Scope: ScopeGlobal, RPM: 1, Burst: 1}}}, openaiChat)
	if w := send(t, h, openaiChat, body); w.Code != 200 || w.Header().Get("x-ratelimit-limit-requests") != "" {
		t.Errorf("global rule on a success: %d %v", w.Code, w.Header())
	}
	if w := send(t, h, openaiChat, body); w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Errorf("global rule exceeded: %d %v", w.Code, w.Header())
	}
}

// A stream whose client did not ask for usage is charged the upstream's
// usage: the layer makes the adapter ask for it. Anthropic streams report
// the prompt in message_start and the completion in message_delta; both
// count.
func TestStreamChargedUpstreamUsage(t *testing.T) {
	cases := []struct {
		name    string
		route   engine.Route
		body    string
		charged int64 // the upstream's usage
		asked   bool  // the layer asked the upstream for usage
	}{
		{"openai, client did not ask", openaiChat, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 344, true},
		{"openai, client asked", openaiChat, `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, 344, false},
		{"openai whole", openaiChat, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, 344, false},
		{"anthropic stream", anthropicMsgs, `{"model":"claude","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, 65, false},
		{"anthropic whole", anthropicMsgs, `{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`, 65, false},
	}
	const tpm = 100000
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, up := newChain(t, Config{Rules: []Rule{{Scope: ScopeIP, TPM: tpm}}}, tc.route)
			w := send(t, h, tc.route, tc.body)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			sent := up.last()
			if got := gjson.Get(sent, "stream_options.include_usage").Bool() && !strings.Contains(tc.body, "include_usage"); got != tc.asked {
				t.Fatalf("usage asked %v, want %v: %s", got, tc.asked, sent)
			}
			// The clock stands still: what the next request finds left is
			// the limit minus both requests' charges.
			prompt := promptTokens(&conv.Conversation{Kind: conv.KindChat, Model: gjson.Get(tc.body, "model").Str, Messages: []conv.Message{
				{Role: conv.RoleUser, Segments: []conv.Segment{conv.NewSegment("hi", conv.SourceUser, "")}}}})
			w = send(t, h, tc.route, tc.body)
			want := tpm - tc.charged - prompt
			if got := w.Header().Get("x-ratelimit-remaining-tokens"); got != strconv.FormatInt(want, 10) {
				t.Fatalf("remaining tokens %s, want %d (charged %d for the first answer)", got, want, tc.charged)
			}
		})
	}
}
