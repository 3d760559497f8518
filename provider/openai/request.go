package openai

import (
	"bytes"
	"fmt"
	"math"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

// sourceKey marks a text part as a client-supplied document. It is removed
// before the request goes upstream.
const sourceKey = "x_rampart_source"

var (
	chatFields = []string{"model", "messages", "stream", "stream_options", "max_tokens",
		"max_completion_tokens", "tools", "functions", "response_format", "n",
		// vllmChatFields, last
		"documents", "chat_template", "chat_template_kwargs"}
	// vllmChatFields are the last members of chatFields: vLLM's
	// OpenAI-compatible server puts text from them before the model, and
	// the gateway does not read them, so parseChat refuses them.
	vllmChatFields   = chatFields[len(chatFields)-3:]
	completionFields = []string{"model", "prompt", "suffix", "stream", "stream_options", "max_tokens", "n", "best_of"}
	embeddingFields  = []string{"model", "input"}
	messageFields    = []string{"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "refusal"}
	partFields       = []string{"type", "text", "refusal", sourceKey, "file"}
	fileFields       = []string{"file_data", "filename"}
	toolCallFields   = []string{"id", "type", "function", "custom"}
	functionFields   = []string{"name", "arguments"}
	customCallFields = []string{"name", "input"}
	toolFields       = []string{"type", "function", "custom"}
	streamOptFields  = []string{"include_usage"}
)

func (adapter) ParseRequest(body []byte, kind conv.Kind) (*conv.Conversation, error) {
	c := &conv.Conversation{Kind: kind, Provider: "openai"}
	switch kind {
	case conv.KindModels:
		return c, nil
	case conv.KindModeration:
		if err := pj.ModelOnly(body, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	root, err := pj.Parse(body)
	if err != nil {
		return nil, err
	}
	switch kind {
	case conv.KindChat:
		err = parseChat(root, c)
	case conv.KindCompletion:
		err = parseCompletion(root, c)
	case conv.KindEmbedding:
		err = parseEmbedding(root, c)
	case conv.KindResponses:
		err = parseResponses(root, c)
	default:
		return nil, unsupported(kind)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func parseChat(root gjson.Result, c *conv.Conversation) error {
	var f [13]gjson.Result
	if err := pj.Fields(root, "", chatFields, f[:]); err != nil {
		return err
	}
	// vLLM renders "documents" (RAG documents) and "chat_template_kwargs"
	// through its chat template, and "chat_template" is a client-written
	// template (any text before the messages): none is read here, so each
	// is an unknown part, refused unless allow_unknown_parts names it.
	vllm := f[len(f)-len(vllmChatFields):]
	for i, name := range vllmChatFields {
		if vllm[i].Exists() {
			c.Unknown = append(c.Unknown, conv.UnknownPart{Type: "field:" + name, Path: name})
		}
	}
	model, messages, stream, streamOpts, maxTok, maxCompl, tools, functions, respFormat :=
		f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]
	if err := common(c, model, stream, streamOpts); err != nil {
		return err
	}
	n, err := pj.OptInt(maxTok, "", "max_tokens")
	if err != nil {
		return err
	}
	// With both names the larger counts: servers differ in the one they
	// read (vLLM prefers max_completion_tokens, others know only
	// max_tokens), and a changed cap is written into both.
	if pj.Present(maxCompl) {
		mc, err := pj.OptInt(maxCompl, "", "max_completion_tokens")
		if err != nil {
			return err
		}
		n = max(n, mc)
	}
	c.InitMaxTokens(n)
	if c.Answers, err = pj.OptInt(f[9], "", "n"); err != nil {
		return err
	}
	if !messages.Exists() {
		return pj.Errorf("missing_field", "messages", "messages is required")
	}
	if err := pj.Each(messages, "messages", func(i int, m gjson.Result) error {
		msg, err := parseMessage(i, m, c)
		if err != nil {
			return err
		}
		c.Messages = append(c.Messages, msg)
		return nil
	}); err != nil {
		return err
	}
	if pj.Present(tools) {
		if err := pj.Each(tools, "tools", func(i int, t gjson.Result) error {
			tool, err := parseTool(i, t)
			if err == nil {
				c.Tools = append(c.Tools, tool)
				declare(c, t, pj.Path("tools", i))
			}
			return err
		}); err != nil {
			return err
		}
	}
	if pj.Present(functions) {
		if err := pj.Each(functions, "functions", func(i int, t gjson.Result) error {
			tool, err := pj.ToolDef(t, pj.Path("functions", i), "parameters")
			if err == nil {
				c.Tools = append(c.Tools, tool)
				declare(c, t, pj.Path("functions", i))
			}
			return err
		}); err != nil {
			return err
		}
	}
	if pj.Present(respFormat) {
		if !respFormat.IsObject() {
			return pj.Errorf("invalid_type", "response_format", "response_format must be an object")
		}
		declare(c, respFormat, "response_format")
	}
	return nil
}

// declare adds the prose of a tool definition or schema at path (every
// string and member name the model reads) as a read-only SourceToolDef
// segment.
func declare(c *conv.Conversation, v gjson.Result, path string) {
	if text := pj.Text(v); text != "" {
		c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceToolDef, path))
	}
}

// common reads model, stream and stream_options.
func common(c *conv.Conversation, model, stream, streamOpts gjson.Result) error {
	var err error
	if c.Model, err = pj.Str(model, "", "model"); err != nil {
		return err
	}
	if c.Stream, err = pj.OptBool(stream, "", "stream"); err != nil {
		return err
	}
	if pj.Present(streamOpts) {
		var o [1]gjson.Result
		if err := pj.Fields(streamOpts, "stream_options", streamOptFields, o[:]); err != nil {
			return err
		}
		if c.IncludeUsage, err = pj.OptBool(o[0], "", "stream_options.include_usage"); err != nil {
			return err
		}
	}
	return nil
}

func roleSource(role string) (conv.Source, bool) {
	switch role {
	case "system", "developer":
		return conv.SourceSystem, true
	case "user":
		return conv.SourceUser, true
	case "assistant":
		return conv.SourceAssistant, true
	case "tool", "function":
		return conv.SourceTool, true
	}
	return "", false
}

func parseMessage(i int, m gjson.Result, c *conv.Conversation) (conv.Message, error) {
	param := pj.Path("messages", i)
	var f [7]gjson.Result
	if err := pj.Fields(m, param, messageFields, f[:]); err != nil {
		return conv.Message{}, err
	}
	roleV, content, nameV, toolCalls, toolCallID, functionCall, refusal := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	role, err := pj.Str(roleV, param, "role")
	if err != nil {
		return conv.Message{}, err
	}
	src, ok := roleSource(role)
	if !ok {
		return conv.Message{}, pj.Errorf("invalid_value", param+".role", "%s.role %q is not one of system, developer, user, assistant, tool, function", param, role)
	}
	msg := conv.Message{Role: conv.Role(role)}
	if msg.Name, err = pj.OptStr(nameV, param, "name"); err != nil {
		return msg, err
	}
	if msg.Name != "" {
		c.ReadOnly = append(c.ReadOnly, conv.NewSegment(msg.Name, src, param+".name"))
	}
	if msg.ToolCallID, err = pj.OptStr(toolCallID, param, "tool_call_id"); err != nil {
		return msg, err
	}
	switch {
	case content.Type == gjson.String:
		msg.Segments = []conv.Segment{conv.NewSegment(content.Str, src, param+".content")}
	case content.IsArray():
		if err := pj.Each(content, param+".content", func(j int, p gjson.Result) error {
			return parsePart(&msg, src, pj.Path("messages", i, "content", j), p, c)
		}); err != nil {
			return msg, err
		}
	case !pj.Present(content):
		if role != "assistant" {
			return msg, pj.Errorf("missing_field", param+".content", "%s.content is required for role %s", param, role)
		}
	default:
		return msg, pj.Errorf("invalid_type", param+".content", "%s.content must be a string or an array of content parts", param)
	}
	if role == "assistant" {
		if pj.Present(refusal) {
			if _, err := pj.Str(refusal, param, "refusal"); err != nil {
				return msg, err
			}
			msg.Segments = append(msg.Segments, conv.NewSegment(refusal.Str, src, param+".refusal"))
		}
		if pj.Present(toolCalls) {
			if err := pj.Each(toolCalls, param+".tool_calls", func(j int, tc gjson.Result) error {
				call, err := parseToolCall(tc, pj.Path("messages", i, "tool_calls", j))
				if err == nil {
					msg.ToolCalls = append(msg.ToolCalls, call)
				}
				return err
			}); err != nil {
				return msg, err
			}
		}
		if pj.Present(functionCall) {
			call, err := parseFunction(functionCall, param+".function_call")
			if err != nil {
				return msg, err
			}
			msg.ToolCalls = append(msg.ToolCalls, call)
		}
	}
	return msg, nil
}

// parsePart reads one content part at path p.
func parsePart(msg *conv.Message, src conv.Source, path string, p gjson.Result, c *conv.Conversation) error {
	var f [5]gjson.Result
	if err := pj.Fields(p, path, partFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.Str(f[0], path, "type")
	if err != nil {
		return err
	}
	if pj.Present(f[3]) {
		mark, err := pj.Str(f[3], path, sourceKey)
		if err != nil {
			return err
		}
		if mark != "document" {
			return pj.Errorf("invalid_value", path+"."+sourceKey, "%s.%s must be \"document\"", path, sourceKey)
		}
		if typ != "text" {
			return pj.Errorf("invalid_value", path+"."+sourceKey, "%s.%s is only allowed on text parts", path, sourceKey)
		}
		src = conv.SourceDocument
	}
	switch typ {
	case "text":
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
	case "file":
		if err := parseFile(path, f[4], c); err != nil {
			return err
		}
		countPart(msg, typ)
	case "image_url", "input_audio":
		countPart(msg, typ) // no text: what they carry is not inspected (docs/THREAT_MODEL.md)
	default: // a type added to the API later: inspected by nothing
		countPart(msg, typ)
		c.Unknown = append(c.Unknown, conv.UnknownPart{Type: typ, Path: path})
	}
	return nil
}

func countPart(msg *conv.Message, typ string) {
	if msg.Parts == nil {
		msg.Parts = make(map[string]int, 1)
	}
	msg.Parts[typ]++
}

// parseFile reads a file part's file object: its filename and, when
// file_data is a data URL of a text type, the decoded text (at most
// maxFileText bytes of base64 are decoded; a longer text file is refused,
// since the gateway would forward what it did not read). Both become
// read-only user-document segments. A file by file_id, or of another type
// (PDF), carries no text the gateway can read: it is counted in Parts for
// allowed_parts to decide.
func parseFile(path string, file gjson.Result, c *conv.Conversation) error {
	if err := pj.Obj(file, path, "file"); err != nil {
		return err
	}
	return parseFileFields(path+".file", file, c)
}

// parseFileFields reads filename and file_data of the object at fpath (a
// chat file part's "file", or a Responses input_file part itself).
func parseFileFields(fpath string, file gjson.Result, c *conv.Conversation) error {
	var g [2]gjson.Result
	if err := pj.Fields(file, fpath, fileFields, g[:]); err != nil {
		return err
	}
	name, err := pj.OptStr(g[1], fpath, "filename")
	if err != nil {
		return err
	}
	if name != "" {
		c.ReadOnly = append(c.ReadOnly, conv.NewSegment(name, conv.SourceDocument, fpath+".filename"))
	}
	data, err := pj.OptStr(g[0], fpath, "file_data")
	if err != nil || data == "" {
		return err
	}
	text, ok, err := pj.DataText(data, fpath+".file_data")
	if err != nil || !ok {
		return err
	}
	c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceDocument, fpath+".file_data"))
	return nil
}

func parseToolCall(tc gjson.Result, path string) (conv.ToolCall, error) {
	var f [4]gjson.Result
	if err := pj.Fields(tc, path, toolCallFields, f[:]); err != nil {
		return conv.ToolCall{}, err
	}
	id, err := pj.OptStr(f[0], path, "id")
	if err != nil {
		return conv.ToolCall{}, err
	}
	typ, err := pj.OptStr(f[1], path, "type")
	if err != nil {
		return conv.ToolCall{}, err
	}
	var call conv.ToolCall
	switch typ {
	case "function", "":
		call, err = parseFunction(f[2], path+".function")
	case "custom":
		var g [2]gjson.Result
		if err = pj.Fields(f[3], path+".custom", customCallFields, g[:]); err != nil {
			return call, err
		}
		if call.Name, err = pj.Str(g[0], path, "custom.name"); err != nil {
			return call, err
		}
		call.Arguments, err = pj.OptStr(g[1], path, "custom.input")
	default:
		return call, pj.Errorf("invalid_value", path+".type", "%s.type %q is not function or custom", path, typ)
	}
	call.ID, call.Path = id, path
	return call, err
}

// parseFunction reads a {"name","arguments"} object (tool_calls[].function
// or the legacy function_call).
func parseFunction(fn gjson.Result, path string) (conv.ToolCall, error) {
	var g [2]gjson.Result
	if err := pj.Fields(fn, path, functionFields, g[:]); err != nil {
		return conv.ToolCall{}, err
	}
	call := conv.ToolCall{Path: path}
	var err error
	if call.Name, err = pj.Str(g[0], path, "name"); err != nil {
		return call, err
	}
	call.Arguments, err = pj.OptStr(g[1], path, "arguments")
	return call, err
}

func parseTool(i int, t gjson.Result) (conv.Tool, error) {
	path := pj.Path("tools", i)
	var f [3]gjson.Result
	if err := pj.Fields(t, path, toolFields, f[:]); err != nil {
		return conv.Tool{}, err
	}
	typ, err := pj.Str(f[0], path, "type")
	if err != nil {
		return conv.Tool{}, err
	}
	switch typ {
	case "function":
		return pj.ToolDef(f[1], path+".function", "parameters")
	case "custom":
		return pj.ToolDef(f[2], path+".custom", "parameters")
	}
	// A tool type this adapter does not know: keep its type as the name so
	// that policy can see (and refuse) it.
	return conv.Tool{Name: typ}, nil
}

func parseCompletion(root gjson.Result, c *conv.Conversation) error {
	var f [8]gjson.Result
	if err := pj.Fields(root, "", completionFields, f[:]); err != nil {
		return err
	}
	model, prompt, suffix, stream, streamOpts, maxTok := f[0], f[1], f[2], f[3], f[4], f[5]
	// best_of answers are generated (and billed) upstream, n of them sent.
	for i, name := range []string{"n", "best_of"} {
		a, err := pj.OptInt(f[6+i], "", name)
		if err != nil {
			return err
		}
		c.Answers = max(c.Answers, a)
	}
	if err := common(c, model, stream, streamOpts); err != nil {
		return err
	}
	n, err := pj.OptInt(maxTok, "", "max_tokens")
	if err != nil {
		return err
	}
	c.InitMaxTokens(n)
	msg := conv.Message{Role: conv.RoleUser}
	if pj.Present(prompt) {
		if err := textInput(&msg, prompt, "prompt"); err != nil {
			return err
		}
	}
	if pj.Present(suffix) {
		if _, err := pj.Str(suffix, "", "suffix"); err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(suffix.Str, conv.SourceUser, "suffix"))
	}
	c.Messages = []conv.Message{msg}
	return nil
}

func parseEmbedding(root gjson.Result, c *conv.Conversation) error {
	var f [2]gjson.Result
	if err := pj.Fields(root, "", embeddingFields, f[:]); err != nil {
		return err
	}
	var err error
	if c.Model, err = pj.Str(f[0], "", "model"); err != nil {
		return err
	}
	if !pj.Present(f[1]) {
		return pj.Errorf("missing_field", "input", "input is required")
	}
	msg := conv.Message{Role: conv.RoleUser}
	if err := textInput(&msg, f[1], "input"); err != nil {
		return err
	}
	c.Messages = []conv.Message{msg}
	return nil
}

// textInput reads a prompt/input value: a string, an array of strings, an
// array of token ids or an array of token-id arrays. Strings become user
// segments; token inputs carry no text and are counted in Parts["tokens"] so
// that policy can refuse them.
func textInput(msg *conv.Message, v gjson.Result, param string) error {
	if v.Type == gjson.String {
		msg.Segments = append(msg.Segments, conv.NewSegment(v.Str, conv.SourceUser, param))
		return nil
	}
	if !v.IsArray() {
		return pj.Errorf("invalid_type", param, "%s must be a string or an array of strings or tokens", param)
	}
	var kind gjson.Type = -1
	err := pj.Each(v, param, func(i int, e gjson.Result) error {
		t := e.Type
		switch {
		case e.IsArray():
			t = gjson.JSON
			if err := pj.Each(e, pj.Path(param, i), func(j int, tok gjson.Result) error {
				return token(tok, param, i, j)
			}); err != nil {
				return err
			}
		case t == gjson.Number:
			if err := token(e, param, i, -1); err != nil {
				return err
			}
		case t != gjson.String:
			p := pj.Path(param, i)
			return pj.Errorf("invalid_type", p, "%s must be a string, a token id or a token array", p)
		}
		if kind != -1 && t != kind {
			return pj.Errorf("invalid_type", param, "%s mixes strings and tokens", param)
		}
		kind = t
		if t == gjson.String {
			msg.Segments = append(msg.Segments, conv.NewSegment(e.Str, conv.SourceUser, pj.Path(param, i)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if kind == gjson.Number || kind == gjson.JSON {
		msg.Parts = map[string]int{"tokens": 1}
	}
	return nil
}

// token checks one token id at param.i (or param.i.j when j >= 0).
func token(v gjson.Result, param string, i, j int) error {
	if v.Type == gjson.Number && v.Num >= 0 && v.Num <= math.MaxInt32 && v.Num == math.Trunc(v.Num) {
		return nil
	}
	p := pj.Path(param, i)
	if j >= 0 {
		p = pj.Path(param, i, j)
	}
	return pj.Errorf("invalid_value", p, "%s must be a token id (a non-negative integer)", p)
}

// EncodeRequest writes changed segments and a changed max_tokens back, asks
// the upstream for stream usage when a layer wants it (WantUsage) and the
// client did not, and removes every x_rampart_source marker (which the
// upstream API would reject).
func (adapter) EncodeRequest(body []byte, c *conv.Conversation) ([]byte, error) {
	w := pj.Writer{Body: body}
	if c.Kind == conv.KindChat || c.Kind == conv.KindCompletion || c.Kind == conv.KindResponses {
		if err := writeMaxTokens(&w, c); err != nil {
			return nil, err
		}
		if c.Stream && c.WantUsage && !c.IncludeUsage {
			if err := askUsage(&w); err != nil {
				return nil, err
			}
		}
	}
	if err := w.WriteSegments(c.System); err != nil {
		return nil, err
	}
	for i := range c.Messages {
		if err := w.WriteSegments(c.Messages[i].Segments); err != nil {
			return nil, err
		}
	}
	// The pre-check looks for the key without its opening quote: with the
	// quote, bytes.Index meets many '"' early in a JSON body and switches
	// to a brute-force search over the whole body (0.1 ms for 128 KB);
	// 'x' is rare in text, so the search stays on IndexByte.
	if c.Kind == conv.KindChat && bytes.Contains(body, []byte(sourceKey)) {
		if err := stripMarkers(&w); err != nil {
			return nil, err
		}
	}
	return w.Body, nil
}

// stripMarkers deletes messages.N.content.M.x_rampart_source wherever present.
func stripMarkers(w *pj.Writer) error {
	var paths []string
	gjson.GetBytes(w.Body, "messages").ForEach(func(mi, m gjson.Result) bool {
		m.Get("content").ForEach(func(pi, p gjson.Result) bool {
			if p.IsObject() && p.Get(sourceKey).Exists() {
				paths = append(paths, pj.Path("messages", int(mi.Num), "content", int(pi.Num), sourceKey))
			}
			return true
		})
		return true
	})
	for _, p := range paths {
		if err := w.Delete(p); err != nil {
			return err
		}
	}
	return nil
}

// writeMaxTokens writes a MaxTokens a layer changed into every output-cap
// field the request has (a chat request may carry both max_tokens and
// max_completion_tokens), or, when it has none, into max_completion_tokens
// (chat; OpenAI's current name, the only one its reasoning models accept)
// or max_tokens (completions).
func writeMaxTokens(w *pj.Writer, c *conv.Conversation) error {
	if !c.MaxTokensChanged() {
		return nil
	}
	if c.MaxTokens <= 0 {
		return fmt.Errorf("max_tokens changed to %d: a layer may lower or set the cap, not remove it", c.MaxTokens)
	}
	fields := [2]string{"max_tokens", ""}
	switch c.Kind {
	case conv.KindChat:
		fields = [2]string{"max_completion_tokens", "max_tokens"}
	case conv.KindResponses:
		fields = [2]string{"max_output_tokens", ""}
	}
	wrote := false
	for _, f := range fields {
		if f != "" && gjson.GetBytes(w.Body, f).Exists() {
			if err := w.SetInt(f, c.MaxTokens); err != nil {
				return err
			}
			wrote = true
		}
	}
	if wrote {
		return nil
	}
	return w.SetInt(fields[0], c.MaxTokens)
}

// askUsage sets stream_options.include_usage to true, keeping any other
// stream options.
func askUsage(w *pj.Writer) error {
	if gjson.GetBytes(w.Body, "stream_options").IsObject() {
		return w.SetRaw("stream_options.include_usage", []byte("true"))
	}
	return w.SetRaw("stream_options", []byte(`{"include_usage":true}`))
}
