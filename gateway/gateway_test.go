package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
)

var quiet = slog.New(slog.DiscardHandler)

// captured is what a fake upstream saw.
type captured struct {
	mu       sync.Mutex
	path     string
	query    string
	header   http.Header
	body     string
	servedBy string
}

func fakeUpstream(t *testing.T, name string, c *captured, answer string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.path, c.query, c.header, c.body, c.servedBy = r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b), name
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

const chatAnswer = `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
const msgAnswer = `{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var (
	adminKeysMu sync.Mutex
	adminKeys   = map[*Gateway]string{}
	keyRE       = regexp.MustCompile(`rk_[A-Za-z0-9_-]{20,}`)
)

// newGateway builds a gateway from cfg with its state in a temporary data
// directory and remembers the global admin key its first start printed.
func newGateway(t *testing.T, cfg *config.Config, opts ...Option) *Gateway {
	t.Helper()
	if cfg.DataDir == config.DefaultDataDir {
		cfg.DataDir = t.TempDir()
	}
	var boot bytes.Buffer
	g, err := New(cfg, append([]Option{WithLogger(quiet), WithBootstrapOutput(&boot)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if k := keyRE.FindString(boot.String()); k != "" {
		adminKeysMu.Lock()
		adminKeys[g] = k
		adminKeysMu.Unlock()
	}
	return g
}

// adminKey is the bootstrap admin key of g ("" when identity is off).
func adminKey(g *Gateway) string {
	adminKeysMu.Lock()
	defer adminKeysMu.Unlock()
	return adminKeys[g]
}

// authorize adds g's admin key to r unless r carries credentials.
func authorize(h http.Handler, r *http.Request) {
	g, ok := h.(*Gateway)
	if !ok || r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
		return
	}
	if k := adminKey(g); k != "" {
		r.Header.Set("Authorization", "Bearer "+k)
	}
}

func post(t *testing.T, h http.Handler, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	authorize(h, r)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRouteTable(t *testing.T) {
	g := newGateway(t, config.Default())
	h := g.Handler()
	for _, rt := range Routes() {
		if rt.MCP {
			continue // served only with MCP servers configured: mcp_test.go
		}
		w := httptest.NewRecorder()
		body := ""
		if rt.Method == http.MethodPost {
			body = `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"prompt":"p","input":"i"}`
		}
		path := strings.NewReplacer("{id}", "key_x", "{model}", "gemini-2.0-flash", "{file}", "app.css", "{$}", "").Replace(rt.Path)
		if rt.Path == modelPath {
			path = "/v1/models/" + DemoModel
		}
		r := httptest.NewRequest(rt.Method, path, strings.NewReader(body))
		authorize(g, r)
		h.ServeHTTP(w, r)
		// Admin and console routes answer 404 for the sample object id
		// (and the console's OIDC routes without a provider configured).
		if (w.Code == 404 && !rt.Admin && !rt.Console) || w.Code == 405 || w.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s %s: %d %v", rt.Method, rt.Path, w.Code, w.Header())
		}
		wrong := http.MethodPut
		w = httptest.NewRecorder()
		r = httptest.NewRequest(wrong, path, nil)
		authorize(g, r)
		h.ServeHTTP(w, r)
		multi := rt.Admin || rt.Console // paths with several methods
		if w.Code != 405 || (!multi && w.Header().Get("Allow") != rt.Method) || (multi && !strings.Contains(w.Header().Get("Allow"), rt.Method)) {
			t.Errorf("%s %s: want 405, got %d", wrong, rt.Path, w.Code)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/unknown", nil))
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if w.Code != 404 || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code != "not_found" || w.Header().Get("X-Request-Id") == "" {
		t.Fatalf("404: %d %s", w.Code, w.Body.String())
	}
}

func TestCredentialsAndHeaders(t *testing.T) {
	var oc, ac captured
	oa := fakeUpstream(t, "oa", &oc, chatAnswer)
	an := fakeUpstream(t, "an", &ac, msgAnswer)
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{
		{Name: "oa", Provider: "openai", BaseURL: oa.URL + "/v1", APIKeyEnv: "OA_KEY"},
		{Name: "an", Provider: "anthropic", BaseURL: an.URL + "/v1/"},
	}
	g := newGateway(t, cfg, WithGetenv(env(map[string]string{"OA_KEY": "sk-upstream", "ANTHROPIC_API_KEY": "ant-upstream"})))

	key := adminKey(g)
	w := post(t, g, "/v1/chat/completions?api-version=1", `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`,
		map[string]string{"Authorization": "Bearer " + key, "X-Api-Key": key, "OpenAI-Organization": "org"})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	if oc.path != "/v1/chat/completions" || oc.query != "api-version=1" || oc.header.Get("Authorization") != "Bearer sk-upstream" ||
		oc.header.Get("X-Api-Key") != "" || oc.header.Get("Openai-Organization") != "org" {
		t.Fatalf("openai upstream saw %s?%s %v", oc.path, oc.query, oc.header)
	}

	w = post(t, g, "/v1/messages", `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
		map[string]string{"X-Api-Key": key})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	if ac.path != "/v1/messages" || ac.header.Get("X-Api-Key") != "ant-upstream" || ac.header.Get("Authorization") != "" ||
		ac.header.Get("Anthropic-Version") != defaultAnthropicVersion {
		t.Fatalf("anthropic upstream saw %s %v", ac.path, ac.header)
	}
	w = post(t, g, "/v1/messages", `{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
		map[string]string{"Anthropic-Version": "2099-01-01"})
	if w.Code != http.StatusOK || ac.header.Get("Anthropic-Version") != "2099-01-01" {
		t.Fatal("client anthropic-version not passed on")
	}
}

func TestModelRouting(t *testing.T) {
	var a, b captured
	ua := fakeUpstream(t, "a", &a, chatAnswer)
	ub := fakeUpstream(t, "b", &b, chatAnswer)
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{
		{Name: "fallback", Provider: "openai", BaseURL: ub.URL + "/v1"},
		{Name: "gpt", Provider: "openai", BaseURL: ua.URL + "/v1", Models: []string{"gpt-*"}},
		{Name: "embed-only", Provider: "openai", BaseURL: ua.URL + "/v1", Routes: []string{"/v1/embeddings"}, Models: []string{"llama*"}},
	}
	g := newGateway(t, cfg, WithGetenv(env(nil)))
	for _, tc := range []struct{ route, model, want string }{
		{"/v1/chat/completions", "gpt-4o", "a"},
		{"/v1/chat/completions", "llama3", "b"}, // embed-only does not serve chat
		{"/v1/chat/completions", "other", "b"},
	} {
		a.servedBy, b.servedBy = "", ""
		w := post(t, g, tc.route, `{"model":"`+tc.model+`","messages":[{"role":"user","content":"x"}]}`, nil)
		if w.Code != 200 || a.servedBy+b.servedBy != tc.want {
			t.Errorf("%s %s: %d served by %q want %q", tc.route, tc.model, w.Code, a.servedBy+b.servedBy, tc.want)
		}
	}
	// No upstream of the provider: 404 model_not_found, Anthropic-shaped.
	w := post(t, g, "/v1/messages", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, nil)
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"type":"error"`) || !strings.Contains(w.Body.String(), "model_not_found") {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

func TestBadConfig(t *testing.T) {
	for _, u := range []config.Upstream{
		{Name: "x", Provider: "nope", BaseURL: "http://127.0.0.1:1"},
		{Name: "x", Provider: "openai", BaseURL: "ftp://host"},
		{Name: "x", Provider: "openai", BaseURL: "http://127.0.0.1:1", Models: []string{"["}},
	} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Upstreams = []config.Upstream{u}
		if _, err := New(cfg, WithLogger(quiet)); err == nil {
			t.Errorf("accepted %+v", u)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	g := newGateway(t, config.Default())
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/metrics": "go_goroutines"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		authorize(g, r)
		g.ServeHTTP(w, r)
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s", path, w.Code, w.Body.String()[:min(200, w.Body.Len())])
		}
	}
	g.Close()
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != 503 {
		t.Fatalf("readyz after close: %d", w.Code)
	}
}

// slowStream is an upstream that streams n chunks, one every gap.
func slowStream(t *testing.T, n int, gap time.Duration) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < n; i++ {
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"w "},"finish_reason":null}]}`+"\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(s.Close)
	return s
}

func serve(t *testing.T, g *Gateway) (string, context.CancelFunc, chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), cancel, done
}

// A stream outlasting the server's ReadTimeout, and a shutdown that starts
// while it runs, must both let it finish.
func TestLongStreamSurvivesReadTimeoutAndShutdown(t *testing.T) {
	up := slowStream(t, 8, 100*time.Millisecond)
	cfg := config.Default()
	cfg.Server.ReadTimeout = 300 * time.Millisecond
	cfg.Server.ShutdownGrace = 10 * time.Second
	cfg.Upstreams = []config.Upstream{{Name: "u", Provider: "openai", BaseURL: up.URL + "/v1"}}
	g := newGateway(t, cfg, WithGetenv(env(nil)))
	base, cancel, done := serve(t, g)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Content-Type", "application/json")
	authorize(g, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.AfterFunc(200*time.Millisecond, cancel) // shutdown mid-stream
	b, err := io.ReadAll(resp.Body)
	// Output layers may hold text back and release it in a later event, so
	// the check is on the text the client received, not on event counts.
	if err != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") || streamedText(t, b) != strings.Repeat("w ", 8) {
		t.Fatalf("stream cut: %v %q", err, b)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the cleanup
}

// streamedText joins the delta contents of an OpenAI SSE stream.
func streamedText(t *testing.T, b []byte) string {
	t.Helper()
	var out strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ev struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("bad event %q: %v", data, err)
		}
		for _, c := range ev.Choices {
			out.WriteString(c.Delta.Content)
		}
	}
	return out.String()
}

func TestStreamIdleTimeout(t *testing.T) {
	up := slowStream(t, 3, 2*time.Second)
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "u", Provider: "openai", BaseURL: up.URL + "/v1", StreamIdleTimeout: 200 * time.Millisecond}}
	g := newGateway(t, cfg, WithGetenv(env(nil)))
	w := post(t, g, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`, nil)
	out := w.Body.String()
	if !strings.Contains(out, "upstream_timeout") || strings.Contains(out, "[DONE]") || strings.Count(out, "chat.completion.chunk") != 1 {
		t.Fatalf("got %q", out)
	}
}
