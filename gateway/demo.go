package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/sse"
)

// DemoModel is the model name the built-in demo answers as.
const DemoModel = "rampart-demo"

// demoPrefix labels every demo answer so nobody mistakes it for a model.
const demoPrefix = "[rampart demo model] "

// demoDims is the size of the demo's embedding vectors.
const demoDims = 8

// demo is an in-process upstream used when no upstream is configured. It
// answers every API route with a canned, clearly labelled echo, so that
// rampart can be tried (and its layers seen at work) without a provider.
type demo struct{}

func (demo) RoundTrip(tx *engine.Tx, r *http.Request, body []byte) (*http.Response, error) {
	tx.Upstream = "demo"
	c := tx.Request
	if c == nil {
		c = &conv.Conversation{}
	}
	model := c.Model
	if model == "" {
		model = DemoModel
	}
	switch tx.Route {
	case "/v1/models":
		return jsonResponse(`{"object":"list","data":[{"id":"` + DemoModel + `","object":"model","created":0,"owned_by":"rampart"}]}`), nil
	case "/v1/embeddings":
		return jsonResponse(demoEmbeddings(body, model)), nil
	case modelPath:
		if id := strings.TrimPrefix(r.URL.Path, "/v1/models/"); id != DemoModel {
			return errorResponse(http.StatusNotFound, string(mustJSON(obj{"error": obj{"message": "The model '" + id +
				"' does not exist; the demo serves only " + DemoModel + ".", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}))), nil
		}
		return jsonResponse(`{"id":"` + DemoModel + `","object":"model","created":0,"owned_by":"rampart"}`), nil
	case "/v1/messages/count_tokens":
		// The demo counts words of the text fields; a real upstream counts tokens.
		n := 0
		gjson.GetBytes(body, "@dig:text").ForEach(func(_, v gjson.Result) bool { n += len(strings.Fields(v.Str)); return true })
		for _, s := range []string{"system", "messages.#.content"} {
			if v := gjson.GetBytes(body, s); v.Type == gjson.String {
				n += len(strings.Fields(v.Str))
			} else if v.IsArray() {
				v.ForEach(func(_, x gjson.Result) bool {
					if x.Type == gjson.String {
						n += len(strings.Fields(x.Str))
					}
					return true
				})
			}
		}
		return jsonResponse(string(mustJSON(obj{"input_tokens": n}))), nil
	case "/v1/moderations":
		return jsonResponse(demoModeration(body, model)), nil
	}
	answer := demoAnswer(c)
	words := strings.SplitAfter(answer, " ")
	promptTokens := 0
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { promptTokens += len(strings.Fields(s.Text)) })
	usage := [2]int{promptTokens, len(words)}
	id := "demo-" + strings.TrimPrefix(tx.ID, "req_")
	switch {
	case tx.Route == "/v1/responses" && c.Stream:
		return sseResponse(responsesStream(id, model, words, usage)), nil
	case tx.Route == "/v1/responses":
		return jsonResponse(string(mustJSON(responsesObject(id, model, "completed", answer, usage)))), nil
	case tx.Route == "/v1/messages" && c.Stream:
		return sseResponse(anthropicStream(id, model, words, usage)), nil
	case tx.Route == "/v1/messages":
		return jsonResponse(anthropicMessage(id, model, answer, usage)), nil
	case tx.Route == geminiStream:
		return sseResponse(geminiStreamBody(id, model, words, usage)), nil
	case tx.Route == geminiGenerate:
		return jsonResponse(string(mustJSON(geminiChunk(id, model, answer, "STOP", usage)))), nil
	case c.Stream:
		return sseResponse(openAIStream(id, model, tx.Route == "/v1/completions", words, usage, c.IncludeUsage)), nil
	default:
		return jsonResponse(openAIWhole(id, model, tx.Route == "/v1/completions", answer, usage)), nil
	}
}

// demoAnswer echoes (a bounded part of) the last user text.
func demoAnswer(c *conv.Conversation) string {
	last := ""
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role == conv.RoleUser || c.Kind == conv.KindCompletion {
			last = c.Messages[i].Text()
			break
		}
	}
	last = strings.Join(strings.Fields(last), " ")
	if r := []rune(last); len(r) > 200 {
		last = string(r[:200]) + "…"
	}
	if last == "" {
		return demoPrefix + "No upstream model is configured. Start rampart with --upstream or an upstreams section to reach a real model."
	}
	return demoPrefix + "No upstream model is configured, so this canned answer only echoes you: \"" + last + "\""
}

func jsonResponse(body string) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, ContentLength: int64(len(body)),
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}
}

func errorResponse(status int, body string) *http.Response {
	r := jsonResponse(body)
	r.StatusCode = status
	return r
}

// demoModeration flags nothing: the demo has no classifier. It answers one
// result per input, as the API does.
func demoModeration(body []byte, model string) string {
	n := 1
	if in := gjson.GetBytes(body, "input"); in.IsArray() {
		n = max(len(in.Array()), 1)
	}
	results := make([]obj, n)
	for i := range results {
		results[i] = obj{"flagged": false, "categories": obj{}, "category_scores": obj{}}
	}
	return string(mustJSON(obj{"id": "modr-demo", "model": model, "results": results}))
}

func sseResponse(body []byte) *http.Response {
	return &http.Response{StatusCode: http.StatusOK, ContentLength: -1,
		Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: io.NopCloser(bytes.NewReader(body))}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps, slices, strings and numbers: cannot fail
	}
	return b
}

type obj = map[string]any

func openAIUsage(u [2]int) obj {
	return obj{"prompt_tokens": u[0], "completion_tokens": u[1], "total_tokens": u[0] + u[1]}
}

func openAIWhole(id, model string, legacy bool, answer string, u [2]int) string {
	created := time.Now().Unix()
	if legacy {
		return string(mustJSON(obj{"id": id, "object": "text_completion", "created": created, "model": model,
			"choices": []obj{{"index": 0, "text": answer, "finish_reason": "stop", "logprobs": nil}}, "usage": openAIUsage(u)}))
	}
	return string(mustJSON(obj{"id": id, "object": "chat.completion", "created": created, "model": model,
		"choices": []obj{{"index": 0, "message": obj{"role": "assistant", "content": answer, "refusal": nil},
			"finish_reason": "stop", "logprobs": nil}}, "usage": openAIUsage(u)}))
}

func openAIStream(id, model string, legacy bool, words []string, u [2]int, includeUsage bool) []byte {
	created := time.Now().Unix()
	object := "chat.completion.chunk"
	if legacy {
		object = "text_completion"
	}
	chunk := func(choices []obj, usage any) []byte {
		m := obj{"id": id, "object": object, "created": created, "model": model, "choices": choices}
		if includeUsage {
			m["usage"] = usage
		}
		return mustJSON(m)
	}
	var out []byte
	piece := func(text string, finish any) obj {
		if legacy {
			return obj{"index": 0, "text": text, "finish_reason": finish, "logprobs": nil}
		}
		d := obj{}
		if text != "" {
			d["content"] = text
		}
		return obj{"index": 0, "delta": d, "finish_reason": finish, "logprobs": nil}
	}
	if !legacy {
		out = sse.AppendEvent(out, "", chunk([]obj{{"index": 0, "delta": obj{"role": "assistant", "content": ""}, "finish_reason": nil, "logprobs": nil}}, nil))
	}
	for _, w := range words {
		out = sse.AppendEvent(out, "", chunk([]obj{piece(w, nil)}, nil))
	}
	out = sse.AppendEvent(out, "", chunk([]obj{piece("", "stop")}, nil))
	if includeUsage {
		out = sse.AppendEvent(out, "", chunk([]obj{}, openAIUsage(u)))
	}
	return append(out, sse.Done...)
}

// responsesObject is a Responses API response object holding one message
// with answer (status "in_progress" and no output or usage while a stream
// starts).
func responsesObject(id, model, status, answer string, u [2]int) obj {
	o := obj{"id": "resp_" + id, "object": "response", "created_at": time.Now().Unix(), "status": status,
		"model": model, "output": []obj{}, "usage": nil, "error": nil, "incomplete_details": nil,
		"instructions": nil, "metadata": obj{}, "parallel_tool_calls": true, "temperature": 1.0, "top_p": 1.0,
		"tool_choice": "auto", "tools": []obj{}, "text": obj{"format": obj{"type": "text"}}}
	if status == "completed" {
		o["output"] = []obj{responsesMessage(id, "completed", answer)}
		o["usage"] = obj{"input_tokens": u[0], "output_tokens": u[1], "total_tokens": u[0] + u[1],
			"input_tokens_details": obj{"cached_tokens": 0}, "output_tokens_details": obj{"reasoning_tokens": 0}}
	}
	return o
}

func responsesMessage(id, status, text string) obj {
	content := []obj{}
	if status == "completed" {
		content = []obj{{"type": "output_text", "text": text, "annotations": []obj{}}}
	}
	return obj{"id": "msg_" + id, "type": "message", "status": status, "role": "assistant", "content": content}
}

// responsesStream is the Responses API event sequence for one message.
func responsesStream(id, model string, words []string, u [2]int) []byte {
	var out []byte
	seq := 0
	ev := func(name string, v obj) {
		v["type"], v["sequence_number"] = name, seq
		seq++
		out = sse.AppendEvent(out, name, mustJSON(v))
	}
	answer := strings.Join(words, "")
	item := "msg_" + id
	ev("response.created", obj{"response": responsesObject(id, model, "in_progress", "", u)})
	ev("response.in_progress", obj{"response": responsesObject(id, model, "in_progress", "", u)})
	ev("response.output_item.added", obj{"output_index": 0, "item": responsesMessage(id, "in_progress", "")})
	ev("response.content_part.added", obj{"item_id": item, "output_index": 0, "content_index": 0,
		"part": obj{"type": "output_text", "text": "", "annotations": []obj{}}})
	for _, w := range words {
		ev("response.output_text.delta", obj{"item_id": item, "output_index": 0, "content_index": 0, "delta": w, "logprobs": []obj{}})
	}
	ev("response.output_text.done", obj{"item_id": item, "output_index": 0, "content_index": 0, "text": answer, "logprobs": []obj{}})
	ev("response.content_part.done", obj{"item_id": item, "output_index": 0, "content_index": 0,
		"part": obj{"type": "output_text", "text": answer, "annotations": []obj{}}})
	ev("response.output_item.done", obj{"output_index": 0, "item": responsesMessage(id, "completed", answer)})
	ev("response.completed", obj{"response": responsesObject(id, model, "completed", answer, u)})
	return out
}

func anthropicMessage(id, model, answer string, u [2]int) string {
	return string(mustJSON(obj{"id": id, "type": "message", "role": "assistant", "model": model,
		"content": []obj{{"type": "text", "text": answer}}, "stop_reason": "end_turn", "stop_sequence": nil,
		"usage": obj{"input_tokens": u[0], "output_tokens": u[1]}}))
}

func anthropicStream(id, model string, words []string, u [2]int) []byte {
	var out []byte
	ev := func(name string, v obj) { v["type"] = name; out = sse.AppendEvent(out, name, mustJSON(v)) }
	ev("message_start", obj{"message": obj{"id": id, "type": "message", "role": "assistant", "model": model,
		"content": []obj{}, "stop_reason": nil, "stop_sequence": nil, "usage": obj{"input_tokens": u[0], "output_tokens": 1}}})
	ev("content_block_start", obj{"index": 0, "content_block": obj{"type": "text", "text": ""}})
	ev("ping", obj{})
	for _, w := range words {
		ev("content_block_delta", obj{"index": 0, "delta": obj{"type": "text_delta", "text": w}})
	}
	ev("content_block_stop", obj{"index": 0})
	ev("message_delta", obj{"delta": obj{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": obj{"output_tokens": u[1]}})
	ev("message_stop", obj{})
	return out
}

// demoEmbeddings returns deterministic unit vectors derived from a hash of
// each input, so equal inputs get equal vectors.
func demoEmbeddings(body []byte, model string) string {
	var inputs []string
	in := gjson.GetBytes(body, "input")
	if in.IsArray() {
		for _, v := range in.Array() {
			inputs = append(inputs, v.Raw)
		}
	} else {
		inputs = append(inputs, in.Raw)
	}
	asBase64 := gjson.GetBytes(body, "encoding_format").Str == "base64"
	data := make([]obj, len(inputs))
	tokens := 0
	for i, s := range inputs {
		sum := sha256.Sum256([]byte(s))
		vec := make([]float64, demoDims)
		var norm float64
		for j := range vec {
			v := float64(int32(binary.BigEndian.Uint32(sum[j*4:]))) / math.MaxInt32
			vec[j] = v
			norm += v * v
		}
		norm = math.Sqrt(norm)
		for j := range vec {
			vec[j] = math.Round(vec[j]/norm*1e6) / 1e6
		}
		if asBase64 {
			raw := make([]byte, 4*len(vec))
			for j, v := range vec {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(float32(v)))
			}
			data[i] = obj{"object": "embedding", "index": i, "embedding": base64.StdEncoding.EncodeToString(raw)}
		} else {
			data[i] = obj{"object": "embedding", "index": i, "embedding": vec}
		}
		tokens += len(strings.Fields(s))
	}
	return string(mustJSON(obj{"object": "list", "data": data, "model": model,
		"usage": obj{"prompt_tokens": tokens, "total_tokens": tokens}}))
}

// geminiChunk is a GenerateContentResponse with one text part; finish and
// usage are left out when empty.
func geminiChunk(id, model, text, finish string, u [2]int) obj {
	cand := obj{"content": obj{"role": "model", "parts": []obj{{"text": text}}}, "index": 0}
	if finish != "" {
		cand["finishReason"] = finish
	}
	return obj{"candidates": []obj{cand}, "modelVersion": model, "responseId": id,
		"usageMetadata": obj{"promptTokenCount": u[0], "candidatesTokenCount": u[1], "totalTokenCount": u[0] + u[1]}}
}

// geminiStreamBody is a streamGenerateContent answer in its SSE form
// (alt=sse): one chunk per word, the last with finishReason STOP. Every
// chunk carries usageMetadata, as Gemini's do.
func geminiStreamBody(id, model string, words []string, u [2]int) []byte {
	var b bytes.Buffer
	for i, w := range words {
		finish := ""
		if i == len(words)-1 {
			finish = "STOP"
		}
		b.WriteString("data: ")
		b.Write(mustJSON(geminiChunk(id, model, w, finish, [2]int{u[0], i + 1})))
		b.WriteString("\r\n\r\n")
	}
	return b.Bytes()
}
