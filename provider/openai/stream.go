package openai

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	chunkFields     = []string{"choices", "usage", "error"}
	chunkChoiceFlds = []string{"index", "delta", "text", "finish_reason"}
	deltaFields     = []string{"content", "tool_calls", "function_call", "refusal", "reasoning_content", "reasoning"}
	// deltaChannels are the conv.Delta channels of deltaFields[3:].
	deltaChannels    = [3]string{"refusal", "reasoning", "reasoning"}
	toolDeltaFields  = []string{"index", "id", "function", "custom"}
	doneData         = []byte("[DONE]")
	chatChunkObject  = "chat.completion.chunk"
	completionObject = "text_completion"
)

// ParseStreamEvent reads one chunk ("data: {...}") or the final "[DONE]".
// An upstream {"error":...} event carries no deltas and passes through
// unchanged. Malformed data is a *provider.Error with Status 502.
func (adapter) ParseStreamEvent(name string, data []byte, ev *conv.StreamEvent) error {
	resetEvent(ev, name, data)
	if bytes.Equal(bytes.TrimSpace(data), doneData) {
		ev.Done = true
		return nil
	}
	if isResponsesEvent(name, data) {
		if err := parseRespEvent(name, data, ev); err != nil {
			return pj.Upstream(err)
		}
		return nil
	}
	if err := parseChunk(data, ev); err != nil {
		return pj.Upstream(err)
	}
	return nil
}

func resetEvent(ev *conv.StreamEvent, name string, data []byte) {
	ev.Name, ev.Data = name, data
	ev.Deltas, ev.ToolCalls, ev.Unknown = ev.Deltas[:0], ev.ToolCalls[:0], ev.Unknown[:0]
	ev.FinishReason, ev.Usage = nil, nil
	ev.Done, ev.Synthetic, ev.Drop, ev.EndsText, ev.Reencode = false, false, false, false, false
}

func parseChunk(data []byte, ev *conv.StreamEvent) error {
	root, err := pj.Parse(data)
	if err != nil {
		return err
	}
	var f [3]gjson.Result
	if err := pj.Fields(root, "", chunkFields, f[:]); err != nil {
		return err
	}
	if pj.Present(f[2]) { // upstream error event: nothing to inspect
		return nil
	}
	if ev.Usage, err = parseUsage(f[1], "usage"); err != nil {
		return err
	}
	if !pj.Present(f[0]) {
		return nil
	}
	return pj.Each(f[0], "choices", func(p int, ch gjson.Result) error {
		return parseChunkChoice(p, ch, ev)
	})
}

// choicePaths are the paths of one chunk choice's fields; those of the first
// few choices are built once, so that parsing a chunk does not allocate them.
type choicePaths struct{ choice, text, delta, content string }

var firstChoicePaths = func() (t [8]choicePaths) {
	for p := range t {
		t[p] = newChoicePaths(p)
	}
	return t
}()

func newChoicePaths(p int) choicePaths {
	path := pj.Path("choices", p)
	return choicePaths{choice: path, text: path + ".text", delta: path + ".delta", content: path + ".delta.content"}
}

func pathsOf(p int) choicePaths {
	if p < len(firstChoicePaths) {
		return firstChoicePaths[p]
	}
	return newChoicePaths(p)
}

func parseChunkChoice(p int, ch gjson.Result, ev *conv.StreamEvent) error {
	paths := pathsOf(p)
	path := paths.choice
	var f [4]gjson.Result
	if err := pj.Fields(ch, path, chunkChoiceFlds, f[:]); err != nil {
		return err
	}
	idx := p
	var err error
	if pj.Present(f[0]) {
		if idx, err = pj.OptInt(f[0], path, "index"); err != nil {
			return err
		}
	}
	if pj.Present(f[3]) {
		reason, err := pj.Str(f[3], path, "finish_reason")
		if err != nil {
			return err
		}
		if ev.FinishReason == nil {
			ev.FinishReason = make(map[int]string, 1)
		}
		ev.FinishReason[idx] = reason
	}
	if pj.Present(f[2]) { // legacy completion chunk
		text, err := pj.Str(f[2], path, "text")
		if err != nil {
			return err
		}
		ev.Deltas = append(ev.Deltas, conv.NewDelta(idx, text, paths.text))
	}
	if !pj.Present(f[1]) {
		return nil
	}
	dpath := paths.delta
	var d [6]gjson.Result
	if err := pj.Fields(f[1], dpath, deltaFields, d[:]); err != nil {
		return err
	}
	if pj.Present(d[0]) {
		text, err := pj.Str(d[0], dpath, "content")
		if err != nil {
			return err
		}
		ev.Deltas = append(ev.Deltas, conv.NewDelta(idx, text, paths.content))
	}
	// the other text channels: refusal, and the reasoning of
	// OpenAI-compatible servers
	for k := 3; k < len(d); k++ {
		if !pj.Present(d[k]) {
			continue
		}
		text, err := pj.Str(d[k], dpath, deltaFields[k])
		if err != nil {
			return err
		}
		dl := conv.NewDelta(idx, text, dpath+"."+deltaFields[k])
		dl.Channel = deltaChannels[k-3]
		ev.Deltas = append(ev.Deltas, dl)
	}
	if pj.Present(d[1]) {
		if err := pj.Each(d[1], dpath+".tool_calls", func(j int, tc gjson.Result) error {
			td, err := parseToolDelta(tc, pj.Path("choices", p, "delta", "tool_calls", j), j)
			td.Choice = idx
			ev.ToolCalls = append(ev.ToolCalls, conv.NewToolCallDelta(td))
			return err
		}); err != nil {
			return err
		}
	}
	if pj.Present(d[2]) {
		call, err := parseFunction(d[2], dpath+".function_call")
		if err != nil {
			return err
		}
		td := conv.ToolCallDelta{Choice: idx, Name: call.Name, ArgumentsDelta: call.Arguments}
		if gjson.Get(d[2].Raw, "arguments").Type == gjson.String {
			td.Path = dpath + ".function_call.arguments"
		}
		ev.ToolCalls = append(ev.ToolCalls, conv.NewToolCallDelta(td))
	}
	return nil
}

func parseToolDelta(tc gjson.Result, path string, pos int) (conv.ToolCallDelta, error) {
	var f [4]gjson.Result
	td := conv.ToolCallDelta{Index: pos}
	if err := pj.Fields(tc, path, toolDeltaFields, f[:]); err != nil {
		return td, err
	}
	var err error
	if pj.Present(f[0]) {
		if td.Index, err = pj.OptInt(f[0], path, "index"); err != nil {
			return td, err
		}
	}
	if td.ID, err = pj.OptStr(f[1], path, "id"); err != nil {
		return td, err
	}
	if pj.Present(f[2]) {
		var g [2]gjson.Result
		if err := pj.Fields(f[2], path+".function", functionFields, g[:]); err != nil {
			return td, err
		}
		if td.Name, err = pj.OptStr(g[0], path, "function.name"); err != nil {
			return td, err
		}
		if td.ArgumentsDelta, err = pj.OptStr(g[1], path, "function.arguments"); err != nil {
			return td, err
		}
		if g[1].Type == gjson.String {
			td.Path = path + ".function.arguments"
		}
	}
	if pj.Present(f[3]) { // a custom tool's call: its free-form input
		var g [2]gjson.Result
		if err := pj.Fields(f[3], path+".custom", customCallFields, g[:]); err != nil {
			return td, err
		}
		if td.Name, err = pj.OptStr(g[0], path, "custom.name"); err != nil {
			return td, err
		}
		if td.ArgumentsDelta, err = pj.OptStr(g[1], path, "custom.input"); err != nil {
			return td, err
		}
		if g[1].Type == gjson.String {
			td.Path = path + ".custom.input"
		}
	}
	return td, nil
}

// EncodeStreamEvent returns ev.Data when nothing changed; otherwise it writes
// changed delta texts and removes dropped tool-call deltas. A synthetic event
// is built from scratch (see synthetic).
func (adapter) EncodeStreamEvent(ev *conv.StreamEvent) ([]byte, error) {
	if _, ok := ev.State.(*respStream); ok && len(ev.Data) > 0 {
		return encodeRespEvent(ev)
	}
	if ev.Synthetic || len(ev.Data) == 0 {
		return synthetic(ev)
	}
	if ev.Done || !ev.Changed() {
		return ev.Data, nil
	}
	w := pj.Writer{Body: ev.Data}
	if err := w.WriteDeltas(ev.Deltas); err != nil {
		return nil, err
	}
	for i := range ev.Deltas {
		if ev.Deltas[i].Changed() {
			if err := dropLogprobs(&w, ev.Deltas[i].Path); err != nil {
				return nil, err
			}
		}
	}
	for i := range ev.ToolCalls {
		td := &ev.ToolCalls[i]
		if td.Drop || !td.ArgumentsChanged() {
			continue
		}
		if td.Path == "" {
			return nil, fmt.Errorf("tool-call arguments without a path cannot be rewritten")
		}
		if err := w.SetString(td.Path, "", td.ArgumentsDelta, true); err != nil {
			return nil, err
		}
	}
	if err := dropToolDeltas(&w, ev); err != nil {
		return nil, err
	}
	return w.Body, nil
}

// dropToolDeltas deletes the tool-call deltas marked Drop. It walks the event
// in the order ParseStreamEvent produced ev.ToolCalls; an array left empty is
// removed as a whole.
func dropToolDeltas(w *pj.Writer, ev *conv.StreamEvent) error {
	if !slices.ContainsFunc(ev.ToolCalls, func(td conv.ToolCallDelta) bool { return td.Drop }) {
		return nil // nothing to delete: skip walking the event
	}
	type item struct {
		path, array string // array: the enclosing tool_calls path, "" for function_call
		n           int    // length of that array
	}
	var items []item
	gjson.GetBytes(ev.Data, "choices").ForEach(func(pk, ch gjson.Result) bool {
		p := int(pk.Num)
		arr := ch.Get("delta.tool_calls")
		if arr.IsArray() {
			ap := pj.Path("choices", p, "delta", "tool_calls")
			n := int(arr.Get("#").Int())
			for j := 0; j < n; j++ {
				items = append(items, item{path: pj.Path(ap, j), array: ap, n: n})
			}
		}
		if pj.Present(ch.Get("delta.function_call")) {
			items = append(items, item{path: pj.Path("choices", p, "delta", "function_call")})
		}
		return true
	})
	if len(items) != len(ev.ToolCalls) {
		return fmt.Errorf("event holds %d tool-call deltas, the parsed event %d", len(items), len(ev.ToolCalls))
	}
	dropped := map[string]int{}
	for i, it := range items {
		if ev.ToolCalls[i].Drop && it.array != "" {
			dropped[it.array]++
		}
	}
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if !ev.ToolCalls[i].Drop {
			continue
		}
		path := it.path
		if it.array != "" && dropped[it.array] == it.n {
			if it.path != pj.Path(it.array, 0) {
				continue // the whole array goes once, at its first element
			}
			path = it.array
		}
		if err := w.Delete(path); err != nil {
			return err
		}
	}
	return nil
}

type chatChunk struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint,omitempty"`
	Choices           []chunkEntry `json:"choices"`
}

type chunkEntry struct {
	Index        int         `json:"index"`
	Delta        *chunkDelta `json:"delta,omitempty"`
	Text         *string     `json:"text,omitempty"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type chunkDelta struct {
	Content          *string         `json:"content,omitempty"`
	Refusal          *string         `json:"refusal,omitempty"`
	ReasoningContent *string         `json:"reasoning_content,omitempty"`
	ToolCalls        []chunkToolCall `json:"tool_calls,omitempty"`
	FunctionCall     *chunkFunction  `json:"function_call,omitempty"`
}

// chunkToolCall continues a streamed tool call (its id and name went out
// with its first delta).
type chunkToolCall struct {
	Index    int            `json:"index"`
	Function *chunkFunction `json:"function,omitempty"`
	Custom   *chunkCustom   `json:"custom,omitempty"`
}

type chunkCustom struct {
	Input string `json:"input"`
}

type chunkFunction struct {
	Arguments string `json:"arguments"`
}

// synthetic builds a chunk carrying ev.Deltas (texts of one choice joined, in
// order) and the tool-call arguments of ev.ToolCalls (as continuation
// deltas of their calls, or of the legacy function_call when their Path
// says so). A synthetic event has no upstream data of its own; when the engine
// sets ev.Data to an earlier upstream chunk of the same stream, its id,
// created, model, system_fingerprint and object ("text_completion" makes a
// legacy completion chunk) are copied, which SDK accumulators that check the
// chunk id need. Without it they are empty/0 and the object is
// chat.completion.chunk.
func synthetic(ev *conv.StreamEvent) ([]byte, error) {
	ch := chatChunk{Object: chatChunkObject, Choices: []chunkEntry{}}
	if len(ev.Data) > 0 {
		tmpl, err := pj.Parse(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("synthetic event template: %w", err)
		}
		ch.ID = tmpl.Get("id").String()
		ch.Created = tmpl.Get("created").Int()
		ch.Model = tmpl.Get("model").String()
		ch.SystemFingerprint = tmpl.Get("system_fingerprint").String()
		if tmpl.Get("object").Str == completionObject {
			ch.Object = completionObject
		}
	}
	entry := func(choice int) *chunkEntry {
		k := 0
		for k < len(ch.Choices) && ch.Choices[k].Index != choice {
			k++
		}
		if k == len(ch.Choices) {
			e := chunkEntry{Index: choice}
			if ch.Object == completionObject {
				e.Text = new(string)
			} else {
				e.Delta = &chunkDelta{}
			}
			ch.Choices = append(ch.Choices, e)
		}
		return &ch.Choices[k]
	}
	for i := range ev.ToolCalls {
		td := &ev.ToolCalls[i]
		if td.ArgumentsDelta == "" || td.Drop {
			continue
		}
		e := entry(td.Choice)
		if e.Delta == nil {
			return nil, fmt.Errorf("tool-call arguments in a legacy completion stream")
		}
		if strings.Contains(td.Path, ".function_call.") {
			if e.Delta.FunctionCall == nil {
				e.Delta.FunctionCall = &chunkFunction{}
			}
			e.Delta.FunctionCall.Arguments += td.ArgumentsDelta
			continue
		}
		tc := chunkToolCall{Index: td.Index}
		if strings.HasSuffix(td.Path, ".custom.input") {
			tc.Custom = &chunkCustom{Input: td.ArgumentsDelta}
		} else {
			tc.Function = &chunkFunction{Arguments: td.ArgumentsDelta}
		}
		e.Delta.ToolCalls = append(e.Delta.ToolCalls, tc)
	}
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		e := entry(d.Choice)
		switch {
		case e.Text != nil:
			*e.Text += d.Text
		case d.Channel == "refusal":
			e.Delta.Refusal = appendPtr(e.Delta.Refusal, d.Text)
		case d.Channel == "reasoning":
			e.Delta.ReasoningContent = appendPtr(e.Delta.ReasoningContent, d.Text)
		default:
			e.Delta.Content = appendPtr(e.Delta.Content, d.Text)
		}
	}
	return pj.Marshal(ch)
}

func appendPtr(p *string, s string) *string {
	if p == nil {
		return &s
	}
	t := *p + s
	return &t
}
