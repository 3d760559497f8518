package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// mockUpstream speaks enough of the OpenAI and Anthropic APIs for the SDKs.
// A prompt containing "FORBIDDEN" makes the answer contain it too; a model
// named "slow..." answers after two seconds.
type mockUpstream struct {
	mu      sync.Mutex
	headers []http.Header
}

func (m *mockUpstream) lastHeader() http.Header {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.headers) == 0 {
		return nil
	}
	return m.headers[len(m.headers)-1]
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (m *mockUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.headers = append(m.headers, r.Header.Clone())
	m.mu.Unlock()
	model := gjson.GetBytes(body, "model").String()
	if strings.HasPrefix(model, "slow") {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	words := []string{"Hello", " from", " the", " mock"}
	if strings.Contains(string(body), "FORBIDDEN") {
		words = []string{"Sure", " FORBIDDEN", " text", " here"}
	}
	stream := gjson.GetBytes(body, "stream").Bool()
	w.Header().Set("x-request-id", "upstream-req")
	switch r.URL.Path {
	case "/v1/models":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"gpt-mock","object":"model","created":1,"owned_by":"mock"}]}`)
	case "/v1/embeddings":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"`+model+`","usage":{"prompt_tokens":1,"total_tokens":1}}`)
	case "/v1/chat/completions", "/v1/completions":
		legacy := r.URL.Path == "/v1/completions"
		if !stream {
			w.Header().Set("Content-Type", "application/json")
			text := strings.Join(words, "")
			if legacy {
				io.WriteString(w, js(map[string]any{"id": "cmpl-1", "object": "text_completion", "created": 1, "model": model,
					"choices": []any{map[string]any{"index": 0, "text": text, "finish_reason": "stop", "logprobs": nil}},
					"usage":   map[string]any{"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}))
				return
			}
			io.WriteString(w, js(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
				"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
				"usage":   map[string]any{"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		obj := "chat.completion.chunk"
		if legacy {
			obj = "text_completion"
		}
		for _, wd := range words {
			choice := map[string]any{"index": 0, "delta": map[string]any{"content": wd}, "finish_reason": nil}
			if legacy {
				choice = map[string]any{"index": 0, "text": wd, "finish_reason": nil}
			}
			fmt.Fprintf(w, "data: %s\n\n", js(map[string]any{"id": "chatcmpl-1", "object": obj, "created": 1, "model": model, "choices": []any{choice}}))
			fl.Flush()
		}
		fin := map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}
		if legacy {
			fin = map[string]any{"index": 0, "text": "", "finish_reason": "stop"}
		}
		fmt.Fprintf(w, "data: %s\n\n", js(map[string]any{"id": "chatcmpl-1", "object": obj, "created": 1, "model": model, "choices": []any{fin}}))
		if gjson.GetBytes(body, "stream_options.include_usage").Bool() {
			fmt.Fprintf(w, "data: %s\n\n", js(map[string]any{"id": "chatcmpl-1", "object": obj, "created": 1, "model": model, "choices": []any{},
				"usage": map[string]any{"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}))
		}
		io.WriteString(w, "data: [DONE]\n\n")
	case "/v1/messages":
		if !stream {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, js(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": model,
				"content": []any{map[string]any{"type": "text", "text": strings.Join(words, "")}}, "stop_reason": "end_turn",
				"stop_sequence": nil, "usage": map[string]any{"input_tokens": 3, "output_tokens": 4}}))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		ev := func(name string, v map[string]any) {
			v["type"] = name
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, js(v))
			fl.Flush()
		}
		ev("message_start", map[string]any{"message": map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": model,
			"content": []any{}, "stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": 3, "output_tokens": 1}}})
		ev("content_block_start", map[string]any{"index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
		ev("ping", map[string]any{})
		for _, wd := range words {
			ev("content_block_delta", map[string]any{"index": 0, "delta": map[string]any{"type": "text_delta", "text": wd}})
		}
		ev("content_block_stop", map[string]any{"index": 0})
		ev("message_delta", map[string]any{"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]any{"output_tokens": 4}})
		ev("message_stop", map[string]any{})
	default:
		http.NotFound(w, r)
	}
}
