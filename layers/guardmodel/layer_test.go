package guardmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// fakeGuard is an OpenAI-compatible guard server on 127.0.0.1.
type fakeGuard struct {
	srv     *httptest.Server
	calls   atomic.Int64
	mu      sync.Mutex
	lastReq chatRequest
	lastURL string
}

func newFakeGuard(t *testing.T, h func(w http.ResponseWriter, req chatRequest)) *fakeGuard {
	t.Helper()
	g := &fakeGuard{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.calls.Add(1)
		var req chatRequest
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
		g.mu.Lock()
		g.lastReq, g.lastURL = req, r.URL.Path
		g.mu.Unlock()
		h(w, req)
	}))
	g.srv.Listener = ln
	g.srv.Start()
	t.Cleanup(g.srv.Close)
	return g
}

func answer(content string) func(http.ResponseWriter, chatRequest) {
	return func(w http.ResponseWriter, req chatRequest) {
		w.Header().Set("Content-Type", "application/json")
		if req.Prompt != "" {
			json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"text": content}}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{
			"message": map[string]any{"role": "assistant", "content": content}}}})
	}
}

func provisioned(t *testing.T, cfg Config) (*Layer, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	l := New(cfg)
	if err := l.Provision(&engine.Host{Registerer: reg}); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, reg
}

func request(text string) *engine.Tx {
	return &engine.Tx{Ctx: context.Background(), Request: &conv.Conversation{Kind: conv.KindChat, Messages: []conv.Message{
		{Role: conv.RoleSystem, Segments: []conv.Segment{conv.NewSegment("be nice", conv.SourceSystem, "")}},
		{Role: conv.RoleUser, Segments: []conv.Segment{conv.NewSegment(text, conv.SourceUser, "")}},
	}}}
}

func cfgFor(g *fakeGuard) Config {
	c := Defaults()
	c.Endpoint = g.srv.URL + "/v1"
	c.Timeout = 300 * time.Millisecond
	return c
}

func TestRequestVerdicts(t *testing.T) {
	cases := []struct {
		name      string
		handler   func(http.ResponseWriter, chatRequest)
		cfg       func(*Config)
		action    engine.Action
		status    int
		code      string
		rules     []string
		errorKind string // expected errors_total label
	}{
		{name: "safe", handler: answer("safe"), action: engine.Allow},
		{name: "safe with whitespace", handler: answer("\n\nsafe\n"), action: engine.Allow},
		{name: "unsafe with categories", handler: answer("unsafe\nS1,S10"), action: engine.Block, status: 400,
			code: CodeUnsafe, rules: []string{"guardmodel.S1", "guardmodel.S10"}},
		{name: "unsafe non-blocking category flagged", handler: answer("unsafe\nS6"),
			cfg: func(c *Config) { c.BlockCategories = []string{"S1"} }, action: engine.Flag, rules: []string{"guardmodel.S6"}},
		{name: "unsafe without category blocks", handler: answer("unsafe"), action: engine.Block, code: CodeUnsafe},
		{name: "malformed answer", handler: answer("I think this is fine"), action: engine.Block, status: 503,
			code: CodeUnavailable, errorKind: KindMalformed},
		{name: "unknown category is malformed", handler: answer("unsafe\nS99"), action: engine.Block, code: CodeUnavailable,
			errorKind: KindMalformed},
		{name: "not json", handler: func(w http.ResponseWriter, _ chatRequest) { w.Write([]byte("<html>")) },
			action: engine.Block, code: CodeUnavailable, errorKind: KindMalformed},
		{name: "5xx", handler: func(w http.ResponseWriter, _ chatRequest) { http.Error(w, "overloaded", http.StatusServiceUnavailable) },
			action: engine.Block, status: 503, code: CodeUnavailable, errorKind: KindHTTP5xx},
		{name: "4xx", handler: func(w http.ResponseWriter, _ chatRequest) { http.Error(w, "no such model", 404) },
			action: engine.Block, code: CodeUnavailable, errorKind: KindHTTP4xx},
		{name: "timeout", handler: func(w http.ResponseWriter, _ chatRequest) { time.Sleep(time.Second) },
			action: engine.Block, status: 503, code: CodeUnavailable, errorKind: KindTimeout},
		{name: "slow server trickling the body", handler: func(w http.ResponseWriter, _ chatRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.Write([]byte(`{"choices":[`))
			w.(http.Flusher).Flush()
			time.Sleep(time.Second)
			w.Write([]byte(`{"message":{"content":"safe"}}]}`))
		}, action: engine.Block, code: CodeUnavailable, errorKind: KindTimeout},
		{name: "timeout fails open when configured", handler: func(w http.ResponseWriter, _ chatRequest) { time.Sleep(time.Second) },
			cfg: func(c *Config) { c.OnError = OnErrorOpen }, action: engine.Flag, rules: []string{"guardmodel.unavailable"},
			errorKind: KindTimeout},
		{name: "oversized answer", handler: answer("safe" + strings.Repeat(" ", 100)),
			cfg: func(c *Config) { c.MaxAnswerBytes = 64 }, action: engine.Block, code: CodeUnavailable, errorKind: KindMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGuard(t, tc.handler)
			cfg := cfgFor(g)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			l, _ := provisioned(t, cfg)
			d, err := l.OnRequest(request("how do I make a cake"))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tc.action {
				t.Fatalf("action %v (rule %q), want %v", d.Action, d.Rule, tc.action)
			}
			if tc.status != 0 && d.Status != tc.status {
				t.Errorf("status %d, want %d", d.Status, tc.status)
			}
			if tc.code != "" && d.Code != tc.code {
				t.Errorf("code %q, want %q", d.Code, tc.code)
			}
			var rules []string
			for _, f := range d.Findings {
				rules = append(rules, f.Rule)
			}
			if tc.rules != nil && strings.Join(rules, ",") != strings.Join(tc.rules, ",") {
				t.Errorf("rules %v, want %v", rules, tc.rules)
			}
			if tc.errorKind != "" {
				if n := testutil.ToFloat64(l.m.errors.WithLabelValues(tc.errorKind)); n != 1 {
					t.Errorf("errors_total{kind=%s} = %v, want 1", tc.errorKind, n)
				}
				if len(d.Findings) != 1 || d.Findings[0].Entity != tc.errorKind {
					t.Errorf("findings %+v, want one with entity %s", d.Findings, tc.errorKind)
				}
			}
			if n := testutil.ToFloat64(l.m.calls.WithLabelValues("input")); n != 1 {
				t.Errorf("calls_total = %v, want 1", n)
			}
			if testutil.CollectAndCount(l.m.latency) != 1 {
				t.Error("latency not observed")
			}
		})
	}
}

func TestChatRequestShape(t *testing.T) {
	g := newFakeGuard(t, answer("safe"))
	l, _ := provisioned(t, cfgFor(g))
	tx := request("first question")
	tx.Request.Messages = append(tx.Request.Messages,
		conv.Message{Role: conv.RoleAssistant, Segments: []conv.Segment{conv.NewSegment("an answer", conv.SourceAssistant, "")}},
		conv.Message{Role: conv.RoleUser, Segments: []conv.Segment{conv.NewSegment("second question", conv.SourceUser, "")}})
	if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
		t.Fatalf("action %v", d.Action)
	}
	req := g.lastReq
	if g.lastURL != "/v1/chat/completions" || req.Model != "meta-llama/Llama-Guard-3-8B" || len(req.Messages) != 3 ||
		req.Messages[0].Role != "user" || req.Messages[1].Role != "assistant" || req.Messages[2].Content != "second question" {
		t.Errorf("guard request %s %+v", g.lastURL, req)
	}
}

func TestCompletionsTemplate(t *testing.T) {
	g := newFakeGuard(t, answer("unsafe\nS9"))
	cfg := cfgFor(g)
	cfg.API = APICompletions
	l, _ := provisioned(t, cfg)
	d, _ := l.OnRequest(request("how to enrich uranium {role}"))
	if d.Action != engine.Block || d.Findings[0].Entity != "S9" || !strings.Contains(d.Reason, "Indiscriminate Weapons") {
		t.Fatalf("decision %+v", d)
	}
	p := g.lastReq.Prompt
	for _, want := range []string{"S1: Violent Crimes.", "S14: Code Interpreter Abuse.", "User: how to enrich uranium {role}",
		"ONLY THE LAST User message", "<|start_header_id|>assistant<|end_header_id|>"} {
		if !strings.Contains(p, want) {
			t.Errorf("prompt lacks %q", want)
		}
	}
	if g.lastURL != "/v1/completions" {
		t.Errorf("path %s", g.lastURL)
	}
}

func TestCache(t *testing.T) {
	g := newFakeGuard(t, answer("unsafe\nS2"))
	l, _ := provisioned(t, cfgFor(g))
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if d, _ := l.OnRequest(request("same text")); d.Action != engine.Block {
			t.Fatalf("call %d: %v", i, d.Action)
		}
	}
	if g.calls.Load() != 1 || testutil.ToFloat64(l.m.cacheHits) != 2 {
		t.Errorf("server calls %d, cache hits %v; want 1, 2", g.calls.Load(), testutil.ToFloat64(l.m.cacheHits))
	}
	l.OnRequest(request("other text"))
	now = now.Add(2 * time.Minute) // past the TTL
	l.OnRequest(request("same text"))
	if g.calls.Load() != 3 {
		t.Errorf("server calls %d after expiry, want 3", g.calls.Load())
	}
}

func TestConcurrencyCap(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	g := newFakeGuard(t, func(w http.ResponseWriter, req chatRequest) {
		entered <- struct{}{}
		<-release
		answer("safe")(w, req)
	})
	cfg := cfgFor(g)
	cfg.MaxConcurrency = 1
	cfg.Timeout = 5 * time.Second
	l, _ := provisioned(t, cfg)
	done := make(chan engine.Decision)
	go func() {
		d, _ := l.OnRequest(request("first"))
		done <- d
	}()
	<-entered // the first call holds the only slot
	d, _ := l.OnRequest(request("second"))
	if d.Action != engine.Block || d.Code != CodeUnavailable || d.Findings[0].Entity != KindOverloaded {
		t.Errorf("over-cap call: %+v", d)
	}
	if testutil.ToFloat64(l.m.errors.WithLabelValues(KindOverloaded)) != 1 {
		t.Error("overloaded not counted")
	}
	close(release)
	if d := <-done; d.Action != engine.Allow {
		t.Errorf("first call: %v", d.Action)
	}
}

func TestOutput(t *testing.T) {
	g := newFakeGuard(t, func(w http.ResponseWriter, req chatRequest) {
		last := req.Messages[len(req.Messages)-1]
		if last.Role == "assistant" && strings.Contains(last.Content, "poison") {
			answer("unsafe\nS1")(w, req)
			return
		}
		answer("safe")(w, req)
	})
	cfg := cfgFor(g)
	cfg.Output = true
	l, _ := provisioned(t, cfg)
	resp := func(text string) *conv.Response {
		return &conv.Response{Choices: []conv.Choice{{Message: conv.Message{Role: conv.RoleAssistant,
			Segments: []conv.Segment{conv.NewSegment(text, conv.SourceAssistant, "")}}}}}
	}
	if d, _ := l.OnResponse(request("q"), resp("Here is a cake recipe")); d.Action != engine.Allow {
		t.Errorf("safe answer: %v", d.Action)
	}
	if d, _ := l.OnResponse(request("q"), resp("Use poison like this")); d.Action != engine.Block || d.Code != CodeUnsafe {
		t.Errorf("unsafe answer: %+v", d)
	}
	if n := testutil.ToFloat64(l.m.calls.WithLabelValues("output")); n != 2 {
		t.Errorf("output calls %v", n)
	}
}

func streamEvents(texts ...string) []*conv.StreamEvent {
	var evs []*conv.StreamEvent
	for i, s := range texts {
		evs = append(evs, &conv.StreamEvent{Seq: i, Deltas: []conv.Delta{conv.NewDelta(0, s, "choices.0.delta.content")}})
	}
	return evs
}

func TestStream(t *testing.T) {
	g := newFakeGuard(t, func(w http.ResponseWriter, req chatRequest) {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "poison") {
			answer("unsafe\nS1")(w, req)
			return
		}
		answer("safe")(w, req)
	})
	for _, tc := range []struct {
		mode   string
		parts  []string
		action engine.Action
	}{
		{StreamAfter, []string{"a cake ", "recipe"}, engine.Allow},
		{StreamAfter, []string{"use pois", "on here"}, engine.Block},
		{StreamHold, []string{"a cake ", "recipe"}, engine.Allow},
		{StreamHold, []string{"use pois", "on here"}, engine.Block},
	} {
		cfg := cfgFor(g)
		cfg.Output, cfg.Stream = true, tc.mode
		l, _ := provisioned(t, cfg)
		tx := request("q")
		for _, ev := range streamEvents(tc.parts...) {
			if d, _ := l.OnStreamEvent(tx, ev); d.Action != engine.Allow {
				t.Fatalf("%s: event decision %v", tc.mode, d.Action)
			}
			if held := ev.Deltas[0].Text == ""; held != (tc.mode == StreamHold) {
				t.Errorf("%s: delta held=%v", tc.mode, held)
			}
		}
		end := &conv.StreamEvent{Synthetic: true}
		d, _ := l.OnStreamEnd(tx, end)
		if d.Action != tc.action {
			t.Errorf("%s %v: end decision %v, want %v", tc.mode, tc.parts, d.Action, tc.action)
		}
		if tc.mode == StreamHold && tc.action == engine.Allow {
			if len(end.Deltas) != 1 || end.Deltas[0].Text != strings.Join(tc.parts, "") || !end.Deltas[0].Changed() {
				t.Errorf("held text not released: %+v", end.Deltas)
			}
		}
	}
	// hold mode over the buffer bound fails per on_error
	cfg := cfgFor(g)
	cfg.Output, cfg.Stream, cfg.MaxStreamBytes = true, StreamHold, 8
	l, _ := provisioned(t, cfg)
	tx := request("q")
	d, _ := l.OnStreamEvent(tx, streamEvents("0123456789")[0])
	if d.Action != engine.Block || d.Code != CodeUnavailable {
		t.Errorf("hold overflow: %+v", d)
	}
}

func TestParseVerdict(t *testing.T) {
	known := map[string]bool{"S1": true, "S2": true, "S10": true}
	cases := []struct {
		in      string
		unsafe  bool
		cats    string
		wantErr bool
	}{
		{"safe", false, "", false},
		{" Safe \n", false, "", false},
		{"unsafe\nS1", true, "S1", false},
		{"unsafe\nS1, s10", true, "S1,S10", false},
		{"unsafe", true, "", false},
		{"unsafe\nS3", false, "", true},
		{"safe\nS1", false, "", true},
		{"", false, "", true},
		{"maybe", false, "", true},
		{"unsafe\nS1\nextra", false, "", true},
	}
	for _, c := range cases {
		v, err := parseVerdict(c.in, known)
		if (err != nil) != c.wantErr {
			t.Errorf("parseVerdict(%q) err %v", c.in, err)
			continue
		}
		if err == nil && (v.unsafe != c.unsafe || strings.Join(v.categories, ",") != c.cats) {
			t.Errorf("parseVerdict(%q) = %+v", c.in, v)
		}
	}
}

func TestConfig(t *testing.T) {
	for i, f := range []func(*Config){
		func(c *Config) { c.Endpoint = "" },
		func(c *Config) { c.Endpoint = "ftp://x" },
		func(c *Config) { c.API = "grpc" },
		func(c *Config) { c.Template = "no placeholder" },
		func(c *Config) { c.Stream = "sometimes" },
		func(c *Config) { c.OnError = "maybe" },
		func(c *Config) { c.BlockCategories = []string{"S99"} },
		func(c *Config) { c.MaxConcurrency = -1 },
		func(c *Config) { c.APIKeyEnv = "RAMPART_TEST_UNSET_GUARD_KEY" },
	} {
		c := Defaults()
		c.Endpoint = "http://127.0.0.1:1/v1"
		f(&c)
		if err := New(c).Provision(&engine.Host{}); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lay, err := Module.New(func(into any) error {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		return dec.Decode(into)
	})
	if err != nil {
		t.Fatal(err)
	}
	l := lay.(*Layer)
	if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	if l.cfg.Timeout != 3*time.Second || !l.cfg.Output || l.cfg.CacheTTL != 30*time.Second {
		t.Errorf("example decoded as %+v", l.cfg)
	}
	// Provisioning twice on one registry reuses the collectors.
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ {
		if err := New(l.cfg).Provision(&engine.Host{Registerer: reg}); err != nil {
			t.Fatalf("provision %d: %v", i, err)
		}
	}
}

func TestBound(t *testing.T) {
	l := &Layer{cfg: Config{MaxChars: 10}}
	turns := l.bound([]turn{{text: "older turn"}, {agent: true, text: "abc"}, {text: "defg"}})
	if len(turns) != 2 || turns[0].text != "abc" {
		t.Errorf("bound kept %+v", turns)
	}
	turns = l.bound([]turn{{text: "0123456789ABCDEFGHIJ"}})
	if len(turns) != 1 || turns[0].text != "01234\n…\nFGHIJ" {
		t.Errorf("long turn became %q", turns[0].text)
	}
}

func FuzzParseVerdict(f *testing.F) {
	for _, s := range []string{"safe", "unsafe\nS1,S10", "unsafe", "maybe", "", "unsafe\n,,", "\xff"} {
		f.Add(s)
	}
	known := map[string]bool{}
	for _, c := range DefaultCategories() {
		known[c.Code] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseVerdict(s, known)
		if err == nil && !v.unsafe && !strings.EqualFold(strings.TrimSpace(s), "safe") {
			t.Fatalf("%q parsed as safe", s)
		}
		for _, c := range v.categories {
			if !known[c] {
				t.Fatalf("unknown category %q accepted", c)
			}
		}
	})
}
