package openai

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

// The Responses API (POST /v1/responses). Request fields not listed here
// (previous_response_id, store, conversation, text, reasoning, include,
// tool_choice, metadata, truncation, ...) are passed to the upstream as
// sent; docs/THREAT_MODEL.md says what state kept upstream hides.
var (
	respRequestFields = []string{"model", "input", "instructions", "stream", "max_output_tokens", "tools", "prompt", "text"}
	respItemFields    = []string{"type", "role", "content", "call_id", "name", "arguments", "output", "input"}
	respPartFields    = []string{"type", "text", "refusal"}
	respToolFields    = []string{"type"}
	respPromptFields  = []string{"variables"}
)

// Item field positions in respItemFields.
const (
	riType = iota
	riRole
	riContent
	riCallID
	riName
	riArguments
	riOutput
	riInput
)

// parseResponses reads a Responses API request: instructions become the
// system prompt, input (a string or a list of items) the messages, tools
// the declared tools, and string prompt variables user text.
func parseResponses(root gjson.Result, c *conv.Conversation) error {
	var f [8]gjson.Result
	if err := pj.Fields(root, "", respRequestFields, f[:]); err != nil {
		return err
	}
	// A structured-output schema (text.format) is read by the model like
	// a tool definition.
	if format := f[7].Get("format"); f[7].IsObject() && format.IsObject() && format.Get("type").Str == "json_schema" {
		declare(c, format, "text.format")
	}
	model, input, instructions, stream, maxOut, tools, prompt := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	var err error
	// model may be absent when a stored prompt (prompt.id) names it.
	if c.Model, err = pj.OptStr(model, "", "model"); err != nil {
		return err
	}
	if c.Stream, err = pj.OptBool(stream, "", "stream"); err != nil {
		return err
	}
	c.IncludeUsage = c.Stream // response.completed always carries usage
	n, err := pj.OptInt(maxOut, "", "max_output_tokens")
	if err != nil {
		return err
	}
	c.InitMaxTokens(n)
	if pj.Present(instructions) {
		text, err := pj.Str(instructions, "", "instructions")
		if err != nil {
			return err
		}
		c.System = []conv.Segment{conv.NewSegment(text, conv.SourceSystem, "instructions")}
	}
	switch {
	case input.Type == gjson.String:
		c.Messages = append(c.Messages, conv.Message{Role: conv.RoleUser,
			Segments: []conv.Segment{conv.NewSegment(input.Str, conv.SourceUser, "input")}})
	case input.IsArray():
		if err := pj.Each(input, "input", func(i int, it gjson.Result) error {
			return parseInputItem(c, i, it)
		}); err != nil {
			return err
		}
	case pj.Present(input):
		return pj.Errorf("invalid_type", "input", "input must be a string or an array of items")
	}
	if pj.Present(tools) {
		if err := pj.Each(tools, "tools", func(i int, t gjson.Result) error {
			tool, err := parseRespTool(t, pj.Path("tools", i))
			if err == nil && t.Get("type").Str == "mcp" {
				// A remote MCP server: OpenAI fetches its tools and results
				// into the model, none of which passes the gateway (as
				// Anthropic's mcp_servers). Refused unless allowed by name.
				c.Unknown = append(c.Unknown, conv.UnknownPart{Type: "tool:mcp", Path: pj.Path("tools", i)})
			}
			if err == nil {
				c.Tools = append(c.Tools, tool)
				declare(c, t, pj.Path("tools", i)) // the definition's text, scanned (issue #22)
			}
			return err
		}); err != nil {
			return err
		}
	}
	if pj.Present(prompt) {
		if err := parsePromptVars(c, prompt); err != nil {
			return err
		}
	}
	if len(c.Messages) == 0 && len(c.System) == 0 && !pj.Present(prompt) && !pj.Present(input) {
		return pj.Errorf("missing_field", "input", "input is required")
	}
	return nil
}

// parseInputItem reads one item of input into the conversation.
func parseInputItem(c *conv.Conversation, i int, it gjson.Result) error {
	path := pj.Path("input", i)
	var f [8]gjson.Result
	if err := pj.Fields(it, path, respItemFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.OptStr(f[riType], path, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "message", "":
		if typ == "" && !pj.Present(f[riRole]) {
			return pj.Errorf("missing_field", path+".type", "%s.type is required for an item that is not a message", path)
		}
		return parseInputMessage(c, path, f[riRole], f[riContent])
	case "function_call", "custom_tool_call":
		call := conv.ToolCall{Path: path}
		if call.ID, err = pj.OptStr(f[riCallID], path, "call_id"); err != nil {
			return err
		}
		if call.Name, err = pj.Str(f[riName], path, "name"); err != nil {
			return err
		}
		argField, argKey := f[riArguments], "arguments"
		if typ == "custom_tool_call" {
			argField, argKey = f[riInput], "input"
		}
		if call.Arguments, err = pj.OptStr(argField, path, argKey); err != nil {
			return err
		}
		// Consecutive calls of one turn share an assistant message.
		if n := len(c.Messages); n > 0 && c.Messages[n-1].Role == conv.RoleAssistant && len(c.Messages[n-1].Segments) == 0 {
			c.Messages[n-1].ToolCalls = append(c.Messages[n-1].ToolCalls, call)
			return nil
		}
		c.Messages = append(c.Messages, conv.Message{Role: conv.RoleAssistant, ToolCalls: []conv.ToolCall{call}})
		return nil
	case "function_call_output", "custom_tool_call_output":
		msg := conv.Message{Role: conv.RoleTool}
		if msg.ToolCallID, err = pj.OptStr(f[riCallID], path, "call_id"); err != nil {
			return err
		}
		if err := toolOutput(c, &msg, f[riOutput], path+".output", true); err != nil {
			return err
		}
		c.Messages = append(c.Messages, msg)
		return nil
	case "reasoning", "item_reference":
		// Model state handed back (encrypted reasoning, a reference to a
		// stored item): nothing the client wrote.
		return nil
	}
	// Other items: built-in tool calls and their outputs handed back. A
	// string output (mcp_call, local_shell_call_output, ...) is tool data
	// and scanned as such. Calls the model made to built-in tools carry no
	// text from outside and pass; every other item type holds content the
	// gateway does not read, and is refused unless the operator allows it
	// (layers.injection.allow_unknown_parts), like unknown content parts.
	msg := conv.Message{Role: conv.RoleTool, Parts: map[string]int{typ: 1}}
	if f[riOutput].Type == gjson.String {
		msg.Segments = []conv.Segment{conv.NewSegment(f[riOutput].Str, conv.SourceTool, path+".output")}
	} else if !passedItems[typ] {
		c.Unknown = append(c.Unknown, conv.UnknownPart{Type: typ, Path: path})
	}
	c.Messages = append(c.Messages, msg)
	return nil
}

// passedItems are input item types that carry no text from outside the
// model: calls it made to built-in tools.
var passedItems = map[string]bool{"web_search_call": true, "computer_call": true, "image_generation_call": true,
	"local_shell_call": true, "shell_call": true}

// toolOutput reads a function_call_output's output: a string, or a list of
// input_text / input_image / input_file parts. Text is tool data.
func toolOutput(c *conv.Conversation, msg *conv.Message, v gjson.Result, path string, required bool) error {
	switch {
	case v.Type == gjson.String:
		msg.Segments = append(msg.Segments, conv.NewSegment(v.Str, conv.SourceTool, path))
		return nil
	case v.IsArray():
		return pj.Each(v, path, func(j int, p gjson.Result) error {
			return parseRespPart(msg, conv.SourceTool, pj.Path(path, j), p, c)
		})
	case !pj.Present(v) && !required:
		return nil
	case !pj.Present(v):
		return pj.Errorf("missing_field", path, "%s is required", path)
	}
	return pj.Errorf("invalid_type", path, "%s must be a string or an array of content parts", path)
}

// parseInputMessage reads a message item (or the short {role, content} form).
func parseInputMessage(c *conv.Conversation, path string, roleV, content gjson.Result) error {
	role, err := pj.Str(roleV, path, "role")
	if err != nil {
		return err
	}
	var src conv.Source
	switch role {
	case "system", "developer":
		src = conv.SourceSystem
	case "user":
		src = conv.SourceUser
	case "assistant":
		src = conv.SourceAssistant
	default:
		return pj.Errorf("invalid_value", path+".role", "%s.role %q is not one of system, developer, user, assistant", path, role)
	}
	msg := conv.Message{Role: conv.Role(role)}
	switch {
	case content.Type == gjson.String:
		msg.Segments = []conv.Segment{conv.NewSegment(content.Str, src, path+".content")}
	case content.IsArray():
		if err := pj.Each(content, path+".content", func(j int, p gjson.Result) error {
			return parseRespPart(&msg, src, pj.Path(path, "content", j), p, c)
		}); err != nil {
			return err
		}
	case !pj.Present(content):
		return pj.Errorf("missing_field", path+".content", "%s.content is required", path)
	default:
		return pj.Errorf("invalid_type", path+".content", "%s.content must be a string or an array of content parts", path)
	}
	c.Messages = append(c.Messages, msg)
	return nil
}

// parseRespPart reads one content part: input_text and output_text carry
// text, refusal its refusal; every other type (input_image, input_file,
// input_audio, ...) is counted in Parts.
func parseRespPart(msg *conv.Message, src conv.Source, path string, p gjson.Result, c *conv.Conversation) error {
	var f [3]gjson.Result
	if err := pj.Fields(p, path, respPartFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.Str(f[0], path, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "input_text", "output_text", "text":
		text, err := pj.Str(f[1], path, "text")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, src, path+".text"))
	case "refusal":
		text, err := pj.Str(f[2], path, "refusal")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, src, path+".refusal"))
	case "input_file":
		// file_data that decodes to text is a document; by id or URL
		// the file is not seen (as in chat).
		if err := parseFileFields(path, p, c); err != nil {
			return err
		}
		countPart(msg, typ)
	case "input_image", "input_audio":
		countPart(msg, typ) // no text: not inspected (docs/THREAT_MODEL.md)
	default: // a type added later: inspected by nothing, refused by default
		countPart(msg, typ)
		if c != nil {
			c.Unknown = append(c.Unknown, conv.UnknownPart{Type: typ, Path: path})
		}
	}
	return nil
}

// parseRespTool reads one tool: function and custom tools are declared by
// name; a built-in tool (web_search, file_search, code_interpreter, mcp,
// ...) is kept under its type, as the chat adapter does for unknown types.
func parseRespTool(t gjson.Result, path string) (conv.Tool, error) {
	var f [1]gjson.Result
	if err := pj.Fields(t, path, respToolFields, f[:]); err != nil {
		return conv.Tool{}, err
	}
	typ, err := pj.Str(f[0], path, "type")
	if err != nil {
		return conv.Tool{}, err
	}
	if typ != "function" && typ != "custom" {
		return conv.Tool{Name: typ}, nil
	}
	// name, description and parameters sit on the tool itself.
	return pj.ToolDef(t, path, "parameters")
}

// parsePromptVars reads prompt.variables of a stored prompt: string values
// (and input_text parts) are filled into the prompt upstream, so they are
// user text. Variable names that a path cannot address safely are refused.
func parsePromptVars(c *conv.Conversation, prompt gjson.Result) error {
	var f [1]gjson.Result
	if err := pj.Fields(prompt, "prompt", respPromptFields, f[:]); err != nil {
		return err
	}
	vars := f[0]
	if !pj.Present(vars) {
		return nil
	}
	if !vars.IsObject() {
		return pj.Errorf("invalid_type", "prompt.variables", "prompt.variables must be an object")
	}
	msg := conv.Message{Role: conv.RoleUser}
	seen := map[string]bool{}
	var err error
	vars.ForEach(func(k, v gjson.Result) bool {
		if !safeKey(k) {
			err = pj.Errorf("invalid_key", "prompt.variables", "prompt variable names must be letters, digits, '_' or '-'")
			return false
		}
		if seen[k.Str] {
			err = pj.Errorf("duplicate_key", "prompt.variables."+k.Str, "prompt variable %q occurs more than once", k.Str)
			return false
		}
		seen[k.Str] = true
		path := "prompt.variables." + k.Str
		switch {
		case v.Type == gjson.String:
			msg.Segments = append(msg.Segments, conv.NewSegment(v.Str, conv.SourceUser, path))
		case v.IsObject():
			err = parseRespPart(&msg, conv.SourceUser, path, v, c)
		default:
			err = pj.Errorf("invalid_type", path, "%s must be a string or a content part", path)
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	if len(msg.Segments) > 0 || len(msg.Parts) > 0 {
		c.Messages = append(c.Messages, msg)
	}
	return nil
}

// safeKey reports whether an object key is plain (no escapes, and only
// characters that gjson/sjson paths take literally).
func safeKey(k gjson.Result) bool {
	if k.Str == "" || len(k.Str) > 128 || strings.IndexByte(k.Raw, '\\') >= 0 {
		return false
	}
	for i := 0; i < len(k.Str); i++ {
		b := k.Str[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}
