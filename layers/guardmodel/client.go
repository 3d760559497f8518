package guardmodel

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/rampart-ai/rampart/layers/internal/jsonpost"
)

// Error kinds (metric label "kind" and finding entity).
const (
	KindTimeout    = jsonpost.KindTimeout
	KindOverloaded = jsonpost.KindOverloaded // over max_concurrency
	KindHTTP5xx    = jsonpost.KindHTTP5xx
	KindHTTP4xx    = jsonpost.KindHTTP4xx
	KindMalformed  = jsonpost.KindMalformed
	KindTransport  = jsonpost.KindTransport
	KindCanceled   = jsonpost.KindCanceled // client went away
)

// callError is a failed guard call of kind.
func callError(kind, msg string) error { return &jsonpost.Error{Prefix: Name, Kind: kind, Msg: msg} }

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
	data, err := l.post.Post(ctx, path, req)
	if err != nil {
		return verdict{}, err
	}
	var ans guardAnswer
	if err := json.Unmarshal(data, &ans); err != nil || len(ans.Choices) == 0 {
		return verdict{}, callError(KindMalformed, "answer is not an OpenAI-shaped completion")
	}
	text := ""
	if m := ans.Choices[0].Message; m != nil {
		text = m.Content
	} else if t := ans.Choices[0].Text; t != nil {
		text = *t
	}
	return parseVerdict(text, l.known)
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
				return verdict{}, callError(KindMalformed, "unknown category in answer")
			}
			cats = append(cats, c)
		}
		return verdict{unsafe: true, categories: cats}, nil
	case len(lines) == 1 && strings.EqualFold(lines[0], "unsafe"):
		return verdict{unsafe: true}, nil // unsafe without categories: still unsafe
	}
	return verdict{}, callError(KindMalformed, "answer is neither safe nor unsafe")
}
