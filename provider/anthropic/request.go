package anthropic

import (
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	requestFields  = []string{"model", "messages", "system", "max_tokens", "stream", "tools", "mcp_servers"}
	messageFields  = []string{"role", "content"}
	blockFields    = []string{"type", "text", "source", "context", "id", "name", "input", "tool_use_id", "content", "title"}
	sourceFields   = []string{"type", "data", "content"}
	systemBlkField = []string{"type", "text"}
)

// Block field positions in blockFields.
const (
	bType = iota
	bText
	bSource
	bContext
	bID
	bName
	bInput
	bToolUseID
	bContent
	bTitle
)

// knownBlocks are the block types the adapter knows without reading text
// from them: image (no text), thinking and redacted_thinking (the model's
// own earlier reasoning, signed by Anthropic, so a client cannot forge it),
// and the results of Anthropic's server tools (their text is encrypted by
// Anthropic). Other types are Unknown.
var knownBlocks = map[string]bool{
	"image": true, "thinking": true, "redacted_thinking": true,
	"web_search_tool_result": true, "web_fetch_tool_result": true, "code_execution_tool_result": true,
}

func (adapter) ParseRequest(body []byte, kind conv.Kind) (*conv.Conversation, error) {
	c := &conv.Conversation{Kind: kind, Provider: "anthropic"}
	switch kind {
	case conv.KindModels:
		return c, nil
	case conv.KindCountTokens:
		if err := pj.ModelOnly(body, c); err != nil {
			return nil, err
		}
		return c, nil
	case conv.KindChat:
	default:
		return nil, unsupported(kind)
	}
	root, err := pj.Parse(body)
	if err != nil {
		return nil, err
	}
	if err := parseMessages(root, c); err != nil {
		return nil, err
	}
	return c, nil
}

func parseMessages(root gjson.Result, c *conv.Conversation) error {
	var f [7]gjson.Result
	if err := pj.Fields(root, "", requestFields, f[:]); err != nil {
		return err
	}
	if pj.Present(f[6]) {
		// Anthropic fetches these servers' tool definitions and results
		// itself: none of that text passes the gateway.
		c.Unknown = append(c.Unknown, conv.UnknownPart{Type: "mcp_servers", Path: "mcp_servers"})
	}
	model, messages, system, maxTok, stream, tools := f[0], f[1], f[2], f[3], f[4], f[5]
	var err error
	if c.Model, err = pj.Str(model, "", "model"); err != nil {
		return err
	}
	if !pj.Present(maxTok) {
		return pj.Errorf("missing_field", "max_tokens", "max_tokens is required")
	}
	n, err := pj.OptInt(maxTok, "", "max_tokens")
	if err != nil {
		return err
	}
	c.InitMaxTokens(n)
	if c.Stream, err = pj.OptBool(stream, "", "stream"); err != nil {
		return err
	}
	c.IncludeUsage = c.Stream // Anthropic streams always report usage
	if err := parseSystem(system, c); err != nil {
		return err
	}
	if !messages.Exists() {
		return pj.Errorf("missing_field", "messages", "messages is required")
	}
	if err := pj.Each(messages, "messages", func(i int, m gjson.Result) error {
		return parseMessage(i, m, c)
	}); err != nil {
		return err
	}
	if pj.Present(tools) {
		return pj.Each(tools, "tools", func(i int, t gjson.Result) error {
			tool, err := pj.ToolDef(t, pj.Path("tools", i), "input_schema")
			if err == nil {
				c.Tools = append(c.Tools, tool)
				if text := pj.Text(t); text != "" {
					c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceToolDef, pj.Path("tools", i)))
				}
			}
			return err
		})
	}
	return nil
}

func parseSystem(v gjson.Result, c *conv.Conversation) error {
	switch {
	case !pj.Present(v):
		return nil
	case v.Type == gjson.String:
		c.System = []conv.Segment{conv.NewSegment(v.Str, conv.SourceSystem, "system")}
		return nil
	case v.IsArray():
		return textBlocks(v, "system", func(text, path string) {
			c.System = append(c.System, conv.NewSegment(text, conv.SourceSystem, path))
		})
	}
	return pj.Errorf("invalid_type", "system", "system must be a string or an array of text blocks")
}

// parseMessage appends the conversation messages for messages[i]. Each
// tool_result block becomes its own conv.Message (Role tool, ToolCallID set,
// SourceTool segments), placed before the message holding the remaining
// content of that user turn; so conv indexes need not match JSON indexes
// (segment paths always point at the JSON).
func parseMessage(i int, m gjson.Result, c *conv.Conversation) error {
	param := pj.Path("messages", i)
	var f [2]gjson.Result
	if err := pj.Fields(m, param, messageFields, f[:]); err != nil {
		return err
	}
	role, err := pj.Str(f[0], param, "role")
	if err != nil {
		return err
	}
	var src conv.Source
	switch role {
	case "user":
		src = conv.SourceUser
	case "assistant":
		src = conv.SourceAssistant
	default:
		return pj.Errorf("invalid_value", param+".role", "%s.role %q must be user or assistant", param, role)
	}
	msg := conv.Message{Role: conv.Role(role)}
	content := f[1]
	switch {
	case content.Type == gjson.String:
		msg.Segments = []conv.Segment{conv.NewSegment(content.Str, src, param+".content")}
	case content.IsArray():
		before := len(c.Messages)
		if err := pj.Each(content, param+".content", func(j int, b gjson.Result) error {
			return parseBlock(&msg, src, pj.Path("messages", i, "content", j), b, c)
		}); err != nil {
			return err
		}
		if len(c.Messages) > before && len(msg.Segments) == 0 && len(msg.ToolCalls) == 0 && len(msg.Parts) == 0 {
			return nil // only tool results, each already appended
		}
	case !content.Exists():
		return pj.Errorf("missing_field", param+".content", "%s.content is required", param)
	default:
		return pj.Errorf("invalid_type", param+".content", "%s.content must be a string or an array of content blocks", param)
	}
	c.Messages = append(c.Messages, msg)
	return nil
}

func countPart(msg *conv.Message, typ string) {
	if msg.Parts == nil {
		msg.Parts = make(map[string]int, 1)
	}
	msg.Parts[typ]++
}

func parseBlock(msg *conv.Message, src conv.Source, path string, b gjson.Result, c *conv.Conversation) error {
	var f [10]gjson.Result
	if err := pj.Fields(b, path, blockFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.Str(f[bType], path, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "text":
		text, err := pj.Str(f[bText], path, "text")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, src, path+".text"))
	case "document":
		return parseDocument(msg, path, f[bSource], f[bContext], f[bTitle], c)
	case "search_result":
		return parseSearchResult(msg, path, f[bSource], f[bTitle], f[bContent], c)
	case "tool_use", "server_tool_use":
		call, err := parseToolUse(path, f[bID], f[bName], f[bInput])
		if err != nil {
			return err
		}
		msg.ToolCalls = append(msg.ToolCalls, call)
	case "tool_result":
		tr := conv.Message{Role: conv.RoleTool}
		if tr.ToolCallID, err = pj.Str(f[bToolUseID], path, "tool_use_id"); err != nil {
			return err
		}
		if err := parseToolResult(&tr, path, f[bContent], c); err != nil {
			return err
		}
		c.Messages = append(c.Messages, tr)
	default:
		countPart(msg, typ)
		if !knownBlocks[typ] {
			c.Unknown = append(c.Unknown, conv.UnknownPart{Type: typ, Path: path})
		}
	}
	return nil
}

// parseSearchResult reads a search_result block: its text content blocks
// become SourceDocument segments, its title and source read-only ones.
func parseSearchResult(msg *conv.Message, path string, source, title, content gjson.Result, c *conv.Conversation) error {
	for _, v := range [...]struct {
		key string
		v   gjson.Result
	}{{"source", source}, {"title", title}} {
		text, err := pj.OptStr(v.v, path, v.key)
		if err != nil {
			return err
		}
		if text != "" {
			c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceDocument, path+"."+v.key))
		}
	}
	cpath := path + ".content"
	if !pj.Present(content) {
		return pj.Errorf("missing_field", cpath, "%s is required", cpath)
	}
	return textBlocks(content, cpath, func(text, path string) {
		msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceDocument, path))
	})
}

// textBlocks calls add with the text and path of each block of an array
// of text blocks ({"type":"text","text":...}) at param; another block type
// is an error.
func textBlocks(arr gjson.Result, param string, add func(text, path string)) error {
	return pj.Each(arr, param, func(k int, b gjson.Result) error {
		bpath := pj.Path(param, k)
		var g [2]gjson.Result
		if err := pj.Fields(b, bpath, systemBlkField, g[:]); err != nil {
			return err
		}
		bt, err := pj.Str(g[0], bpath, "type")
		if err != nil {
			return err
		}
		if bt != "text" {
			return pj.Errorf("invalid_value", bpath+".type", "%s.type must be \"text\"", bpath)
		}
		text, err := pj.Str(g[1], bpath, "text")
		if err != nil {
			return err
		}
		add(text, bpath+".text")
		return nil
	})
}

func parseToolResult(tr *conv.Message, path string, content gjson.Result, c *conv.Conversation) error {
	cpath := path + ".content"
	switch {
	case !pj.Present(content):
		return nil
	case content.Type == gjson.String:
		tr.Segments = []conv.Segment{conv.NewSegment(content.Str, conv.SourceTool, cpath)}
		return nil
	case content.IsArray():
		return pj.Each(content, cpath, func(k int, b gjson.Result) error {
			bpath := pj.Path(cpath, k)
			var g [10]gjson.Result
			if err := pj.Fields(b, bpath, blockFields, g[:]); err != nil {
				return err
			}
			typ, err := pj.Str(g[0], bpath, "type")
			if err != nil {
				return err
			}
			switch typ {
			case "text":
				text, err := pj.Str(g[1], bpath, "text")
				if err != nil {
					return err
				}
				tr.Segments = append(tr.Segments, conv.NewSegment(text, conv.SourceTool, bpath+".text"))
			case "document":
				return parseDocument(tr, bpath, g[bSource], g[bContext], g[bTitle], c)
			case "search_result":
				return parseSearchResult(tr, bpath, g[bSource], g[bTitle], g[bContent], c)
			default:
				countPart(tr, typ)
				if !knownBlocks[typ] {
					c.Unknown = append(c.Unknown, conv.UnknownPart{Type: typ, Path: bpath})
				}
			}
			return nil
		})
	}
	return pj.Errorf("invalid_type", cpath, "%s must be a string or an array of content blocks", cpath)
}

// parseDocument reads a document block. Plain-text sources (source.type
// "text": source.data; "content": a string or text blocks) and the context
// field become SourceDocument segments; other sources (base64 PDF, url,
// file) are counted in Parts["document"].
func parseDocument(msg *conv.Message, path string, source, context, title gjson.Result, c *conv.Conversation) error {
	if pj.Present(title) {
		text, err := pj.Str(title, path, "title")
		if err != nil {
			return err
		}
		c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceDocument, path+".title"))
	}
	if pj.Present(context) {
		text, err := pj.Str(context, path, "context")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceDocument, path+".context"))
	}
	spath := path + ".source"
	if err := pj.Obj(source, path, "source"); err != nil {
		return err
	}
	var s [3]gjson.Result
	if err := pj.Fields(source, spath, sourceFields, s[:]); err != nil {
		return err
	}
	typ, err := pj.Str(s[0], spath, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "text":
		data, err := pj.Str(s[1], spath, "data")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(data, conv.SourceDocument, spath+".data"))
	case "content":
		cpath := spath + ".content"
		if s[2].Type == gjson.String {
			msg.Segments = append(msg.Segments, conv.NewSegment(s[2].Str, conv.SourceDocument, cpath))
			return nil
		}
		return pj.Each(s[2], cpath, func(k int, b gjson.Result) error {
			bpath := pj.Path(cpath, k)
			var g [2]gjson.Result
			if err := pj.Fields(b, bpath, systemBlkField, g[:]); err != nil {
				return err
			}
			bt, err := pj.Str(g[0], bpath, "type")
			if err != nil {
				return err
			}
			if bt != "text" {
				countPart(msg, bt)
				return nil
			}
			text, err := pj.Str(g[1], bpath, "text")
			if err != nil {
				return err
			}
			msg.Segments = append(msg.Segments, conv.NewSegment(text, conv.SourceDocument, bpath+".text"))
			return nil
		})
	case "base64":
		// Anthropic reads PDFs here; a text file sent this way is read
		// too (the declared media type is not trusted).
		data, err := pj.Str(s[1], spath, "data")
		if err != nil {
			return err
		}
		text, ok, err := pj.DataText(data, spath+".data")
		if err != nil {
			return err
		}
		if ok {
			c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceDocument, spath+".data"))
		}
		countPart(msg, "document")
	default:
		countPart(msg, "document")
	}
	return nil
}

// parseToolUse reads a tool_use (or server_tool_use) block's id, name and
// input object, in requests (the history) and in answers alike.
func parseToolUse(path string, id, name, input gjson.Result) (conv.ToolCall, error) {
	call := conv.ToolCall{Path: path}
	var err error
	if call.ID, err = pj.OptStr(id, path, "id"); err != nil {
		return call, err
	}
	if call.Name, err = pj.Str(name, path, "name"); err != nil {
		return call, err
	}
	if pj.Present(input) {
		if !input.IsObject() {
			return call, pj.Errorf("invalid_type", path+".input", "%s.input must be an object", path)
		}
		call.Arguments = input.Raw
	}
	return call, nil
}

// EncodeRequest writes every changed segment and a changed max_tokens back
// in place. (Anthropic streams always carry usage: WantUsage needs nothing.)
func (adapter) EncodeRequest(body []byte, c *conv.Conversation) ([]byte, error) {
	return pj.EncodeConversation(body, c, "max_tokens", "max_tokens")
}
