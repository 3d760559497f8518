package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

const gemBody = `{"contents":[{"role":"user","parts":[{"text":"hello"}]}]}`

// gemFake answers generateContent whole, and streams as the test says.
type gemFake struct {
	mu     sync.Mutex
	path   string
	query  string
	header http.Header
	stream string // the SSE body of a stream answer
}

func (f *gemFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.path, f.query, f.header = r.URL.Path, r.URL.RawQuery, r.Header.Clone()
	stream := f.stream
	f.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, ":streamGenerateContent") {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, stream)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}`)
}

func gemGateway(t *testing.T) (*Gateway, *gemFake) {
	t.Helper()
	f := &gemFake{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "gem", Provider: "gemini", BaseURL: srv.URL + "/v1beta",
		ModelAliases: map[string]string{"fast": "gemini-2.0-flash-001"}}}
	return newGateway(t, cfg, WithGetenv(env(map[string]string{"GEMINI_API_KEY": "upstream-gem-key"}))), f
}

// TestGeminiUpstreamRequest: the model (or its alias) in the upstream path,
// alt=sse for streams and no client query parameter (the key above all),
// rampart's credential as x-goog-api-key and never the client's.
func TestGeminiUpstreamRequest(t *testing.T) {
	g, f := gemGateway(t)
	key := adminKey(g)
	f.stream = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n"
	for _, tc := range []struct{ path, wantPath, wantQuery string }{
		{"/v1beta/models/gemini-2.0-flash:generateContent?key=" + key + "&prettyPrint=false", "/v1beta/models/gemini-2.0-flash:generateContent", ""},
		{"/v1beta/models/fast:generateContent?key=" + key, "/v1beta/models/gemini-2.0-flash-001:generateContent", ""},
		{"/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=" + key, "/v1beta/models/gemini-2.0-flash:streamGenerateContent", "alt=sse"},
		{"/v1beta/models/gemini-2.0-flash:streamGenerateContent?key=" + key, "/v1beta/models/gemini-2.0-flash:streamGenerateContent", "alt=sse"},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(gemBody))
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", tc.path, w.Code, w.Body)
		}
		f.mu.Lock()
		if f.path != tc.wantPath || f.query != tc.wantQuery || f.header.Get("X-Goog-Api-Key") != "upstream-gem-key" ||
			strings.Contains(fmt.Sprint(f.header), key) || f.header.Get("Authorization") != "" {
			t.Errorf("%s: upstream got %s?%s %v", tc.path, f.path, f.query, f.header)
		}
		f.mu.Unlock()
	}
}

// TestGeminiPathsAndKeys: malformed model names and unknown methods are
// 404s in Google's error shape; keys that disagree are 401s.
func TestGeminiPathsAndKeys(t *testing.T) {
	g, _ := gemGateway(t)
	key := adminKey(g)
	for _, tc := range []struct {
		path   string
		hdr    map[string]string
		status int
	}{
		{"/v1beta/models/:generateContent", nil, 404},
		{"/v1beta/models/a%2Fb:generateContent", nil, 404},
		{"/v1beta/models/a/b:generateContent", nil, 404},
		{"/v1beta/models/" + strings.Repeat("m", 300) + ":generateContent", nil, 404},
		{"/v1beta/models/gemini:countTokens", nil, 404},
		{"/v1beta/models/gemini:generateContent?key=rk_other", map[string]string{"X-Goog-Api-Key": key}, 401},
		{"/v1beta/models/gemini:generateContent?key=" + key, map[string]string{"Authorization": "Bearer rk_other"}, 401},
		{"/v1beta/models/gemini:generateContent?key=" + key + "&key=" + key, nil, 401},
		{"/v1beta/models/gemini:generateContent?key=%zz", nil, 400},
		{"/v1beta/models/gemini:generateContent", map[string]string{"X-Goog-Api-Key": key, "X-Api-Key": "rk_other"}, 401},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(gemBody))
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"status":"`) {
			t.Errorf("%.80s: %d %s", tc.path, w.Code, w.Body)
		}
	}
}

// TestGeminiStreamEnds: a stream that closes after a finishReason ends
// normally; one that closes before any ends with an error chunk (fails
// closed), in both the SSE and the JSON-array form; the upstream's own
// error chunk is relayed.
func TestGeminiStreamEnds(t *testing.T) {
	g, f := gemGateway(t)
	key := adminKey(g)
	chunk := func(text, finish string) string {
		fin := ""
		if finish != "" {
			fin = `,"finishReason":"` + finish + `"`
		}
		return `data: {"candidates":[{"content":{"role":"model","parts":[{"text":"` + text + `"}]}` + fin + `,"index":0}]}` + "\r\n\r\n"
	}
	do := func(alt string) string {
		r := httptest.NewRequest(http.MethodPost, "/v1beta/models/gemini:streamGenerateContent"+alt, strings.NewReader(gemBody))
		r.Header.Set("X-Goog-Api-Key", key)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		return w.Body.String()
	}
	f.stream = chunk("Hello ", "") + chunk("world", "STOP")
	if out := do("?alt=sse"); strings.Contains(out, `"error"`) || !strings.Contains(out, "world") {
		t.Fatalf("finished stream: %s", out)
	}
	if out := do(""); !strings.HasPrefix(out, "[{") || !strings.HasSuffix(out, "}]") || strings.Contains(out, `"error"`) {
		t.Fatalf("finished array: %s", out)
	}
	f.stream = chunk("Hello ", "")
	if out := do("?alt=sse"); !strings.Contains(out, `data: {"error":{"code":502`) {
		t.Fatalf("cut stream: %s", out)
	}
	if out := do(""); !strings.HasSuffix(out, "}]") || !strings.Contains(out, `,`+"\r\n"+`{"error":{"code":502`) {
		t.Fatalf("cut array: %s", out)
	}
	f.stream = chunk("Hello ", "") + `data: {"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}` + "\r\n\r\n"
	if out := do("?alt=sse"); !strings.Contains(out, `"overloaded"`) {
		t.Fatalf("upstream error chunk: %s", out)
	}
}
