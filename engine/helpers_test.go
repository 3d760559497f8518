package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/openai"
)

// testLayer does in each phase what its functions say (nothing when nil).
type testLayer struct {
	name  string
	req   func(tx *Tx) (Decision, error)
	resp  func(tx *Tx, r *conv.Response) (Decision, error)
	ev    func(tx *Tx, ev *conv.StreamEvent) (Decision, error)
	end   func(tx *Tx, ev *conv.StreamEvent) (Decision, error)
	fin   func(tx *Tx)
	calls atomic.Int64
}

func (l *testLayer) Name() string { return l.name }
func (l *testLayer) OnRequest(tx *Tx) (Decision, error) {
	l.calls.Add(1)
	if l.req == nil {
		return Allowed, nil
	}
	return l.req(tx)
}
func (l *testLayer) OnResponse(tx *Tx, r *conv.Response) (Decision, error) {
	l.calls.Add(1)
	if l.resp == nil {
		return Allowed, nil
	}
	return l.resp(tx, r)
}
func (l *testLayer) OnStreamEvent(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
	l.calls.Add(1)
	if l.ev == nil {
		return Allowed, nil
	}
	return l.ev(tx, ev)
}
func (l *testLayer) OnStreamEnd(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
	l.calls.Add(1)
	if l.end == nil {
		return Allowed, nil
	}
	return l.end(tx, ev)
}
func (l *testLayer) OnFinish(tx *Tx) {
	l.calls.Add(1)
	if l.fin != nil {
		l.fin(tx)
	}
}

// recorder keeps copies of what it was given.
type recorder struct {
	mu  sync.Mutex
	txs []Tx
}

func (r *recorder) Record(tx *Tx) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *tx
	c.Outcomes = append([]Outcome(nil), tx.Outcomes...)
	r.txs = append(r.txs, c)
}

func (r *recorder) one(t *testing.T) Tx {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.txs) != 1 {
		t.Fatalf("recorder got %d transactions, want exactly 1", len(r.txs))
	}
	return r.txs[0]
}

type observer struct {
	mu        sync.Mutex
	decisions []string
	errors    int
	requests  []int
	upstreams int
}

func (o *observer) LayerDecision(layer string, p Phase, action string, monitor bool, d time.Duration) {
	o.mu.Lock()
	o.decisions = append(o.decisions, layer+"/"+string(p)+"/"+action)
	o.mu.Unlock()
}
func (o *observer) LayerError(string, Phase) { o.mu.Lock(); o.errors++; o.mu.Unlock() }
func (o *observer) Request(route string, status int, d time.Duration) {
	o.mu.Lock()
	o.requests = append(o.requests, status)
	o.mu.Unlock()
}
func (o *observer) Upstream(string, int, time.Duration) { o.mu.Lock(); o.upstreams++; o.mu.Unlock() }

var quiet = slog.New(slog.DiscardHandler)

var testKey = []byte("test-content-key")

var (
	chatRoute     = Route{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}
	messagesRoute = Route{Path: "/v1/messages", Kind: conv.KindChat, Adapter: anthropic.New()}
)

// fakeUpstream answers with a fixed response and remembers what it was sent.
type fakeUpstream struct {
	status int
	ctype  string
	body   string
	err    error
	calls  atomic.Int64
	sent   []byte
	closed atomic.Bool
	reader func() io.Reader // optional body source (streams)
}

type trackBody struct {
	io.Reader
	closed *atomic.Bool
}

func (b trackBody) Close() error { b.closed.Store(true); return nil }

func (f *fakeUpstream) RoundTrip(tx *Tx, r *http.Request, body []byte) (*http.Response, error) {
	f.calls.Add(1)
	f.sent = append([]byte(nil), body...)
	if f.err != nil {
		return nil, f.err
	}
	var rd io.Reader = strings.NewReader(f.body)
	if f.reader != nil {
		rd = f.reader()
	}
	h := http.Header{}
	h.Set("Content-Type", f.ctype)
	h.Set("X-Request-Id", "upstream-id")
	st := f.status
	if st == 0 {
		st = 200
	}
	return &http.Response{StatusCode: st, Header: h, Body: trackBody{rd, &f.closed}, ContentLength: -1}, nil
}

const chatReq = `{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello secret world"}]}`
const chatStreamReq = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hello"}]}`
const chatResp = `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"the answer is secret"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`

func chunk(text string) string {
	b, _ := json.Marshal(text)
	return `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":` + string(b) + `},"finish_reason":null}]}` + "\n\n"
}

const finishChunk = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
const doneEvent = "data: [DONE]\n\n"

func streamBody(words ...string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(chunk(w))
	}
	b.WriteString(finishChunk)
	b.WriteString(doneEvent)
	return b.String()
}

func sseUpstream(body string) *fakeUpstream {
	return &fakeUpstream{ctype: "text/event-stream", body: body}
}

func jsonUpstream(body string) *fakeUpstream {
	return &fakeUpstream{ctype: "application/json", body: body}
}

type harness struct {
	e   *Engine
	rec *recorder
	obs *observer
}

func newHarness(t testing.TB, layers ...Configured) *harness {
	t.Helper()
	h := &harness{rec: &recorder{}, obs: &observer{}}
	e, err := New(Options{Layers: layers, Recorder: h.rec, Observer: h.obs, ContentKey: testKey, Logger: quiet,
		Routes: []Route{chatRoute, messagesRoute}, MaxBodyBytes: 1 << 20, MaxResponseBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

func (h *harness) do(route Route, up Upstream, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, route.Path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	h.e.Handler(route, up).ServeHTTP(w, r)
	return w
}

func enforce(l Layer) Configured { return Configured{Layer: l, Mode: ModeEnforce} }
func monitor(l Layer) Configured { return Configured{Layer: l, Mode: ModeMonitor} }

// openAIError decodes an OpenAI-shaped error body and fails if it is not one.
func openAIError(t *testing.T, body []byte) (typ, code, msg string) {
	t.Helper()
	var e struct {
		Error *struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		t.Fatalf("not an OpenAI error body: %q (%v)", body, err)
	}
	c := ""
	if e.Error.Code != nil {
		c = *e.Error.Code
	}
	return e.Error.Type, c, e.Error.Message
}

func mac(body string) string {
	m := hmac.New(sha256.New, testKey)
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// events splits an SSE body into its events' data payloads.
func events(body string) []string {
	var out []string
	for _, block := range strings.Split(body, "\n\n") {
		for _, line := range strings.Split(block, "\n") {
			if strings.HasPrefix(line, "data: ") {
				out = append(out, strings.TrimPrefix(line, "data: "))
			}
		}
	}
	return out
}

func textOf(body string) string {
	var b strings.Builder
	for _, d := range events(body) {
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(d), &c) == nil {
			for _, ch := range c.Choices {
				b.WriteString(ch.Delta.Content)
			}
		}
	}
	return b.String()
}
