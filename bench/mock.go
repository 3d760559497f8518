package bench

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MockUpstream is a fast OpenAI-compatible upstream for load measurements:
// fixed answers, no model, no delays. It serves POST /v1/chat/completions
// (streamed when the body asks for "stream":true) and GET /v1/models.
type MockUpstream struct {
	// StreamEvents is the number of content chunks in a streamed answer.
	StreamEvents int
	// DigitTokens makes every streamed token carry a digit ("word7 "): the
	// worst case for output scanning, which holds back and rescans tokens
	// that may be part of a card or phone number. Default: English prose
	// cut into short tokens, as a model streams it.
	DigitTokens bool
	// Gap is the pause between streamed events (0: one burst). Models
	// stream a token every few milliseconds; a burst instead makes every
	// proxy scan the whole answer at once, which on a 2-core machine shared
	// with the load generator shows up as client-side time to first byte.
	Gap time.Duration
}

// proseTokens is a model-like answer cut into short tokens.
var proseTokens = strings.SplitAfter("The capital of France is Paris. It has been the capital for centuries, "+
	"and it is known for its museums, its architecture and its food. Most visitors start with the Louvre, "+
	"walk along the Seine, and end the day in one of the small restaurants of the Marais.", " ")

var mockCompletion = []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the capital for centuries and is known for its museums, architecture and food."},"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":24,"total_tokens":66}}`)

func (m *MockUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"bench-model","object":"model","created":0,"owned_by":"bench"}]}`)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if strings.Contains(string(body), `"stream":true`) {
			m.stream(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(mockCompletion)
	default:
		http.NotFound(w, r)
	}
}

func (m *MockUpstream) stream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	n := m.StreamEvents
	if n <= 0 {
		n = 20
	}
	for i := 0; i < n; i++ {
		tok := proseTokens[i%len(proseTokens)]
		if m.DigitTokens {
			tok = fmt.Sprintf("word%d ", i)
		}
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", tok)
		if fl != nil {
			fl.Flush()
		}
		if m.Gap > 0 {
			time.Sleep(m.Gap)
		}
	}
	io.WriteString(w, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}
