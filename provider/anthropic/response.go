package anthropic

import (
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	responseFields = []string{"model", "content", "stop_reason", "usage"}
	respBlockFlds  = []string{"type", "text", "id", "name", "input", "thinking"}
	usageFields    = []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
)

// ParseResponse reads a whole Messages response as one choice (index 0).
// Errors are *provider.Error with Status 502.
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
	case conv.KindModels, conv.KindCountTokens:
		return r, nil
	case conv.KindChat:
	default:
		return nil, unsupported(kind)
	}
	root, err := pj.Parse(body)
	if err != nil {
		return nil, err
	}
	var f [4]gjson.Result
	if err := pj.Fields(root, "", responseFields, f[:]); err != nil {
		return nil, err
	}
	if r.Model, err = pj.OptStr(f[0], "", "model"); err != nil {
		return nil, err
	}
	ch := conv.Choice{Message: conv.Message{Role: conv.RoleAssistant}}
	if ch.FinishReason, err = pj.OptStr(f[2], "", "stop_reason"); err != nil {
		return nil, err
	}
	if r.Usage, err = parseUsage(f[3], "usage"); err != nil {
		return nil, err
	}
	if pj.Present(f[1]) {
		if err := pj.Each(f[1], "content", func(i int, b gjson.Result) error {
			path := pj.Path("content", i)
			if t := b.Get("type"); t.Type == gjson.String && !knownBlock(t.Str) {
				r.Unknown = append(r.Unknown, conv.UnknownPart{Type: t.Str, Path: path})
			}
			return parseRespBlock(&ch.Message, path, b)
		}); err != nil {
			return nil, err
		}
	}
	r.Choices = []conv.Choice{ch}
	return r, nil
}

func parseRespBlock(msg *conv.Message, path string, b gjson.Result) error {
	var f [6]gjson.Result
	if err := pj.Fields(b, path, respBlockFlds, f[:]); err != nil {
		return err
	}
	typ, err := pj.Str(f[0], path, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "text":
		text, err := pj.Str(f[1], path, "text")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceAssistant, path+".text"))
	case "tool_use", "server_tool_use":
		call, err := parseToolUse(path, f[2], f[3], f[4])
		if err != nil {
			return err
		}
		msg.ToolCalls = append(msg.ToolCalls, call)
	case "thinking":
		// the model's reasoning, shown to the client: a text channel
		text, err := pj.Str(f[5], path, "thinking")
		if err != nil {
			return err
		}
		seg := conv.NewSegment(text, conv.SourceAssistant, path+".thinking")
		seg.Signed = true // its signature covers the text
		msg.Segments = append(msg.Segments, seg)
	default: // redacted_thinking (encrypted), web_search_tool_result, ...
		countPart(msg, typ)
	}
	return nil
}

// passedBlocks are the answer block types rampart knows and passes
// uninspected: encrypted reasoning, and the calls and results of tools
// Anthropic runs itself (docs/THREAT_MODEL.md). A block of any type not
// here or parsed above is one the gateway does not know: conv.Unknown
// (the output guard blocks it unless allowed by name).
var passedBlocks = map[string]bool{
	"redacted_thinking": true, "web_search_tool_result": true, "web_fetch_tool_result": true,
	"code_execution_tool_result": true, "bash_code_execution_tool_result": true,
	"text_editor_code_execution_tool_result": true, "mcp_tool_use": true, "mcp_tool_result": true,
	"container_upload": true, "tool_search_tool_result": true,
}

// knownBlock reports whether an answer block type is parsed or passed by
// decision.
func knownBlock(typ string) bool {
	switch typ {
	case "text", "thinking", "tool_use", "server_tool_use":
		return true
	}
	return passedBlocks[typ]
}

// parseUsage maps Anthropic usage: prompt tokens are input_tokens plus the
// cache creation and cache read input tokens (Anthropic reports them apart).
func parseUsage(v gjson.Result, param string) (*conv.Usage, error) {
	if !pj.Present(v) {
		return nil, nil
	}
	var f [4]gjson.Result
	if err := pj.Fields(v, param, usageFields, f[:]); err != nil {
		return nil, err
	}
	var n [4]int
	for i := range f {
		var err error
		if n[i], err = pj.OptInt(f[i], param, usageFields[i]); err != nil {
			return nil, err
		}
	}
	u := &conv.Usage{PromptTokens: n[0] + n[2] + n[3], CompletionTokens: n[1], CachedPromptTokens: n[3]}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u, nil
}

// EncodeResponse writes changed segments back into body.
func (adapter) EncodeResponse(body []byte, r *conv.Response) ([]byte, error) {
	w := pj.Writer{Body: body}
	for i := range r.Choices {
		if err := w.WriteSegments(r.Choices[i].Message.Segments); err != nil {
			return nil, err
		}
	}
	return w.Body, nil
}
