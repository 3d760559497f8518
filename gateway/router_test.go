package gateway

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
)

// mockUpstream is an OpenAI-compatible server on loopback whose behaviour
// a test switches: answer, fail with a status, stall before headers, or
// cut a stream after its first event.
type mockUpstream struct {
	*httptest.Server
	name   string
	hits   atomic.Int64
	mu     sync.Mutex
	mode   string // "ok", "status", "stall", "cut", "hold"
	status int
	header map[string]string
	models []string    // the "model" of each request body seen
	times  []time.Time // arrival of each request
	hold   chan struct{}
}

func newMock(t *testing.T, name string) *mockUpstream {
	t.Helper()
	m := &mockUpstream{name: name, mode: "ok", hold: make(chan struct{})}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(func() {
		m.set("ok", 0, nil)
		m.Server.CloseClientConnections()
		m.Server.Close()
	})
	return m
}

func (m *mockUpstream) set(mode string, status int, header map[string]string) {
	m.mu.Lock()
	m.mode, m.status, m.header = mode, status, header
	m.mu.Unlock()
}

func (m *mockUpstream) serve(w http.ResponseWriter, r *http.Request) {
	m.hits.Add(1)
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &req)
	m.mu.Lock()
	mode, status, header := m.mode, m.status, m.header
	m.models = append(m.models, req.Model)
	m.times = append(m.times, time.Now())
	m.mu.Unlock()
	for k, v := range header {
		w.Header().Set(k, v)
	}
	switch mode {
	case "status":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"mock failure","type":"server_error","code":null,"param":null}}`)
		return
	case "stall":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case "cut", "hold":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		io.WriteString(w, `data: {"id":"s","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"first "},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		if mode == "hold" {
			select {
			case <-m.hold:
			case <-r.Context().Done():
			}
			io.WriteString(w, "data: [DONE]\n\n")
			return
		}
		// Cut the connection mid-stream.
		if hj, ok := w.(http.Hijacker); ok {
			c, _, err := hj.Hijack()
			if err == nil {
				c.Close()
			}
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"`+req.Model+`","choices":[{"index":0,"message":{"role":"assistant","content":"from `+m.name+`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}`)
}

// txLog keeps the attempts of every finished transaction.
type txLog struct {
	mu  sync.Mutex
	txs [][]engine.Attempt
	ups []string
}

func (l *txLog) Record(tx *engine.Tx) {
	l.mu.Lock()
	l.txs = append(l.txs, append([]engine.Attempt(nil), tx.Attempts...))
	l.ups = append(l.ups, tx.Upstream)
	l.mu.Unlock()
}

func (l *txLog) last() []engine.Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.txs) == 0 {
		return nil
	}
	return l.txs[len(l.txs)-1]
}

func reasons(as []engine.Attempt) string {
	var s []string
	for _, a := range as {
		r := a.Reason
		if r == "" {
			r = "ok"
		}
		s = append(s, a.Upstream+":"+r)
	}
	return strings.Join(s, ",")
}

// deadURL is a loopback URL nothing listens on.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

func poolGateway(t *testing.T, r config.Routing, ups ...config.Upstream) (*Gateway, *txLog) {
	t.Helper()
	cfg := config.Default()
	cfg.Upstreams = ups
	cfg.Routing = r
	cfg.Layers = map[string]config.Layer{"identity": {Mode: "off"}}
	if r.Strategy != "" { // a zero Routing (Go embedders) gets defaults in the gateway
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	log := &txLog{}
	g := newGateway(t, cfg, WithGetenv(env(nil)), WithRecorder(log))
	return g, log
}

func routing() config.Routing {
	c := config.Default()
	return c.Routing
}

func up(name, url string, models ...string) config.Upstream {
	return config.Upstream{Name: name, Provider: "openai", BaseURL: url, Models: models, APIKeyEnv: "OPENAI_API_KEY",
		Timeout: 2 * time.Second, StreamIdleTimeout: 2 * time.Second, ConnectTimeout: time.Second, Weight: 1}
}

const chatReq = `{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}`

func TestFallbackOnEachFailure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(a *mockUpstream) string // returns the base URL for a
		reason string
	}{
		{"connection refused", func(a *mockUpstream) string { return deadURL(t) }, "connect_error"},
		{"no headers in time", func(a *mockUpstream) string { a.set("stall", 0, nil); return a.URL + "/v1" }, "timeout"},
		{"429", func(a *mockUpstream) string { a.set("status", 429, nil); return a.URL + "/v1" }, "status_429"},
		{"500", func(a *mockUpstream) string { a.set("status", 500, nil); return a.URL + "/v1" }, "status_500"},
		{"502", func(a *mockUpstream) string { a.set("status", 502, nil); return a.URL + "/v1" }, "status_502"},
		{"503", func(a *mockUpstream) string { a.set("status", 503, nil); return a.URL + "/v1" }, "status_503"},
		{"504", func(a *mockUpstream) string { a.set("status", 504, nil); return a.URL + "/v1" }, "status_504"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newMock(t, "a"), newMock(t, "b")
			ua := up("a", tc.setup(a), "gpt-*")
			ua.Timeout = 300 * time.Millisecond
			g, log := poolGateway(t, routing(), ua, up("b", b.URL+"/v1", "gpt-*"))
			w := post(t, g, "/v1/chat/completions", chatReq, nil)
			if w.Code != 200 || !strings.Contains(w.Body.String(), "from b") {
				t.Fatalf("%d %s", w.Code, w.Body.String())
			}
			if got := reasons(log.last()); got != "a:"+tc.reason+",b:ok" {
				t.Fatalf("attempts %s", got)
			}
		})
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("status", 400, nil)
	g, log := poolGateway(t, routing(), up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
	w := post(t, g, "/v1/chat/completions", chatReq, nil)
	if w.Code != 400 || b.hits.Load() != 0 || reasons(log.last()) != "a:ok" {
		t.Fatalf("%d, b hits %d, attempts %s", w.Code, b.hits.Load(), reasons(log.last()))
	}
}

func TestOldConfigKeepsFirstMatch(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	g, _ := poolGateway(t, config.Routing{}, up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-4o"))
	for i := 0; i < 5; i++ {
		if w := post(t, g, "/v1/chat/completions", chatReq, nil); w.Code != 200 {
			t.Fatal(w.Code)
		}
	}
	if a.hits.Load() != 5 || b.hits.Load() != 0 {
		t.Fatalf("a %d b %d", a.hits.Load(), b.hits.Load())
	}
}

func TestBoundedAttemptsAndRetryAfter(t *testing.T) {
	a := newMock(t, "a")
	a.set("status", 503, map[string]string{"Retry-After": "1"})
	r := routing()
	r.Retry.MaxAttempts = 3
	r.Breaker.Failures = -1
	g, log := poolGateway(t, r, up("a", a.URL+"/v1", "gpt-*"))
	w := post(t, g, "/v1/chat/completions", chatReq, nil)
	// The last failure is passed on as the upstream sent it.
	if w.Code != 503 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if n := a.hits.Load(); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
	a.mu.Lock()
	gap1, gap2 := a.times[1].Sub(a.times[0]), a.times[2].Sub(a.times[1])
	a.mu.Unlock()
	if gap1 < time.Second || gap2 < time.Second {
		t.Fatalf("Retry-After not honoured: %v %v", gap1, gap2)
	}
	if got := reasons(log.last()); got != "a:status_503,a:status_503,a:status_503" {
		t.Fatal(got)
	}

	// A Retry-After above max_wait: that upstream is not tried again.
	a.set("status", 429, map[string]string{"Retry-After": "3600"})
	a.hits.Store(0)
	w = post(t, g, "/v1/chat/completions", chatReq, nil)
	if w.Code != 429 || a.hits.Load() != 1 {
		t.Fatalf("%d after %d calls", w.Code, a.hits.Load())
	}
}

func TestDeadlineBoundsAttempts(t *testing.T) {
	a, b, c := newMock(t, "a"), newMock(t, "b"), newMock(t, "c")
	for _, m := range []*mockUpstream{a, b, c} {
		m.set("stall", 0, nil)
	}
	r := routing()
	r.Retry.Deadline = 500 * time.Millisecond
	g, log := poolGateway(t, r, up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"), up("c", c.URL+"/v1", "gpt-*"))
	w := post(t, g, "/v1/chat/completions", chatReq, nil)
	if w.Code != http.StatusGatewayTimeout {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	// The first attempt takes the whole deadline; nothing else starts.
	if got := reasons(log.last()); got != "a:timeout" || b.hits.Load()+c.hits.Load() != 0 {
		t.Fatalf("attempts %s, b %d c %d", got, b.hits.Load(), c.hits.Load())
	}
}

func TestNoRetryAfterFirstStreamedByte(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("cut", 0, nil)
	g, log := poolGateway(t, routing(), up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
	resp, body := streamThrough(t, g)
	// The first event reached the client (its text may be held back by
	// the output layers), then the stream ended with an error event.
	if resp.StatusCode != 200 || !strings.Contains(string(body), "chat.completion.chunk") || !strings.Contains(string(body), "upstream_error") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "from b") || b.hits.Load() != 0 {
		t.Fatalf("retried after the first byte: b hits %d", b.hits.Load())
	}
	if got := reasons(log.last()); got != "a:ok" {
		t.Fatal(got)
	}
}

func TestBreakerOpensSkipsAndRecovers(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("status", 500, nil)
	r := routing()
	r.Breaker.Failures = 2
	r.Breaker.Cooldown = 300 * time.Millisecond
	g, log := poolGateway(t, r, up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
	for i := 0; i < 2; i++ {
		if w := post(t, g, "/v1/chat/completions", chatReq, nil); w.Code != 200 {
			t.Fatal(w.Code)
		}
	}
	if a.hits.Load() != 2 {
		t.Fatal(a.hits.Load())
	}
	if st := readyUpstream(t, g, "a"); st != "open" {
		t.Fatalf("breaker %s", st)
	}
	if w := post(t, g, "/v1/chat/completions", chatReq, nil); w.Code != 200 || a.hits.Load() != 2 {
		t.Fatalf("%d; a called while open (%d)", w.Code, a.hits.Load())
	}
	if got := reasons(log.last()); got != "a:breaker_open,b:ok" {
		t.Fatal(got)
	}
	metricsHave(t, g, `rampart_upstream_breaker_state{upstream="a"} 2`, `rampart_upstream_attempts_total{result="breaker_open",upstream="a"} 1`)

	// After the cool-down one probe goes to a; it succeeds and closes it.
	a.set("ok", 0, nil)
	time.Sleep(350 * time.Millisecond)
	if w := post(t, g, "/v1/chat/completions", chatReq, nil); w.Code != 200 || !strings.Contains(w.Body.String(), "from a") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	if st := readyUpstream(t, g, "a"); st != "closed" {
		t.Fatalf("breaker %s", st)
	}
	metricsHave(t, g, `rampart_upstream_breaker_transitions_total{state="half_open",upstream="a"} 1`,
		`rampart_upstream_breaker_transitions_total{state="closed",upstream="a"} 1`)
}

func TestAllOpenFailsFast(t *testing.T) {
	a := newMock(t, "a")
	a.set("status", 502, nil)
	r := routing()
	r.Breaker.Failures = 1
	r.Breaker.Cooldown = time.Minute
	g, _ := poolGateway(t, r, up("a", a.URL+"/v1", "gpt-*"))
	if w := post(t, g, "/v1/chat/completions", chatReq, nil); w.Code != 502 {
		t.Fatal(w.Code)
	}
	w := post(t, g, "/v1/chat/completions", chatReq, nil)
	if w.Code != 503 || !strings.Contains(w.Body.String(), CodeUpstreamUnavailable) || a.hits.Load() != 1 {
		t.Fatalf("%d %s (a hits %d)", w.Code, w.Body.String(), a.hits.Load())
	}
}

func TestStrategies(t *testing.T) {
	t.Run("round_robin", func(t *testing.T) {
		a, b := newMock(t, "a"), newMock(t, "b")
		r := routing()
		r.Groups = []config.RoutingGroup{{Models: []string{"gpt-*"}, Strategy: "round_robin"}}
		g, _ := poolGateway(t, r, up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
		for i := 0; i < 10; i++ {
			post(t, g, "/v1/chat/completions", chatReq, nil)
		}
		if a.hits.Load() != 5 || b.hits.Load() != 5 {
			t.Fatalf("a %d b %d", a.hits.Load(), b.hits.Load())
		}
	})
	t.Run("priority", func(t *testing.T) {
		a, b, c := newMock(t, "a"), newMock(t, "b"), newMock(t, "c")
		r := routing()
		r.Strategy = "round_robin"
		ua, ub, uc := up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"), up("c", c.URL+"/v1", "gpt-*")
		ua.Priority = 1 // backup only
		g, _ := poolGateway(t, r, ua, ub, uc)
		for i := 0; i < 6; i++ {
			post(t, g, "/v1/chat/completions", chatReq, nil)
		}
		if a.hits.Load() != 0 || b.hits.Load() != 3 || c.hits.Load() != 3 {
			t.Fatalf("a %d b %d c %d", a.hits.Load(), b.hits.Load(), c.hits.Load())
		}
		b.set("status", 503, nil)
		c.set("status", 503, nil)
		if w := post(t, g, "/v1/chat/completions", chatReq, nil); !strings.Contains(w.Body.String(), "from a") {
			t.Fatalf("backup not used: %d %s", w.Code, w.Body.String())
		}
	})
	t.Run("least_in_flight", func(t *testing.T) {
		a, b := newMock(t, "a"), newMock(t, "b")
		a.set("hold", 0, nil)
		r := routing()
		r.Strategy = "least_in_flight"
		g, _ := poolGateway(t, r, up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
		srv := httptest.NewServer(g.Handler())
		defer srv.Close()
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hello"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 10)
		if _, err := resp.Body.Read(buf); err != nil { // a's stream is open
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if w := post(t, g, "/v1/chat/completions", chatReq, nil); !strings.Contains(w.Body.String(), "from b") {
				t.Fatalf("went to the busy upstream: %s", w.Body.String())
			}
		}
		close(a.hold)
	})
	t.Run("weighted", func(t *testing.T) {
		ups := []*upstream{{name: "heavy", weight: 99}, {name: "light", weight: 1}}
		heavy := 0
		for i := 0; i < 1000; i++ {
			o := slicesClone(ups)
			weightedShuffle(o)
			if o[0].name == "heavy" {
				heavy++
			}
		}
		// Expected 990; below 950 has probability far under 1e-9.
		if heavy < 950 || heavy == 1000 {
			t.Fatalf("heavy first %d/1000", heavy)
		}
	})
}

func slicesClone(u []*upstream) []*upstream { return append([]*upstream(nil), u...) }

func TestModelAliasPerUpstream(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("status", 503, nil)
	ua := up("a", a.URL+"/v1", "gpt-4o-mini")
	ub := up("b", b.URL+"/v1", "gpt-4o-mini")
	ub.ModelAliases = map[string]string{"gpt-4o-mini": "prod-mini-deployment"}
	g, _ := poolGateway(t, routing(), ua, ub)
	w := post(t, g, "/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`, nil)
	if w.Code != 200 {
		t.Fatal(w.Code, w.Body.String())
	}
	a.mu.Lock()
	b.mu.Lock()
	defer a.mu.Unlock()
	defer b.mu.Unlock()
	if a.models[0] != "gpt-4o-mini" || b.models[0] != "prod-mini-deployment" {
		t.Fatalf("a saw %v, b saw %v", a.models, b.models)
	}
}

func readyUpstream(t *testing.T, g *Gateway, name string) string {
	t.Helper()
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body readyBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	for _, u := range body.Upstreams {
		if u.Name == name {
			return u.Breaker
		}
	}
	t.Fatalf("%s not in /readyz: %s", name, w.Body.String())
	return ""
}

func metricsHave(t *testing.T, g *Gateway, lines ...string) {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	authorize(g, r)
	g.ServeHTTP(w, r)
	for _, l := range lines {
		if !strings.Contains(w.Body.String(), l) {
			t.Errorf("metrics lack %q", l)
		}
	}
}

// Each attempt is a span under the upstream call's span, with its
// upstream, number and why it was not used.
func TestAttemptsTraced(t *testing.T) {
	exp := installRecorder(t)
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("status", 503, nil)
	g, log := poolGateway(t, routing(), up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
	if w := post(t, g, "/v1/chat/completions", chatReq, nil); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if reasons(log.last()) != "a:status_503,b:ok" {
		t.Fatal(reasons(log.last()))
	}
	var attempts []string
	var parent string
	for _, s := range exp.GetSpans() {
		if s.Name != "upstream attempt" {
			continue
		}
		if parent == "" {
			parent = s.Parent.SpanID().String()
		} else if s.Parent.SpanID().String() != parent {
			t.Error("attempts under different parents")
		}
		attempts = append(attempts, attr(s, "rampart.upstream").AsString()+":"+attr(s, "rampart.attempt.reason").AsString()+
			":"+attr(s, "rampart.attempt").String())
	}
	if strings.Join(attempts, ",") != "a:status_503:1,b::2" {
		t.Fatalf("attempt spans %v", attempts)
	}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.SpanID().String() == parent && !strings.HasPrefix(s.Name, "upstream ") {
			t.Fatalf("attempts' parent is %q", s.Name)
		}
	}
}

// A stream whose first upstream fails before answering is served by the
// next member, from its first event.
func TestStreamFallsBackBeforeFirstByte(t *testing.T) {
	a, b := newMock(t, "a"), newMock(t, "b")
	a.set("status", 502, nil)
	b.set("cut", 0, nil) // one event, then the connection drops
	g, log := poolGateway(t, routing(), up("a", a.URL+"/v1", "gpt-*"), up("b", b.URL+"/v1", "gpt-*"))
	resp, body := streamThrough(t, g)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "chat.completion.chunk") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	// b's stream broke after its first event: not retried on a.
	if got := reasons(log.last()); got != "a:status_502,b:ok" || a.hits.Load() != 1 {
		t.Fatalf("attempts %s, a hits %d", got, a.hits.Load())
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0", "-5", "3600", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "", " 7 ", "1.5", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := retryAfter(http.Header{"Retry-After": {v}}, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("%q: %v %v", v, d, ok)
		}
		// Seconds are capped at a day (dates are what they say; max_wait
		// bounds any wait).
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && d > 24*time.Hour {
			t.Fatalf("%q: %v", v, d)
		}
	})
}

// streamThrough sends a streamed chat request to g over a loopback server
// and reads the whole answer.
func streamThrough(t *testing.T, g *Gateway) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hello"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}
