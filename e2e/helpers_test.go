package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/gateway"
	"github.com/rampart-ai/rampart/store"
)

// This file holds the rig for tests that run the REAL gateway built from a
// YAML config (identity, audit, every configured layer), unlike setup() in
// e2e_test.go which injects its own layer with WithLayers.

// llmCall is one request the fake upstream received.
type llmCall struct {
	Path   string
	Header http.Header
	Body   []byte
}

// llmToolCall is a tool call the fake upstream answers with.
type llmToolCall struct{ ID, Name, Args string }

// llmReply is what the fake upstream answers: Text (streamed in pieces of
// Chunk bytes, cut at rune boundaries; default 4) and tool calls.
type llmReply struct {
	Text  string
	Chunk int
	Tools []llmToolCall
	// Thinking, when set, comes first in an Anthropic answer as a thinking
	// block signed with fakeSignature (whole, or streamed in Chunk-sized
	// thinking_delta events then a signature_delta).
	Thinking string
}

// fakeSignature stands for Anthropic's signature over a thinking block:
// the fake upstream refuses a request that sends back a thinking block
// whose text does not match it, as Anthropic does.
func fakeSignature(thinking string) string {
	h := sha256.Sum256([]byte("fake-anthropic:" + thinking))
	return base64.StdEncoding.EncodeToString(h[:])
}

// badThinking reports whether an Anthropic request sends back a thinking
// block whose signature does not match its text.
func badThinking(body []byte) bool {
	bad := false
	gjson.GetBytes(body, "messages.#.content").ForEach(func(_, c gjson.Result) bool {
		c.ForEach(func(_, b gjson.Result) bool {
			if b.Get("type").Str == "thinking" && b.Get("signature").Str != fakeSignature(b.Get("thinking").Str) {
				bad = true
			}
			return !bad
		})
		return !bad
	})
	return bad
}

// fakeLLM is a scriptable OpenAI/Anthropic upstream that records every
// request body. Without a reply function it echoes the last user text.
type fakeLLM struct {
	mu    sync.Mutex
	calls []llmCall
	reply func(path string, body []byte) llmReply
}

func (f *fakeLLM) setReply(fn func(path string, body []byte) llmReply) {
	f.mu.Lock()
	f.reply = fn
	f.mu.Unlock()
}

func (f *fakeLLM) answerWith(r llmReply) {
	f.setReply(func(string, []byte) llmReply { return r })
}

// last returns the latest request the upstream received.
func (f *fakeLLM) last(t *testing.T) llmCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the upstream received no request")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeLLM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// lastUserText is the text of the last user message of an OpenAI chat or
// Anthropic messages body (string content or text parts).
func lastUserText(body []byte) string {
	if in := gjson.GetBytes(body, "input"); in.Exists() { // Responses API
		return responsesUserText(in)
	}
	if in := gjson.GetBytes(body, "contents"); in.Exists() { // Gemini
		return geminiUserText(in)
	}
	var text string
	for _, m := range gjson.GetBytes(body, "messages").Array() {
		if m.Get("role").String() != "user" {
			continue
		}
		c := m.Get("content")
		if c.Type == gjson.String {
			text = c.String()
			continue
		}
		var sb strings.Builder
		for _, p := range c.Array() {
			sb.WriteString(p.Get("text").String())
		}
		text = sb.String()
	}
	return text
}

// pieces cuts s into pieces of about n bytes at rune boundaries.
func pieces(s string, n int) []string {
	if n <= 0 {
		n = 4
	}
	var out []string
	for len(s) > 0 {
		i := n
		if i >= len(s) {
			i = len(s)
		}
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	f.mu.Lock()
	f.calls = append(f.calls, llmCall{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	fn := f.reply
	f.mu.Unlock()
	rep := llmReply{Text: "You said: " + lastUserText(body)}
	if fn != nil {
		rep = fn(r.URL.Path, body)
	}
	model := gjson.GetBytes(body, "model").String()
	stream := gjson.GetBytes(body, "stream").Bool()
	if strings.HasPrefix(r.URL.Path, "/v1beta/models/") {
		gemAnswer(w, r, rep)
		return
	}
	switch r.URL.Path {
	case "/v1/chat/completions":
		oaiAnswer(w, model, stream, rep)
	case "/v1/messages":
		if badThinking(body) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0: Invalid signature in thinking block"}}`)
			return
		}
		antAnswer(w, model, stream, rep)
	case "/v1/responses":
		respAnswer(w, model, stream, rep)
	case "/v1/moderations":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, js(map[string]any{"id": "modr-e2e", "model": model, "results": []any{map[string]any{
			"flagged": true, "categories": map[string]any{"violence": true}, "category_scores": map[string]any{"violence": 0.9}}}}))
	case "/v1/messages/count_tokens":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"input_tokens":42}`)
	case "/v1/models/gpt-4o", "/v1/models/ft:gpt-4o:acme::abc123":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, js(map[string]any{"id": strings.TrimPrefix(r.URL.Path, "/v1/models/"), "object": "model", "created": 1, "owned_by": "e2e"}))
	default:
		http.NotFound(w, r)
	}
}

func oaiAnswer(w http.ResponseWriter, model string, stream bool, rep llmReply) {
	finish := "stop"
	if len(rep.Tools) > 0 {
		finish = "tool_calls"
	}
	usage := map[string]any{"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
	if !stream {
		msg := map[string]any{"role": "assistant", "content": rep.Text}
		if len(rep.Tools) > 0 {
			var tcs []any
			for _, tc := range rep.Tools {
				tcs = append(tcs, map[string]any{"id": tc.ID, "type": "function",
					"function": map[string]any{"name": tc.Name, "arguments": tc.Args}})
			}
			msg["tool_calls"] = tcs
			if rep.Text == "" {
				msg["content"] = nil
			}
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, js(map[string]any{"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage}))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	send := func(delta map[string]any, fin any) {
		fmt.Fprintf(w, "data: %s\n\n", js(map[string]any{"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1,
			"model": model, "choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": fin}}}))
		fl.Flush()
	}
	send(map[string]any{"role": "assistant", "content": ""}, nil)
	for _, p := range pieces(rep.Text, rep.Chunk) {
		send(map[string]any{"content": p}, nil)
	}
	for i, tc := range rep.Tools {
		send(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": tc.ID, "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": ""}}}}, nil)
		for _, p := range pieces(tc.Args, 5) {
			send(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": p}}}}, nil)
		}
	}
	send(map[string]any{}, finish)
	io.WriteString(w, "data: [DONE]\n\n")
}

func antAnswer(w http.ResponseWriter, model string, stream bool, rep llmReply) {
	if !stream {
		content := []any{map[string]any{"type": "text", "text": rep.Text}}
		if rep.Thinking != "" {
			content = append([]any{map[string]any{"type": "thinking", "thinking": rep.Thinking, "signature": fakeSignature(rep.Thinking)}}, content...)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, js(map[string]any{"id": "msg_e2e", "type": "message", "role": "assistant", "model": model,
			"content": content, "stop_reason": "end_turn",
			"stop_sequence": nil, "usage": map[string]any{"input_tokens": 5, "output_tokens": 7}}))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	ev := func(name string, v map[string]any) {
		v["type"] = name
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, js(v))
		fl.Flush()
	}
	ev("message_start", map[string]any{"message": map[string]any{"id": "msg_e2e", "type": "message", "role": "assistant", "model": model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": 5, "output_tokens": 1}}})
	idx := 0
	if rep.Thinking != "" {
		ev("content_block_start", map[string]any{"index": 0, "content_block": map[string]any{"type": "thinking", "thinking": "", "signature": ""}})
		for _, p := range pieces(rep.Thinking, rep.Chunk) {
			ev("content_block_delta", map[string]any{"index": 0, "delta": map[string]any{"type": "thinking_delta", "thinking": p}})
		}
		ev("content_block_delta", map[string]any{"index": 0, "delta": map[string]any{"type": "signature_delta", "signature": fakeSignature(rep.Thinking)}})
		ev("content_block_stop", map[string]any{"index": 0})
		idx = 1
	}
	ev("content_block_start", map[string]any{"index": idx, "content_block": map[string]any{"type": "text", "text": ""}})
	for _, p := range pieces(rep.Text, rep.Chunk) {
		ev("content_block_delta", map[string]any{"index": idx, "delta": map[string]any{"type": "text_delta", "text": p}})
	}
	ev("content_block_stop", map[string]any{"index": idx})
	ev("message_delta", map[string]any{"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]any{"output_tokens": 7}})
	ev("message_stop", map[string]any{})
}

// rig is a gateway built from config (gateway.New without WithLayers) in
// front of a fakeLLM, with the bootstrap admin key it printed.
type rig struct {
	url   string
	llm   *fakeLLM
	admin string // the bootstrap global admin key
}

var bootstrapKeyRE = regexp.MustCompile(`\brk_[A-Za-z0-9]{43}\b`)

// newRig starts a gateway whose config is the YAML text layers (a whole
// "layers:" section, or "" for the defaults) plus two upstreams pointing at
// a fresh fakeLLM, a temporary data directory and synchronous audit.
func newRig(t *testing.T, layers string) *rig {
	t.Helper()
	llm := &fakeLLM{}
	r := newRigOn(t, layers, llm)
	r.llm = llm
	return r
}

// newRigOn is newRig in front of the upstream handler llm.
func newRigOn(t *testing.T, layers string, llm http.Handler) *rig {
	t.Helper()
	up := httptest.NewUnstartedServer(llm)
	up.Config.ErrorLog = panicLog(t, "upstream")
	up.Start()
	t.Cleanup(up.Close)
	if layers == "" {
		layers = "layers: {}"
	}
	yml := fmt.Sprintf(`data_dir: %q
upstreams:
  - {name: oai, provider: openai, base_url: %q}
  - {name: ant, provider: anthropic, base_url: %q}
  - {name: gem, provider: gemini, base_url: %q}
audit: {sync: true}
%s
`, t.TempDir(), up.URL+"/v1", up.URL+"/v1", up.URL+"/v1beta", layers)
	cfg, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yml)
	}
	var boot bytes.Buffer
	creds := map[string]string{"OPENAI_API_KEY": "sk-upstream-provider", "ANTHROPIC_API_KEY": "ant-upstream-provider",
		"GEMINI_API_KEY": "gem-upstream-provider"}
	g, err := gateway.New(cfg, gateway.WithLogger(slog.New(slog.DiscardHandler)), gateway.WithBootstrapOutput(&boot),
		gateway.WithGetenv(func(k string) string { return creds[k] }))
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewUnstartedServer(g.Handler())
	srv.Config.ErrorLog = panicLog(t, "gateway")
	srv.Start()
	t.Cleanup(srv.Close)
	key := bootstrapKeyRE.FindString(boot.String())
	if key == "" {
		t.Fatalf("no bootstrap admin key printed: %q", boot.String())
	}
	return &rig{url: srv.URL, admin: key}
}

// panicLog is an http.Server error log that fails the test on a panic
// in a handler or in the server's connection handling.
func panicLog(t *testing.T, name string) *log.Logger {
	return log.New(logWriter(func(p []byte) {
		if bytes.Contains(p, []byte("panic")) {
			t.Errorf("%s server: %.2000s", name, p)
		}
	}), "", 0)
}

type logWriter func([]byte)

func (f logWriter) Write(p []byte) (int, error) { f(p); return len(p), nil }

// do sends method path with body (JSON-encoded unless a string or nil)
// authenticated by key ("" for none) and returns the status and body.
func (r *rig) do(t *testing.T, key, method, path string, body any) (int, []byte) {
	t.Helper()
	st, b, _ := r.send(t, key, method, path, body)
	return st, b
}

// send is do, also returning the answer's headers.
func (r *rig) send(t *testing.T, key, method, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		rd = strings.NewReader(js(b))
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, out, resp.Header
}

// tenant creates a tenant with the admin key.
func (r *rig) tenant(t *testing.T, id string, models ...string) {
	t.Helper()
	req := map[string]any{"id": id}
	if len(models) > 0 {
		req["models"] = models
	}
	if st, b := r.do(t, r.admin, "POST", "/admin/tenants", req); st != http.StatusCreated {
		t.Fatalf("create tenant %s: %d %s", id, st, b)
	}
}

// key creates an API key with the admin key and returns its secret and id.
func (r *rig) key(t *testing.T, tenant, role string, models ...string) (secret, id string) {
	t.Helper()
	req := map[string]any{"name": "e2e-" + role, "tenant": tenant, "role": role}
	if len(models) > 0 {
		req["models"] = models
	}
	st, b := r.do(t, r.admin, "POST", "/admin/keys", req)
	if st != http.StatusCreated {
		t.Fatalf("create key: %d %s", st, b)
	}
	secret, id = gjson.GetBytes(b, "key").String(), gjson.GetBytes(b, "id").String()
	if !bootstrapKeyRE.MatchString(secret) || id == "" {
		t.Fatalf("create key answer: %s", b)
	}
	return secret, id
}

// userKey creates tenant "acme" (once per rig is the caller's business)
// and a user-role key in it.
func (r *rig) userKey(t *testing.T) (secret, id string) {
	t.Helper()
	r.tenant(t, "acme")
	return r.key(t, "acme", "user")
}

func (r *rig) openai(key string) *openai.Client {
	c := openai.NewClient(option.WithBaseURL(r.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	return &c
}

func (r *rig) anthropic(key string) *anthropic.Client {
	c := anthropic.NewClient(aoption.WithBaseURL(r.url), aoption.WithAPIKey(key), aoption.WithMaxRetries(0))
	return &c
}

// audit returns the raw JSON of GET /admin/audit (latest records) and the
// decoded records.
func (r *rig) audit(t *testing.T) ([]byte, []store.AuditRecord) {
	t.Helper()
	st, b := r.do(t, r.admin, "GET", "/admin/audit?latest=true&limit=1000", nil)
	if st != http.StatusOK {
		t.Fatalf("audit: %d %s", st, b)
	}
	var out struct {
		Data []store.AuditRecord `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("audit JSON: %v", err)
	}
	return b, out.Data
}

// auditAtLeast polls the audit log until it holds n records (a stream's
// record is written when its transaction finishes, which may be just after
// the client saw the stream's end) or 5 s have passed.
func (r *rig) auditAtLeast(t *testing.T, n int) ([]byte, []store.AuditRecord) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		raw, recs := r.audit(t)
		if len(recs) >= n || time.Now().After(deadline) {
			return raw, recs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantAPIError asserts err is an OpenAI SDK error with status and code.
func wantAPIError(t *testing.T, err error, status int, code string) *openai.Error {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an API error %d %s, got %v", status, code, err)
	}
	if apiErr.StatusCode != status || apiErr.Code != code {
		t.Fatalf("want %d %s, got %d %q (%s)", status, code, apiErr.StatusCode, apiErr.Code, apiErr.RawJSON())
	}
	return apiErr
}

// streamChat runs a streamed chat completion and returns the accumulated
// completion, the concatenated content deltas and the stream's error.
func streamChat(c *openai.Client, p openai.ChatCompletionNewParams) (openai.ChatCompletionAccumulator, string, error) {
	s := c.Chat.Completions.NewStreaming(context.Background(), p)
	defer s.Close()
	var acc openai.ChatCompletionAccumulator
	var sb strings.Builder
	for s.Next() {
		ch := s.Current()
		acc.AddChunk(ch)
		for _, c := range ch.Choices {
			sb.WriteString(c.Delta.Content)
		}
	}
	return acc, sb.String(), s.Err()
}

func userChat(model string, msgs ...string) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: model}
	for _, m := range msgs {
		p.Messages = append(p.Messages, openai.UserMessage(m))
	}
	return p
}

// rawErr is the JSON body of an SDK API error, for failure messages.
func rawErr(err error) string {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.RawJSON()
	}
	return ""
}
