package guardmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Error kinds (metric label "kind" and finding entity).
const (
	KindTimeout    = "timeout"
	KindOverloaded = "overloaded" // over max_concurrency
	KindHTTP5xx    = "http_5xx"
	KindHTTP4xx    = "http_4xx"
	KindMalformed  = "malformed"
	KindTransport  = "transport"
	KindCanceled   = "canceled" // client went away
)

// callError is a failed guard call with its kind.
type callError struct {
	kind string
	msg  string
}

func (e *callError) Error() string { return "guardmodel: " + e.kind + ": " + e.msg }

// verdict is a parsed guard answer.
type verdict struct {
	unsafe     bool
	categories []string // codes, in the model's order
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages,omitempty"`
	Prompt      string        `json:"prompt,omitempty"`
	MaxTokens   int           `json:"max_tokens"`
	Temperature float64       `json:"temperature"`
}

type guardAnswer struct {
	Choices []struct {
		Message *struct {
			Content string `json:"content"`
		} `json:"message"`
		Text *string `json:"text"`
	} `json:"choices"`
}

// call sends one classification request and parses the answer.
func (l *Layer) call(ctx context.Context, turns []turn) (verdict, error) {
	req := chatRequest{Model: l.cfg.Model, MaxTokens: 20, Temperature: 0}
	path := "/chat/completions"
	switch {
	case l.cfg.API == APICompletions:
		path = "/completions"
		req.Prompt = render(l.cfg.Template, l.categories, turns)
	case l.cfg.Template != "":
		req.Messages = []chatMessage{{Role: "user", Content: render(l.cfg.Template, l.categories, turns)}}
	default:
		for _, t := range turns {
			role := "user"
			if t.agent {
				role = "assistant"
			}
			req.Messages = append(req.Messages, chatMessage{Role: role, Content: t.text})
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return verdict{}, &callError{KindMalformed, "encoding request: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, l.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return verdict{}, &callError{KindTransport, err.Error()}
	}
	hr.Header.Set("Content-Type", "application/json")
	if l.apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+l.apiKey)
	}
	resp, err := l.client.Do(hr)
	if err != nil {
		return verdict{}, classifyTransport(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, l.cfg.MaxAnswerBytes+1))
	if err != nil {
		return verdict{}, classifyTransport(ctx, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return verdict{}, &callError{KindHTTP5xx, fmt.Sprintf("status %d", resp.StatusCode)}
	case resp.StatusCode >= 300:
		return verdict{}, &callError{KindHTTP4xx, fmt.Sprintf("status %d", resp.StatusCode)}
	}
	if int64(len(data)) > l.cfg.MaxAnswerBytes {
		return verdict{}, &callError{KindMalformed, "answer larger than max_answer_bytes"}
	}
	var ans guardAnswer
	if err := json.Unmarshal(data, &ans); err != nil || len(ans.Choices) == 0 {
		return verdict{}, &callError{KindMalformed, "answer is not an OpenAI-shaped completion"}
	}
	text := ""
	if m := ans.Choices[0].Message; m != nil {
		text = m.Content
	} else if t := ans.Choices[0].Text; t != nil {
		text = *t
	}
	return parseVerdict(text, l.known)
}

func classifyTransport(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &callError{KindTimeout, "no answer in time"}
	case errors.Is(ctx.Err(), context.Canceled):
		return &callError{KindCanceled, "request cancelled"}
	}
	return &callError{KindTransport, "connection failed"}
}

// parseVerdict parses Llama Guard's answer: "safe", or "unsafe" and on the
// next line comma-separated category codes. Unknown codes, trailing text or
// anything else is malformed: a guard that answers off-format cannot be
// trusted to have judged.
func parseVerdict(text string, known map[string]bool) (verdict, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	switch {
	case len(lines) == 1 && strings.EqualFold(lines[0], "safe"):
		return verdict{}, nil
	case len(lines) == 2 && strings.EqualFold(lines[0], "unsafe"):
		var cats []string
		for _, c := range strings.Split(lines[1], ",") {
			c = strings.ToUpper(strings.TrimSpace(c))
			if !known[c] {
				return verdict{}, &callError{KindMalformed, "unknown category in answer"}
			}
			cats = append(cats, c)
		}
		return verdict{unsafe: true, categories: cats}, nil
	case len(lines) == 1 && strings.EqualFold(lines[0], "unsafe"):
		return verdict{unsafe: true}, nil // unsafe without categories: still unsafe
	}
	return verdict{}, &callError{KindMalformed, "answer is neither safe nor unsafe"}
}
