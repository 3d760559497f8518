package escalation

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/rampart-ai/rampart/layers/internal/jsonpost"
)

// Error kinds (metric label "kind"): those of package jsonpost and the
// breaker's.
const (
	KindTimeout     = jsonpost.KindTimeout
	KindOverloaded  = jsonpost.KindOverloaded
	KindBreakerOpen = "breaker_open"
	KindHTTP5xx     = jsonpost.KindHTTP5xx
	KindHTTP4xx     = jsonpost.KindHTTP4xx
	KindMalformed   = jsonpost.KindMalformed
	KindTransport   = jsonpost.KindTransport
	KindCanceled    = jsonpost.KindCanceled
)

// fail is a failed escalation of kind. Its text never carries the
// classified text or the endpoint's answer.
func fail(kind, msg string) error { return &jsonpost.Error{Prefix: Name, Kind: kind, Msg: msg} }

func kindOf(err error) string { return jsonpost.KindOf(err) }

// verdict is the classifier's answer.
type verdict struct {
	injection bool
	score     float64 // probability of injection (1 or 0 for a chat judge)
}

// call sends one text to the classifier.
func (l *Layer) call(ctx context.Context, text string) (verdict, error) {
	var path string
	var body any
	switch l.cfg.API {
	case APITEI:
		path, body = "/predict", map[string]any{"inputs": text, "truncate": true}
	case APIKServe:
		path = "/v2/models/" + l.cfg.Model + "/infer"
		body = map[string]any{"inputs": []map[string]any{{"name": "text", "shape": []int{1}, "datatype": "BYTES", "data": []string{text}}}}
	case APIChat:
		path = "/chat/completions"
		body = map[string]any{"model": l.cfg.Model, "max_tokens": 5, "temperature": 0, "messages": []map[string]string{
			{"role": "system", "content": l.cfg.JudgePrompt}, {"role": "user", "content": "<text>\n" + text + "\n</text>"}}}
	}
	ans, err := l.post.Post(ctx, path, body)
	if err != nil {
		return verdict{}, err
	}
	switch l.cfg.API {
	case APITEI:
		return parseTEI(ans, l.positive, l.cfg.MinScore)
	case APIKServe:
		return parseKServe(ans, l.cfg.PositiveIndex, l.cfg.MinScore)
	}
	return parseJudge(ans)
}

// parseTEI reads text-embeddings-inference's /predict answer for one input:
// [{"label": "...", "score": p}, ...] (a batch of one, [[...]], too). The
// verdict is injection when a positive label's score reaches minScore.
func parseTEI(ans []byte, positive map[string]bool, minScore float64) (verdict, error) {
	type pred struct {
		Label string   `json:"label"`
		Score *float64 `json:"score"`
	}
	var preds []pred
	if err := json.Unmarshal(ans, &preds); err != nil {
		var batch [][]pred
		if err2 := json.Unmarshal(ans, &batch); err2 != nil || len(batch) != 1 {
			return verdict{}, fail(KindMalformed, "answer is not a /predict answer")
		}
		preds = batch[0]
	}
	if len(preds) == 0 {
		return verdict{}, fail(KindMalformed, "answer has no labels")
	}
	v, known := verdict{}, false
	for _, p := range preds {
		if p.Score == nil || *p.Score < 0 || *p.Score > 1 {
			return verdict{}, fail(KindMalformed, "label without a probability")
		}
		if positive[strings.ToUpper(p.Label)] {
			known = true
			v.score = max(v.score, *p.Score)
		}
	}
	if !known {
		// only negative labels listed (top-k of 1): the positive
		// probability is what they leave
		s := 0.0
		for _, p := range preds {
			s += *p.Score
		}
		v.score = max(0, 1-s)
	}
	v.injection = v.score >= minScore
	return v, nil
}

// parseKServe reads a KServe v2 inference answer: the first output's data
// are class probabilities (index idx is injection) or one probability.
func parseKServe(ans []byte, idx int, minScore float64) (verdict, error) {
	var r struct {
		Outputs []struct {
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(ans, &r); err != nil || len(r.Outputs) == 0 || len(r.Outputs[0].Data) == 0 {
		return verdict{}, fail(KindMalformed, "answer is not a v2 inference answer")
	}
	d := r.Outputs[0].Data
	p := d[0]
	if len(d) > 1 {
		if idx >= len(d) {
			return verdict{}, fail(KindMalformed, "positive_index beyond the output")
		}
		p = d[idx]
	}
	if p < 0 || p > 1 {
		return verdict{}, fail(KindMalformed, "output is not a probability")
	}
	return verdict{injection: p >= minScore, score: p}, nil
}

// parseJudge reads an OpenAI-compatible chat answer whose content begins
// with INJECTION or BENIGN.
func parseJudge(ans []byte) (verdict, error) {
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(ans, &r); err != nil || len(r.Choices) == 0 {
		return verdict{}, fail(KindMalformed, "answer is not a chat completion")
	}
	w := strings.ToUpper(strings.TrimLeft(r.Choices[0].Message.Content, " \t\r\n*`\"'"))
	switch {
	case strings.HasPrefix(w, "INJECTION"):
		return verdict{injection: true, score: 1}, nil
	case strings.HasPrefix(w, "BENIGN"):
		return verdict{score: 0}, nil
	}
	return verdict{}, fail(KindMalformed, "judge answered neither INJECTION nor BENIGN")
}
