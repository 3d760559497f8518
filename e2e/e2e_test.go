package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/gateway"
)

// forbid blocks any streamed or whole answer containing "FORBIDDEN".
type forbid struct{}

func (forbid) Name() string { return "forbid" }
func (forbid) OnStreamEvent(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	for _, d := range ev.Deltas {
		if strings.Contains(d.Text, "FORBIDDEN") {
			return engine.Decision{Action: engine.Block, Code: "output_blocked", Reason: "forbidden output"}, nil
		}
	}
	return engine.Allowed, nil
}
func (forbid) OnStreamEnd(*engine.Tx, *conv.StreamEvent) (engine.Decision, error) {
	return engine.Allowed, nil
}
func (forbid) OnResponse(tx *engine.Tx, r *conv.Response) (engine.Decision, error) {
	for _, c := range r.Choices {
		if strings.Contains(c.Message.Text(), "FORBIDDEN") {
			return engine.Decision{Action: engine.Block, Code: "output_blocked", Reason: "forbidden output"}, nil
		}
	}
	return engine.Allowed, nil
}

type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) Record(tx *engine.Tx) {
	r.mu.Lock()
	r.ids = append(r.ids, tx.ID)
	r.mu.Unlock()
}

type env struct {
	url  string
	mock *mockUpstream
	rec  *recorder
	oai  openai.Client
	ant  anthropic.Client
}

func setup(t *testing.T) *env {
	t.Helper()
	mock := &mockUpstream{}
	up := httptest.NewServer(mock)
	t.Cleanup(up.Close)
	// A port with nothing listening: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String() + "/v1"
	ln.Close()

	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{
		{Name: "down", Provider: "openai", BaseURL: downURL, Models: []string{"down*"}},
		{Name: "slow", Provider: "openai", BaseURL: up.URL + "/v1", Models: []string{"slow*"}, Timeout: 300 * time.Millisecond},
		{Name: "main", Provider: "openai", BaseURL: up.URL + "/v1"},
		{Name: "ant", Provider: "anthropic", BaseURL: up.URL + "/v1"},
	}
	rec := &recorder{}
	keys := map[string]string{"OPENAI_API_KEY": "sk-provider", "ANTHROPIC_API_KEY": "ant-provider"}
	g, err := gateway.New(cfg, gateway.WithLogger(slog.New(slog.DiscardHandler)), gateway.WithRecorder(rec),
		gateway.WithGetenv(func(k string) string { return keys[k] }),
		gateway.WithLayers(engine.Configured{Layer: forbid{}}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return &env{
		url: srv.URL, mock: mock, rec: rec,
		oai: openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("client-key"), option.WithMaxRetries(0)),
		ant: anthropic.NewClient(aoption.WithBaseURL(srv.URL), aoption.WithAPIKey("client-key"), aoption.WithMaxRetries(0)),
	}
}

func chatParams(prompt, model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}}
}

func TestOpenAIChat(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var resp *http.Response
	c, err := e.oai.Chat.Completions.New(ctx, chatParams("hi", "gpt-4o"), option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Message.Content != "Hello from the mock" || c.Usage.TotalTokens != 7 {
		t.Fatalf("%+v", c)
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Upstream-Request-Id") != "upstream-req" {
		t.Fatalf("headers %v", resp.Header)
	}
	h := e.mock.lastHeader()
	if h.Get("Authorization") != "Bearer sk-provider" {
		t.Fatalf("upstream got Authorization %q", h.Get("Authorization"))
	}
}

func TestOpenAIChatStream(t *testing.T) {
	e := setup(t)
	p := chatParams("hi", "gpt-4o")
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	s := e.oai.Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Choices[0].Message.Content != "Hello from the mock" || acc.Usage.TotalTokens != 7 {
		t.Fatalf("%+v", acc.ChatCompletion)
	}
}

func TestOpenAIStreamBlockedMidway(t *testing.T) {
	e := setup(t)
	s := e.oai.Chat.Completions.NewStreaming(context.Background(), chatParams("say FORBIDDEN", "gpt-4o"))
	var text string
	for s.Next() {
		for _, c := range s.Current().Choices {
			text += c.Delta.Content
		}
	}
	err := s.Err()
	if err == nil || !strings.Contains(err.Error(), "output_blocked") {
		t.Fatalf("want an SDK error for the block, got %v (text %q)", err, text)
	}
	if text != "Sure" {
		t.Fatalf("text before the block %q", text)
	}
	// On the wire: the error event, and no [DONE].
	resp, err := http.Post(e.url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"say FORBIDDEN"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "[DONE]") || !strings.Contains(string(b), "event: error") || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("wire: %s", b)
	}
}

func TestOpenAIWholeBlocked(t *testing.T) {
	e := setup(t)
	var resp *http.Response
	_, err := e.oai.Chat.Completions.New(context.Background(), chatParams("say FORBIDDEN", "gpt-4o"), option.WithResponseInto(&resp))
	var apiErr *openai.Error
	// A blocked answer is 422 with type output_blocked: not the client's fault.
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.Code != "output_blocked" || apiErr.Type != "output_blocked" {
		t.Fatalf("got %v", err)
	}
}

func TestOpenAICompletions(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	p := openai.CompletionNewParams{Model: "gpt-3.5-turbo-instruct", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("hi")}}
	c, err := e.oai.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Text != "Hello from the mock" {
		t.Fatalf("%+v", c)
	}
	s := e.oai.Completions.NewStreaming(ctx, p)
	var text string
	for s.Next() {
		for _, ch := range s.Current().Choices {
			text += ch.Text
		}
	}
	if s.Err() != nil || text != "Hello from the mock" {
		t.Fatalf("%v %q", s.Err(), text)
	}
}

func TestOpenAIEmbeddingsAndModels(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	emb, err := e.oai.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Data) != 1 || len(emb.Data[0].Embedding) != 3 {
		t.Fatalf("%+v", emb)
	}
	page, err := e.oai.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != "gpt-mock" {
		t.Fatalf("%+v", page.Data)
	}
}

func TestAnthropicMessages(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	p := anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}
	m, err := e.ant.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Content) != 1 || m.Content[0].Text != "Hello from the mock" {
		t.Fatalf("%+v", m)
	}
	h := e.mock.lastHeader()
	if h.Get("X-Api-Key") != "ant-provider" || h.Get("Anthropic-Version") == "" || h.Get("Authorization") != "" {
		t.Fatalf("upstream headers %v", h)
	}
	s := e.ant.Messages.NewStreaming(ctx, p)
	acc := anthropic.Message{}
	for s.Next() {
		if err := acc.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if s.Err() != nil || len(acc.Content) != 1 || acc.Content[0].Text != "Hello from the mock" {
		t.Fatalf("%v %+v", s.Err(), acc)
	}
}

func TestAnthropicStreamBlocked(t *testing.T) {
	e := setup(t)
	p := anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("say FORBIDDEN"))}}
	s := e.ant.Messages.NewStreaming(context.Background(), p)
	stops := 0
	for s.Next() {
		if s.Current().Type == "message_stop" {
			stops++
		}
	}
	if s.Err() == nil || !strings.Contains(s.Err().Error(), "output_blocked") || stops != 0 {
		t.Fatalf("err %v, message_stop seen %d", s.Err(), stops)
	}
}

func TestUpstreamDownAndSlow(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		model string
		want  int
		code  string
	}{{"down-model", 502, "upstream_error"}, {"slow-model", 504, "upstream_timeout"}} {
		var resp *http.Response
		_, err := e.oai.Chat.Completions.New(context.Background(), chatParams("hi", tc.model), option.WithResponseInto(&resp))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.want || apiErr.Code != tc.code {
			t.Fatalf("%s: got %v", tc.model, err)
		}
		id := resp.Header.Get("X-Request-Id")
		if id == "" || !strings.Contains(apiErr.Message, id) {
			t.Fatalf("%s: request id %q not in %q", tc.model, id, apiErr.Message)
		}
	}
}

func TestBadRequestsNever5xx(t *testing.T) {
	e := setup(t)
	for _, body := range []string{`{`, `{"model":1}`, `{"model":"m","messages":"x"}`, "{\"model\":\"\xff\"}", strings.Repeat("[", 10000)} {
		resp, err := http.Post(e.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"error"`) || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%q: %d %s", body, resp.StatusCode, b)
		}
	}
}

func TestEveryTransactionRecordedOnce(t *testing.T) {
	e := setup(t)
	for i := 0; i < 3; i++ {
		if _, err := e.oai.Chat.Completions.New(context.Background(), chatParams("hi", "gpt-4o")); err != nil {
			t.Fatal(err)
		}
	}
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range e.rec.ids {
		if seen[id] {
			t.Fatalf("%s recorded twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 3 {
		t.Fatalf("recorded %d", len(seen))
	}
}
