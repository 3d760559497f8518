package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider/openai"
)

// redactor is a request layer that replaces a word in every prompt segment.
type redactor struct{}

func (redactor) Name() string { return "redactor" }

func (redactor) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	d := engine.Allowed
	tx.Request.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) {
		if strings.Contains(s.Text, "hunter2") {
			s.Text = strings.ReplaceAll(s.Text, "hunter2", "[REDACTED]")
			d = engine.Decision{Action: engine.Modify, Rule: "password"}
		}
	})
	return d, nil
}

// The engine wraps an existing handler that talks to the model (here a
// stand-in that echoes the prompt it received): the handler gets the
// redacted body, and its answer is relayed through the chain.
func Example_middleware() {
	eng, err := engine.New(engine.Options{
		Layers: []engine.Configured{{Layer: redactor{}, Mode: engine.ModeEnforce}},
		Routes: []engine.Route{{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}},
	})
	if err != nil {
		panic(err)
	}
	model := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println("model received:", string(body))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"1","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	})
	srv := httptest.NewServer(eng.Middleware(model))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"my password is hunter2"}]}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println("status:", resp.StatusCode, "request id set:", resp.Header.Get("X-Request-Id") != "")
	// Output:
	// model received: {"model":"m","messages":[{"role":"user","content":"my password is [REDACTED]"}]}
	// status: 200 request id set: true
}
