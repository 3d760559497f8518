package gemini

import (
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

// Request fields rampart reads. Others (safetySettings,
// cachedContent, labels, ...) go upstream as sent; docs/THREAT_MODEL.md
// says what cachedContent hides.
var (
	requestFields = []string{"contents", "systemInstruction", "tools", "generationConfig", "model", "toolConfig"}
	toolCfgFields = []string{"functionCallingConfig"}
	callCfgFields = []string{"mode", "allowedFunctionNames"}
	contentFields = []string{"role", "parts"}
	genFields     = []string{"maxOutputTokens", "responseSchema", "responseJsonSchema", "responseMimeType", "candidateCount"}
	toolFields    = []string{"functionDeclarations"}
	declFields    = []string{"name", "description"}
	callFields    = []string{"id", "name", "args"}
	respFields    = []string{"id", "name", "response", "parts"}
	blobFields    = []string{"mimeType", "data"}
	fileFields    = []string{"mimeType", "fileUri", "displayName"}
	codeFields    = []string{"code"}
	resultFields  = []string{"output"}
)

// partFields are the members of a Part. The first ones (up to
// partMetadata) are data fields, of which a part holds one; the others
// qualify it. A member not listed here is a part type rampart does not know
// (conv.Unknown: refused unless allowed by name).
var partFields = []string{
	"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult",
	"thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution",
}

// Part field positions in partFields.
const (
	pText = iota
	pInline
	pFile
	pCall
	pResp
	pCode
	pResult
	nData // data fields end here
)

// knownTools are Gemini's built-in tools: Google runs them, the gateway
// sees only what the model makes of their results (the answer text).
var knownTools = map[string]bool{
	"functionDeclarations": true, "googleSearch": true, "googleSearchRetrieval": true, "codeExecution": true,
	"urlContext": true, "fileSearch": true, "computerUse": true, "retrieval": true, "googleMaps": true,
	"enterpriseWebSearch": true,
}

// ParseRequest reads a generateContent body. The model and whether the call
// streams are in the path: the gateway sets them (Conversation.Model,
// Stream) after parsing.
func (adapter) ParseRequest(body []byte, kind conv.Kind) (*conv.Conversation, error) {
	c := &conv.Conversation{Kind: kind, Provider: "gemini"}
	switch kind {
	case conv.KindModels:
		return c, nil
	case conv.KindGenerateContent:
	default:
		return nil, unsupported(kind)
	}
	root, err := pj.Parse(body)
	if err != nil {
		return nil, err
	}
	var f [6]gjson.Result
	if err := fields(root, "", requestFields, f[:]); err != nil {
		return nil, err
	}
	contents, system, tools, gen, model := f[0], f[1], f[2], f[3], f[4]
	// The SDKs leave "model" out of the body; when present it must be a
	// string (the path's model is the one routed and checked).
	if _, err := pj.OptStr(model, "", "model"); err != nil {
		return nil, err
	}
	c.IncludeUsage = true // every chunk carries usageMetadata
	if pj.Present(gen) {
		if err := parseGenConfig(gen, c); err != nil {
			return nil, err
		}
	}
	if pj.Present(system) {
		if err := parseSystem(system, c); err != nil {
			return nil, err
		}
	}
	if !pj.Present(contents) {
		return nil, pj.Errorf("missing_field", "contents", "contents is required")
	}
	if err := pj.Each(contents, "contents", func(i int, v gjson.Result) error {
		return parseContent(i, v, c)
	}); err != nil {
		return nil, err
	}
	if pj.Present(tools) {
		if err := pj.Each(tools, "tools", func(i int, t gjson.Result) error {
			return parseTool(i, t, c)
		}); err != nil {
			return nil, err
		}
	}
	if pj.Present(f[5]) {
		if err := parseToolConfig(f[5], c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseToolConfig checks toolConfig.functionCallingConfig: every name in
// allowedFunctionNames must be a function the request declares (the model
// reads the list; a name that is not a declared function is text nothing
// scanned, so it is refused with 400 rather than passed).
func parseToolConfig(v gjson.Result, c *conv.Conversation) error {
	const param = "toolConfig"
	var f [1]gjson.Result
	if err := fields(v, param, toolCfgFields, f[:]); err != nil {
		return err
	}
	if !pj.Present(f[0]) {
		return nil
	}
	fp := param + ".functionCallingConfig"
	var g [2]gjson.Result
	if err := fields(f[0], fp, callCfgFields, g[:]); err != nil {
		return err
	}
	if _, err := pj.OptStr(g[0], fp, "mode"); err != nil {
		return err
	}
	if !pj.Present(g[1]) {
		return nil
	}
	return pj.Each(g[1], fp+".allowedFunctionNames", func(i int, n gjson.Result) error {
		np := pj.Path(fp+".allowedFunctionNames", i)
		if n.Type != gjson.String {
			return pj.Errorf("invalid_type", np, "%s must be a string", np)
		}
		if !slices.ContainsFunc(c.Tools, func(t conv.Tool) bool { return t.Name == n.Str }) {
			return pj.Errorf("invalid_value", np, "%s names no function declared in tools", np)
		}
		return nil
	})
}

func parseGenConfig(gen gjson.Result, c *conv.Conversation) error {
	var g [5]gjson.Result
	if err := fields(gen, "generationConfig", genFields, g[:]); err != nil {
		return err
	}
	n, err := pj.OptInt(g[0], "generationConfig", "maxOutputTokens")
	if err != nil {
		return err
	}
	if c.Answers, err = pj.OptInt(g[4], "generationConfig", "candidateCount"); err != nil {
		return err
	}
	c.InitMaxTokens(n)
	// A response schema is read by the model like a tool definition.
	for i, key := range []string{"responseSchema", "responseJsonSchema"} {
		if v := g[1+i]; pj.Present(v) {
			if text := pj.Text(v); text != "" {
				c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceToolDef, "generationConfig."+key))
			}
		}
	}
	return nil
}

// parseSystem reads systemInstruction: a Content whose text parts are the
// system prompt. A string is accepted too (the REST API takes it).
func parseSystem(v gjson.Result, c *conv.Conversation) error {
	const param = "systemInstruction"
	if v.Type == gjson.String {
		c.System = append(c.System, conv.NewSegment(v.Str, conv.SourceSystem, param))
		return nil
	}
	var f [2]gjson.Result
	if err := fields(v, param, contentFields, f[:]); err != nil {
		return err
	}
	if _, err := pj.OptStr(f[0], param, "role"); err != nil {
		return err
	}
	if !pj.Present(f[1]) {
		return nil
	}
	return pj.Each(f[1], param+".parts", func(j int, p gjson.Result) error {
		path := pj.Path(param, "parts", j)
		var pf [12]gjson.Result
		if err := fields(p, path, partFields, pf[:]); err != nil {
			return err
		}
		if err := checkKnown(p, path, c); err != nil {
			return err
		}
		for k := pText + 1; k < nData; k++ {
			if pj.Present(pf[k]) {
				return pj.Errorf("invalid_value", path, "%s: a system instruction holds text parts only", path)
			}
		}
		text, err := pj.Str(pf[pText], path, "text")
		if err != nil {
			return err
		}
		c.System = append(c.System, conv.NewSegment(text, conv.SourceSystem, path+".text"))
		return nil
	})
}

// parseContent reads contents[i]. Each functionResponse part becomes its
// own conv.Message (Role tool, SourceTool segments), placed before the
// message holding the rest of that turn, which is omitted when nothing
// else is in it; segment paths always point into the JSON.
func parseContent(i int, v gjson.Result, c *conv.Conversation) error {
	param := pj.Path("contents", i)
	var f [2]gjson.Result
	if err := fields(v, param, contentFields, f[:]); err != nil {
		return err
	}
	role, err := pj.OptStr(f[0], param, "role")
	if err != nil {
		return err
	}
	var src conv.Source
	msg := conv.Message{}
	switch role {
	case "", "user":
		msg.Role, src = conv.RoleUser, conv.SourceUser
	case "model":
		msg.Role, src = conv.RoleAssistant, conv.SourceAssistant
	case "function", "tool":
		// Older clients send function responses under role "function".
		msg.Role, src = conv.RoleTool, conv.SourceTool
	default:
		return pj.Errorf("invalid_value", param+".role", "%s.role %q must be user or model", param, role)
	}
	if !pj.Present(f[1]) {
		return pj.Errorf("missing_field", param+".parts", "%s.parts is required", param)
	}
	before := len(c.Messages)
	if err := pj.Each(f[1], param+".parts", func(j int, p gjson.Result) error {
		return parsePart(&msg, src, pj.Path("contents", i, "parts", j), p, c)
	}); err != nil {
		return err
	}
	if len(c.Messages) > before && len(msg.Segments) == 0 && len(msg.ToolCalls) == 0 && len(msg.Parts) == 0 {
		return nil // only function responses, each already appended
	}
	c.Messages = append(c.Messages, msg)
	return nil
}

// checkKnown puts every member of part p that rampart does not know into
// c.Unknown.
func checkKnown(p gjson.Result, path string, c *conv.Conversation) error {
	p.ForEach(func(k, _ gjson.Result) bool {
		for _, n := range partFields {
			if k.Str == n {
				return true
			}
		}
		c.Unknown = append(c.Unknown, conv.UnknownPart{Type: k.Str, Path: path})
		return true
	})
	return nil
}

func countPart(msg *conv.Message, typ string) {
	if msg.Parts == nil {
		msg.Parts = make(map[string]int, 1)
	}
	msg.Parts[typ]++
}

func parsePart(msg *conv.Message, src conv.Source, path string, p gjson.Result, c *conv.Conversation) error {
	var f [12]gjson.Result
	if err := fields(p, path, partFields, f[:]); err != nil {
		return err
	}
	if err := checkKnown(p, path, c); err != nil {
		return err
	}
	data := -1
	for k := 0; k < nData; k++ {
		if pj.Present(f[k]) {
			if data >= 0 {
				return pj.Errorf("invalid_value", path, "%s holds both %s and %s: a part holds one kind of data", path, partFields[data], partFields[k])
			}
			data = k
		}
	}
	if _, err := pj.OptBool(f[nData], path, "thought"); err != nil {
		return err
	}
	switch data {
	case pText:
		text, err := pj.Str(f[pText], path, "text")
		if err != nil {
			return err
		}
		msg.Segments = append(msg.Segments, conv.NewSegment(text, src, path+".text"))
	case pInline:
		return parseBlob(msg, path+".inlineData", f[pInline], c)
	case pFile:
		// A file Google fetches (Files API or a URI): its content does
		// not pass the gateway; policy allows or refuses it by type.
		if err := pj.Obj(f[pFile], path, "fileData"); err != nil {
			return err
		}
		countPart(msg, "file_data")
	case pCall:
		return parseCall(msg, path, f[pCall])
	case pResp:
		return parseFuncResponse(path, f[pResp], c)
	case pCode:
		// Code the model wrote in an earlier turn: text in the role's
		// source (a client can forge history, as with any assistant text).
		var g [1]gjson.Result
		cp := path + ".executableCode"
		if err := fields(f[pCode], cp, codeFields, g[:]); err != nil {
			return err
		}
		code, err := pj.OptStr(g[0], cp, "code")
		if err != nil {
			return err
		}
		if code != "" {
			msg.Segments = append(msg.Segments, conv.NewSegment(code, src, cp+".code"))
		}
	case pResult:
		// Output of Google's code sandbox: tool output, untrusted.
		var g [1]gjson.Result
		rp := path + ".codeExecutionResult"
		if err := fields(f[pResult], rp, resultFields, g[:]); err != nil {
			return err
		}
		out, err := pj.OptStr(g[0], rp, "output")
		if err != nil {
			return err
		}
		if out != "" {
			c.Messages = append(c.Messages, conv.Message{Role: conv.RoleTool,
				Segments: []conv.Segment{conv.NewSegment(out, conv.SourceTool, rp+".output")}})
		}
	default:
		// No data field: a part holding only metadata (a thought
		// signature) or only members rampart does not know (already in
		// Unknown).
	}
	return nil
}

// parseBlob reads inlineData: text (whatever mimeType claims) is decoded and
// read as a document; other data is counted by kind.
func parseBlob(msg *conv.Message, path string, v gjson.Result, c *conv.Conversation) error {
	text, ok, err := blobText(msg, path, v, fields)
	if err != nil {
		return err
	}
	if ok {
		c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceDocument, path+".data"))
		countPart(msg, "file")
	}
	return nil
}

// blobText reads an inlineData object (its members with fieldsOf): bytes
// that are text, whatever mimeType claims, are returned decoded (ok);
// other data is counted by kind (image, audio, video, else file).
func blobText(msg *conv.Message, path string, v gjson.Result, fieldsOf func(gjson.Result, string, []string, []gjson.Result) error) (string, bool, error) {
	var g [2]gjson.Result
	if err := fieldsOf(v, path, blobFields, g[:]); err != nil {
		return "", false, err
	}
	mime, err := pj.OptStr(g[0], path, "mimeType")
	if err != nil {
		return "", false, err
	}
	data, err := pj.Str(g[1], path, "data")
	if err != nil {
		return "", false, err
	}
	text, ok, err := pj.DataTextTyped(data, mime, path+".data")
	if err != nil || ok {
		return text, ok, err
	}
	kind, _, _ := strings.Cut(mime, "/")
	switch kind {
	case "image", "audio", "video":
		countPart(msg, kind)
	default:
		countPart(msg, "file")
	}
	return "", false, nil
}

func parseCall(msg *conv.Message, path string, v gjson.Result) error {
	cp := path + ".functionCall"
	var g [3]gjson.Result
	if err := fields(v, cp, callFields, g[:]); err != nil {
		return err
	}
	call := conv.ToolCall{Path: cp}
	var err error
	if call.ID, err = pj.OptStr(g[0], cp, "id"); err != nil {
		return err
	}
	if call.Name, err = pj.Str(g[1], cp, "name"); err != nil {
		return err
	}
	if pj.Present(g[2]) {
		if !g[2].IsObject() {
			return pj.Errorf("invalid_type", cp+".args", "%s.args must be an object", cp)
		}
		call.Arguments = g[2].Raw
	}
	msg.ToolCalls = append(msg.ToolCalls, call)
	return nil
}

// parseFuncResponse makes a functionResponse its own tool message: every
// string in its response object is tool output (SourceTool). Strings under
// member names a JSON path cannot address plainly are read-only (inspected,
// not rewritten); multimodal parts are counted.
func parseFuncResponse(path string, v gjson.Result, c *conv.Conversation) error {
	rp := path + ".functionResponse"
	var g [4]gjson.Result
	if err := fields(v, rp, respFields, g[:]); err != nil {
		return err
	}
	tr := conv.Message{Role: conv.RoleTool}
	id, err := pj.OptStr(g[0], rp, "id")
	if err != nil {
		return err
	}
	name, err := pj.Str(g[1], rp, "name")
	if err != nil {
		return err
	}
	tr.ToolCallID, tr.Name = id, name
	if tr.ToolCallID == "" {
		tr.ToolCallID = name // Gemini pairs calls and responses by name when there is no id
	}
	if pj.Present(g[2]) {
		if !g[2].IsObject() {
			return pj.Errorf("invalid_type", rp+".response", "%s.response must be an object", rp)
		}
		walkStrings(g[2], rp+".response", true, func(text, p string, writable bool) {
			if writable {
				tr.Segments = append(tr.Segments, conv.NewSegment(text, conv.SourceTool, p))
			} else {
				c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceTool, p))
			}
		})
	}
	if pj.Present(g[3]) {
		if err := pj.Each(g[3], rp+".parts", func(k int, p gjson.Result) error {
			pp := pj.Path(rp, "parts", k)
			var pf [12]gjson.Result
			if err := fields(p, pp, partFields, pf[:]); err != nil {
				return err
			}
			if err := checkKnown(p, pp, c); err != nil {
				return err
			}
			switch {
			case pj.Present(pf[pInline]):
				return parseBlob(&tr, pp+".inlineData", pf[pInline], c)
			case pj.Present(pf[pFile]):
				countPart(&tr, "file_data")
			case pj.Present(pf[pText]):
				text, err := pj.Str(pf[pText], pp, "text")
				if err != nil {
					return err
				}
				tr.Segments = append(tr.Segments, conv.NewSegment(text, conv.SourceTool, pp+".text"))
			}
			return nil
		}); err != nil {
			return err
		}
	}
	c.Messages = append(c.Messages, tr)
	return nil
}

// walkStrings calls fn for every string inside v (member names that are
// not plain path keys included, as read-only text), with its gjson path.
// writable is false below a member name that needs escaping in a path.
func walkStrings(v gjson.Result, path string, writable bool, fn func(text, path string, writable bool)) {
	switch {
	case v.Type == gjson.String:
		if v.Str != "" {
			fn(v.Str, path, writable)
		}
	case v.IsObject():
		v.ForEach(func(k, e gjson.Result) bool {
			plain := plainKey(k)
			if !plain && k.Str != "" {
				fn(k.Str, path, false) // the name itself is text the model reads
			}
			walkStrings(e, path+"."+k.Str, writable && plain, fn)
			return true
		})
	case v.IsArray():
		i := 0
		v.ForEach(func(_, e gjson.Result) bool {
			walkStrings(e, pj.Path(path, i), writable, fn)
			i++
			return true
		})
	}
}

// plainKey reports whether member name k can be used in a gjson/sjson path
// as is: letters, digits, '_' and '-', not starting with a digit, spelled
// without escapes.
func plainKey(k gjson.Result) bool {
	s := k.Str
	if s == "" || strings.IndexByte(k.Raw, '\\') >= 0 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// parseTool reads tools[i]: function declarations are declared tools whose
// text is read-only tool-definition text; built-in tools pass; another
// member is a tool type rampart does not know (conv.Unknown).
func parseTool(i int, t gjson.Result, c *conv.Conversation) error {
	path := pj.Path("tools", i)
	var f [1]gjson.Result
	if err := fields(t, path, toolFields, f[:]); err != nil {
		return err
	}
	t.ForEach(func(k, _ gjson.Result) bool {
		if !knownTools[k.Str] {
			c.Unknown = append(c.Unknown, conv.UnknownPart{Type: "tool:" + k.Str, Path: path})
		}
		return true
	})
	if !pj.Present(f[0]) {
		return nil
	}
	return pj.Each(f[0], path+".functionDeclarations", func(j int, d gjson.Result) error {
		dp := pj.Path(path, "functionDeclarations", j)
		var g [2]gjson.Result
		if err := fields(d, dp, declFields, g[:]); err != nil {
			return err
		}
		var tool conv.Tool
		var err error
		if tool.Name, err = pj.Str(g[0], dp, "name"); err != nil {
			return err
		}
		if tool.Description, err = pj.OptStr(g[1], dp, "description"); err != nil {
			return err
		}
		for _, key := range []string{"parametersJsonSchema", "parameters"} {
			if p := d.Get(key); p.IsObject() {
				tool.Parameters = []byte(p.Raw)
				break
			}
		}
		c.Tools = append(c.Tools, tool)
		if text := pj.Text(d); text != "" {
			c.ReadOnly = append(c.ReadOnly, conv.NewSegment(text, conv.SourceToolDef, dp))
		}
		return nil
	})
}

// EncodeRequest writes every changed segment and a changed
// maxOutputTokens back in place. (Every Gemini stream chunk carries usage:
// WantUsage needs nothing.)
func (adapter) EncodeRequest(body []byte, c *conv.Conversation) ([]byte, error) {
	return pj.EncodeConversation(body, c, "generationConfig.maxOutputTokens", "maxOutputTokens")
}

// fields is pj.Fields for request objects, refusing a member spelled with
// the protobuf field name (snake_case) of a field rampart reads: Google's
// JSON parser takes "system_instruction" for "systemInstruction" (its REST
// examples use that spelling), so a field rampart skipped by that name
// would reach the model unscanned, or lift a cap (max_output_tokens).
func fields(obj gjson.Result, param string, names []string, out []gjson.Result) error {
	if err := pj.Fields(obj, param, names, out); err != nil {
		return err
	}
	var err error
	obj.ForEach(func(k, _ gjson.Result) bool {
		if strings.IndexByte(k.Str, '_') < 0 {
			return true
		}
		camel := lowerCamel(k.Str)
		for _, n := range names {
			if camel == n {
				at := n
				if param != "" {
					at = param + "." + n
				}
				err = pj.Errorf("invalid_key", at,
					"field %q: send it as %q (rampart reads Gemini requests in lowerCamelCase)", k.Str, n)
				return false
			}
		}
		return true
	})
	return err
}

// lowerCamel is the JSON name protobuf gives field name s: each '_' is
// dropped and the letter after it upper-cased.
func lowerCamel(s string) string {
	b := make([]byte, 0, len(s))
	up := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b = append(b, c)
	}
	return string(b)
}
