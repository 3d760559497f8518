package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

// TestStreamSecretSplitIntoFinishingChunk: a secret split across two
// stream chunks, the second of which also carries the finish reason (as
// Gemini sends, and OpenAI-compatible servers may): the output guard holds
// the first piece back and must not release it before joining it with the
// last chunk's text; no character of the secret reaches the client, in
// OpenAI's and Gemini's streams (SSE and JSON-array form).
func TestStreamSecretSplitIntoFinishingChunk(t *testing.T) {
	sec := "ghp_" + "Abc123Def456Ghi789Jkl012Mno345Pqr678"
	leaks := func(body string) bool {
		// any 8 consecutive characters of the secret's random part
		for i := 4; i+8 <= len(sec); i++ {
			if strings.Contains(body, sec[i:i+8]) {
				return true
			}
		}
		return false
	}
	t.Run("openai", func(t *testing.T) {
		chunk := func(delta, finish string) string {
			return `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + finish + `}]}` + "\n\n"
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, chunk(`{"content":"key `+sec[:12]+`"}`, "null")+chunk(`{"content":"`+sec[12:]+` end"}`, `"stop"`)+"data: [DONE]\n\n")
		}))
		t.Cleanup(srv.Close)
		cfg := config.Default()
		cfg.Upstreams = []config.Upstream{{Name: "o", Provider: "openai", BaseURL: srv.URL + "/v1"}}
		g := newGateway(t, cfg, WithGetenv(env(map[string]string{"OPENAI_API_KEY": "x"})))
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
		r.Header.Set("Authorization", "Bearer "+adminKey(g))
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != 200 || leaks(w.Body.String()) || !strings.Contains(w.Body.String(), " end") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("gemini", func(t *testing.T) {
		g, f := gemGateway(t)
		ev := func(s string) string { return "data: " + s + "\r\n\r\n" }
		f.stream = ev(`{"candidates":[{"content":{"parts":[{"text":"key `+sec[:12]+`"}]},"index":0}]}`) +
			ev(`{"candidates":[{"content":{"parts":[{"text":"`+sec[12:]+` end"}]},"finishReason":"STOP","index":0}]}`)
		for _, q := range []string{"?alt=sse", ""} {
			r := httptest.NewRequest(http.MethodPost, "/v1beta/models/gemini-2.0-flash:streamGenerateContent"+q, strings.NewReader(gemBody))
			r.Header.Set("X-Goog-Api-Key", adminKey(g))
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != 200 || leaks(w.Body.String()) || !strings.Contains(w.Body.String(), " end") {
				t.Fatalf("%s: %d %s", q, w.Code, w.Body)
			}
		}
	})
}
