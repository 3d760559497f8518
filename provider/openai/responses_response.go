package openai

import (
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	respObjFields   = []string{"model", "status", "output", "usage"}
	respOutFields   = []string{"type", "content", "call_id", "name", "arguments", "input", "summary"}
	respUsageFields = []string{"input_tokens", "output_tokens", "total_tokens"}
	summaryFields   = []string{"type", "text"}
)

// parseResponsesObject reads a Responses API response object (the whole
// answer, or the one inside response.completed) at prefix ("" or
// "response."). All of its output is one choice: the text of message items
// (output_text, refusal) and of reasoning summaries as segments, function
// and custom tool calls as tool calls.
func parseResponsesObject(obj gjson.Result, prefix string) (*conv.Response, error) {
	r := &conv.Response{}
	var f [4]gjson.Result
	if err := pj.Fields(obj, trimDot(prefix), respObjFields, f[:]); err != nil {
		return nil, err
	}
	var err error
	if r.Model, err = pj.OptStr(f[0], trimDot(prefix), "model"); err != nil {
		return nil, err
	}
	ch := conv.Choice{Message: conv.Message{Role: conv.RoleAssistant}}
	if ch.FinishReason, err = pj.OptStr(f[1], trimDot(prefix), "status"); err != nil {
		return nil, err
	}
	if r.Usage, err = parseRespUsage(f[3], prefix+"usage"); err != nil {
		return nil, err
	}
	if pj.Present(f[2]) {
		if err := pj.Each(f[2], prefix+"output", func(i int, it gjson.Result) error {
			path := pj.Path(prefix+"output", i)
			if t := it.Get("type"); t.Type == gjson.String && !knownOutputItems[t.Str] {
				r.Unknown = append(r.Unknown, conv.UnknownPart{Type: t.Str, Path: path})
			}
			return parseOutputItem(&ch.Message, path, it)
		}); err != nil {
			return nil, err
		}
	}
	r.Choices = []conv.Choice{ch}
	return r, nil
}

// knownOutputItems are the Responses API output item types rampart reads
// (message, function and custom tool calls, reasoning) or passes by
// decision (tools the provider runs, actions of provider-defined tools:
// docs/THREAT_MODEL.md). An item of another type is one the gateway does
// not know: conv.Unknown (the output guard blocks it unless allowed).
var knownOutputItems = map[string]bool{
	"message": true, "function_call": true, "custom_tool_call": true, "reasoning": true,
	"web_search_call": true, "file_search_call": true, "code_interpreter_call": true, "image_generation_call": true,
	"mcp_call": true, "mcp_list_tools": true, "mcp_approval_request": true, "computer_call": true, "local_shell_call": true,
}

func trimDot(prefix string) string {
	if prefix == "" {
		return ""
	}
	return prefix[:len(prefix)-1]
}

// parseOutputItem reads one output item at path into msg.
func parseOutputItem(msg *conv.Message, path string, it gjson.Result) error {
	var f [7]gjson.Result
	if err := pj.Fields(it, path, respOutFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.Str(f[0], path, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "message":
		if !pj.Present(f[1]) {
			return nil
		}
		return pj.Each(f[1], path+".content", func(j int, p gjson.Result) error {
			return parseRespPart(msg, conv.SourceAssistant, pj.Path(path, "content", j), p, nil)
		})
	case "function_call", "custom_tool_call":
		call := conv.ToolCall{Path: path}
		if call.ID, err = pj.OptStr(f[2], path, "call_id"); err != nil {
			return err
		}
		if call.Name, err = pj.Str(f[3], path, "name"); err != nil {
			return err
		}
		args, key := f[4], "arguments"
		if typ == "custom_tool_call" {
			args, key = f[5], "input"
		}
		if call.Arguments, err = pj.OptStr(args, path, key); err != nil {
			return err
		}
		msg.ToolCalls = append(msg.ToolCalls, call)
	case "reasoning":
		// the reasoning text of open-weight models (content, reasoning_text
		// parts) and the summaries
		if pj.Present(f[1]) {
			if err := pj.Each(f[1], path+".content", func(j int, s gjson.Result) error {
				sp := pj.Path(path, "content", j)
				var g [2]gjson.Result
				if err := pj.Fields(s, sp, summaryFields, g[:]); err != nil {
					return err
				}
				if !pj.Present(g[1]) {
					return nil
				}
				text, err := pj.Str(g[1], sp, "text")
				if err == nil {
					msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceAssistant, sp+".text"))
				}
				return err
			}); err != nil {
				return err
			}
		}
		if !pj.Present(f[6]) {
			return nil
		}
		return pj.Each(f[6], path+".summary", func(j int, s gjson.Result) error {
			sp := pj.Path(path, "summary", j)
			var g [2]gjson.Result
			if err := pj.Fields(s, sp, summaryFields, g[:]); err != nil {
				return err
			}
			text, err := pj.Str(g[1], sp, "text")
			if err == nil {
				msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceAssistant, sp+".text"))
			}
			return err
		})
	}
	// Built-in tool calls (web_search_call, file_search_call, mcp_call,
	// image_generation_call, ...) run at the provider: passed through.
	return nil
}

// parseRespUsage reads Responses usage (input/output/total tokens).
func parseRespUsage(v gjson.Result, param string) (*conv.Usage, error) {
	if !pj.Present(v) {
		return nil, nil
	}
	var f [3]gjson.Result
	if err := pj.Fields(v, param, respUsageFields, f[:]); err != nil {
		return nil, err
	}
	u := &conv.Usage{}
	var err error
	if u.PromptTokens, err = pj.OptInt(f[0], param, "input_tokens"); err != nil {
		return nil, err
	}
	if u.CompletionTokens, err = pj.OptInt(f[1], param, "output_tokens"); err != nil {
		return nil, err
	}
	if u.TotalTokens, err = pj.OptInt(f[2], param, "total_tokens"); err != nil {
		return nil, err
	}
	return u, nil
}
