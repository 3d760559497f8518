package openai

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	responseFields = []string{"model", "choices", "usage"}
	choiceFields   = []string{"index", "message", "finish_reason", "text"}
	respMsgFields  = []string{"content", "refusal", "tool_calls", "function_call", "reasoning_content", "reasoning", "audio"}
	usageFields    = []string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"}
)

// ParseResponse reads a whole response. Errors are *provider.Error with
// Status 502 (the upstream sent something malformed).
func (adapter) ParseResponse(body []byte, kind conv.Kind) (*conv.Response, error) {
	r, err := parseResponse(body, kind)
	if err != nil {
		return nil, pj.Upstream(err)
	}
	return r, nil
}

func parseResponse(body []byte, kind conv.Kind) (*conv.Response, error) {
	r := &conv.Response{}
	switch kind {
	case conv.KindChat, conv.KindCompletion, conv.KindEmbedding:
	case conv.KindModels, conv.KindModeration:
		return r, nil
	case conv.KindResponses:
		root, err := pj.Parse(body)
		if err != nil {
			return nil, err
		}
		return parseResponsesObject(root, "")
	default:
		return nil, unsupported(kind)
	}
	root, err := pj.Parse(body)
	if err != nil {
		return nil, err
	}
	var f [3]gjson.Result
	if err := pj.Fields(root, "", responseFields, f[:]); err != nil {
		return nil, err
	}
	if r.Model, err = pj.OptStr(f[0], "", "model"); err != nil {
		return nil, err
	}
	if r.Usage, err = parseUsage(f[2], "usage"); err != nil {
		return nil, err
	}
	if kind == conv.KindEmbedding || !pj.Present(f[1]) {
		return r, nil
	}
	err = pj.Each(f[1], "choices", func(i int, ch gjson.Result) error {
		c, err := parseChoice(i, ch, kind)
		if err == nil {
			r.Choices = append(r.Choices, c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func parseChoice(i int, ch gjson.Result, kind conv.Kind) (conv.Choice, error) {
	path := pj.Path("choices", i)
	var f [4]gjson.Result
	if err := pj.Fields(ch, path, choiceFields, f[:]); err != nil {
		return conv.Choice{}, err
	}
	c := conv.Choice{Index: i, Message: conv.Message{Role: conv.RoleAssistant}}
	var err error
	if pj.Present(f[0]) {
		if c.Index, err = pj.OptInt(f[0], path, "index"); err != nil {
			return c, err
		}
	}
	if c.FinishReason, err = pj.OptStr(f[2], path, "finish_reason"); err != nil {
		return c, err
	}
	if kind == conv.KindCompletion {
		text, err := pj.Str(f[3], path, "text")
		if err != nil {
			return c, err
		}
		c.Message.Segments = []conv.Segment{conv.NewSegment(text, conv.SourceAssistant, path+".text")}
		return c, nil
	}
	mpath := path + ".message"
	if err := pj.Obj(f[1], path, "message"); err != nil {
		return c, err
	}
	var m [7]gjson.Result
	if err := pj.Fields(f[1], mpath, respMsgFields, m[:]); err != nil {
		return c, err
	}
	// Every text channel of the answer: content, refusal, the reasoning
	// of OpenAI-compatible servers (reasoning_content, reasoning) and the
	// transcript of an audio answer.
	if pj.Present(m[6]) {
		var a [1]gjson.Result
		if err := pj.Fields(m[6], mpath+".audio", []string{"transcript"}, a[:]); err != nil {
			return c, err
		}
		if pj.Present(a[0]) {
			t, err := pj.Str(a[0], mpath, "audio.transcript")
			if err != nil {
				return c, err
			}
			c.Message.Segments = append(c.Message.Segments, conv.NewSegment(t, conv.SourceAssistant, mpath+".audio.transcript"))
		}
	}
	for _, k := range [...]int{0, 1, 4, 5} {
		key := respMsgFields[k]
		if pj.Present(m[k]) {
			text, err := pj.Str(m[k], mpath, key)
			if err != nil {
				return c, err
			}
			c.Message.Segments = append(c.Message.Segments, conv.NewSegment(text, conv.SourceAssistant, mpath+"."+key))
		}
	}
	if pj.Present(m[2]) {
		if err := pj.Each(m[2], mpath+".tool_calls", func(j int, tc gjson.Result) error {
			call, err := parseToolCall(tc, pj.Path("choices", i, "message", "tool_calls", j))
			if err == nil {
				c.Message.ToolCalls = append(c.Message.ToolCalls, call)
			}
			return err
		}); err != nil {
			return c, err
		}
	}
	if pj.Present(m[3]) {
		call, err := parseFunction(m[3], mpath+".function_call")
		if err != nil {
			return c, err
		}
		c.Message.ToolCalls = append(c.Message.ToolCalls, call)
	}
	return c, nil
}

func parseUsage(v gjson.Result, param string) (*conv.Usage, error) {
	if !pj.Present(v) {
		return nil, nil
	}
	var f [4]gjson.Result
	if err := pj.Fields(v, param, usageFields, f[:]); err != nil {
		return nil, err
	}
	u := &conv.Usage{}
	if f[3].IsObject() {
		// Cached prompt tokens price lower; a malformed count is ignored
		// (it only changes the price, never what passes).
		if c := f[3].Get("cached_tokens"); c.Type == gjson.Number && c.Int() > 0 && c.Int() <= 1<<40 {
			u.CachedPromptTokens = int(c.Int())
		}
	}
	var err error
	if u.PromptTokens, err = pj.OptInt(f[0], param, "prompt_tokens"); err != nil {
		return nil, err
	}
	if u.CompletionTokens, err = pj.OptInt(f[1], param, "completion_tokens"); err != nil {
		return nil, err
	}
	if u.TotalTokens, err = pj.OptInt(f[2], param, "total_tokens"); err != nil {
		return nil, err
	}
	return u, nil
}

// EncodeResponse writes changed segments back into body.
func (adapter) EncodeResponse(body []byte, r *conv.Response) ([]byte, error) {
	w := pj.Writer{Body: body}
	for i := range r.Choices {
		segs := r.Choices[i].Message.Segments
		if err := w.WriteSegments(segs); err != nil {
			return nil, err
		}
		for j := range segs {
			if segs[j].Changed() {
				if err := dropLogprobs(&w, segs[j].Path); err != nil {
					return nil, err
				}
			}
		}
	}
	return w.Body, nil
}

// dropLogprobs empties the log probabilities that repeat the tokens of the
// text at path, which a layer changed (redacted, held back): they would
// carry the original text past the change. Chat and completion choices
// ("choices.N...") get "logprobs": null; Responses API text parts
// ("output.N.content.M.text", "part.text", an event's "delta" or "text")
// an empty list.
func dropLogprobs(w *pj.Writer, path string) error {
	lp, empty := "", []byte("null")
	switch {
	case strings.HasPrefix(path, "choices."):
		rest := path[len("choices."):]
		k := strings.IndexByte(rest, '.')
		if k < 0 {
			return nil
		}
		lp = "choices." + rest[:k] + ".logprobs"
	case strings.HasSuffix(path, ".text") && strings.Contains(path, ".content."):
		lp, empty = strings.TrimSuffix(path, ".text")+".logprobs", []byte("[]")
	case path == "part.text":
		lp, empty = "part.logprobs", []byte("[]")
	case path == "delta" || path == "text":
		lp, empty = "logprobs", []byte("[]")
	default:
		return nil
	}
	v := gjson.GetBytes(w.Body, lp)
	if !v.Exists() || v.Type == gjson.Null || v.IsArray() && len(v.Array()) == 0 {
		return nil
	}
	return w.SetRaw(lp, empty)
}
