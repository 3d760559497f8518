package anthropic

import (
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

var (
	eventFields    = []string{"type", "index", "message", "content_block", "delta", "usage"}
	startMsgFields = []string{"usage"}
	blockStartFlds = []string{"type", "text", "id", "name"}
	blockDeltaFlds = []string{"type", "text", "partial_json", "thinking"}
	msgDeltaFields = []string{"stop_reason"}
)

// Event field positions in eventFields.
const (
	eType = iota
	eIndex
	eMessage
	eBlock
	eDelta
	eUsage
)

const (
	deltaEvent      = "content_block_delta"
	textPath        = "delta.text"
	partialJSONPath = "delta.partial_json"
)

// ParseStreamEvent reads one named SSE event. The event is dispatched on the
// data's "type" (as the SDKs do); a non-empty SSE name that disagrees with it
// is an error. ping, error, content_block_stop and unknown events carry
// nothing to inspect and pass through. Errors are *provider.Error with
// Status 502.
func (adapter) ParseStreamEvent(name string, data []byte, ev *conv.StreamEvent) error {
	ev.Name, ev.Data = name, data
	ev.Deltas, ev.ToolCalls, ev.Unknown = ev.Deltas[:0], ev.ToolCalls[:0], ev.Unknown[:0]
	ev.FinishReason, ev.Usage = nil, nil
	ev.Done, ev.Synthetic, ev.Drop, ev.EndsText, ev.Reencode = false, false, false, false, false
	if err := parseEvent(name, data, ev); err != nil {
		return pj.Upstream(err)
	}
	return nil
}

func parseEvent(name string, data []byte, ev *conv.StreamEvent) error {
	root, err := pj.Parse(data)
	if err != nil {
		return err
	}
	var f [6]gjson.Result
	if err := pj.Fields(root, "", eventFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.OptStr(f[eType], "", "type")
	if err != nil {
		return err
	}
	switch {
	case typ == "":
		typ = name
	case name != "" && name != typ:
		return pj.Errorf("invalid_value", "type", "event %q carries data of type %q", name, typ)
	}
	switch typ {
	case "message_start":
		if err := pj.Obj(f[eMessage], "", "message"); err != nil {
			return err
		}
		var m [1]gjson.Result
		if err := pj.Fields(f[eMessage], "message", startMsgFields, m[:]); err != nil {
			return err
		}
		ev.Usage, err = parseUsage(m[0], "message.usage")
		return err
	case "content_block_start":
		return parseBlockStart(f[eIndex], f[eBlock], ev)
	case deltaEvent:
		return parseBlockDelta(f[eIndex], f[eDelta], ev)
	case "message_delta":
		if pj.Present(f[eDelta]) {
			var d [1]gjson.Result
			if err := pj.Fields(f[eDelta], "delta", msgDeltaFields, d[:]); err != nil {
				return err
			}
			reason, err := pj.OptStr(d[0], "", "delta.stop_reason")
			if err != nil {
				return err
			}
			if reason != "" {
				ev.FinishReason = map[int]string{0: reason}
			}
		}
		ev.Usage, err = parseUsage(f[eUsage], "usage")
		return err
	case "message_stop":
		ev.Done = true
	}
	return nil
}

func blockIndex(v gjson.Result) (int, error) {
	if !v.Exists() {
		return 0, pj.Errorf("missing_field", "index", "index is required")
	}
	return pj.OptInt(v, "", "index")
}

func parseBlockStart(index, block gjson.Result, ev *conv.StreamEvent) error {
	idx, err := blockIndex(index)
	if err != nil {
		return err
	}
	if err := pj.Obj(block, "", "content_block"); err != nil {
		return err
	}
	var b [4]gjson.Result
	if err := pj.Fields(block, "content_block", blockStartFlds, b[:]); err != nil {
		return err
	}
	typ, err := pj.Str(b[0], "", "content_block.type")
	if err != nil {
		return err
	}
	if !knownBlock(typ) {
		ev.Unknown = append(ev.Unknown, conv.UnknownPart{Type: typ, Path: "content_block"})
	}
	switch typ {
	case "text":
		text, err := pj.OptStr(b[1], "", "content_block.text")
		if err != nil {
			return err
		}
		if text != "" {
			ev.Deltas = append(ev.Deltas, conv.NewDelta(0, text, "content_block.text"))
		}
	case "tool_use", "server_tool_use":
		td := conv.ToolCallDelta{Index: idx}
		if td.ID, err = pj.OptStr(b[2], "", "content_block.id"); err != nil {
			return err
		}
		if td.Name, err = pj.Str(b[3], "", "content_block.name"); err != nil {
			return err
		}
		ev.ToolCalls = append(ev.ToolCalls, td)
	}
	return nil
}

func parseBlockDelta(index, delta gjson.Result, ev *conv.StreamEvent) error {
	idx, err := blockIndex(index)
	if err != nil {
		return err
	}
	if err := pj.Obj(delta, "", "delta"); err != nil {
		return err
	}
	var d [4]gjson.Result
	if err := pj.Fields(delta, "delta", blockDeltaFlds, d[:]); err != nil {
		return err
	}
	typ, err := pj.Str(d[0], "", "delta.type")
	if err != nil {
		return err
	}
	switch typ {
	case "text_delta":
		text, err := pj.Str(d[1], "delta", "text")
		if err != nil {
			return err
		}
		ev.Deltas = append(ev.Deltas, conv.NewDelta(0, text, textPath))
	case "thinking_delta":
		text, err := pj.Str(d[3], "delta", "thinking")
		if err != nil {
			return err
		}
		dl := conv.NewDelta(0, text, "delta.thinking")
		dl.Channel, dl.Signed = "thinking", true
		ev.Deltas = append(ev.Deltas, dl)
	case "signature_delta":
		// the signature closes a thinking block's text: thinking held back
		// is released (in a thinking_delta) before it
		ev.EndsText = true
	case "input_json_delta":
		part, err := pj.Str(d[2], "", "delta.partial_json")
		if err != nil {
			return err
		}
		ev.ToolCalls = append(ev.ToolCalls, conv.NewToolCallDelta(conv.ToolCallDelta{Index: idx, ArgumentsDelta: part, Path: partialJSONPath}))
	}
	return nil
}

// droppedBlock replaces a dropped tool_use block start: an empty text block
// keeps the block indexes of the stream intact.
var droppedBlock = []byte(`{"type":"text","text":""}`)

// EncodeStreamEvent returns ev.Data when nothing changed; otherwise it writes
// changed texts. A dropped tool-call delta becomes an empty partial_json
// (input_json_delta) or an empty text block (content_block_start), so the
// stream stays well-formed. Synthetic events: see synthetic.
func (adapter) EncodeStreamEvent(ev *conv.StreamEvent) ([]byte, error) {
	if ev.Synthetic || len(ev.Data) == 0 {
		return synthetic(ev)
	}
	if !ev.Changed() {
		return ev.Data, nil
	}
	w := pj.Writer{Body: ev.Data}
	if err := w.WriteDeltas(ev.Deltas); err != nil {
		return nil, err
	}
	for i := range ev.ToolCalls {
		td := &ev.ToolCalls[i]
		if !td.Drop && td.ArgumentsChanged() {
			if td.Path != partialJSONPath {
				return nil, fmt.Errorf("tool-call arguments at %q cannot be rewritten", td.Path)
			}
			if err := w.SetString(partialJSONPath, "", td.ArgumentsDelta, true); err != nil {
				return nil, err
			}
			continue
		}
		if !td.Drop {
			continue
		}
		var err error
		switch typ := gjson.GetBytes(ev.Data, "type").Str; typ {
		case "content_block_start":
			err = w.SetRaw("content_block", droppedBlock)
		case deltaEvent:
			err = w.SetString("delta.partial_json", "", "", true)
		default:
			err = fmt.Errorf("cannot drop a tool-call delta from a %q event", typ)
		}
		if err != nil {
			return nil, err
		}
	}
	return w.Body, nil
}

type blockDelta struct {
	Type  string    `json:"type"`
	Index int64     `json:"index"`
	Delta textDelta `json:"delta"`
}

type textDelta struct {
	Type        string  `json:"type"`
	Text        *string `json:"text,omitempty"`
	Thinking    *string `json:"thinking,omitempty"`
	PartialJSON *string `json:"partial_json,omitempty"`
}

// synthetic builds a content_block_delta event holding the texts of
// ev.Deltas joined in order (a text_delta, or a thinking_delta for the
// "thinking" channel), or the arguments of ev.ToolCalls (an
// input_json_delta), and sets ev.Name to "content_block_delta" (the SSE
// event name to send). The block index is taken from ev.Data when the
// engine sets it to an earlier upstream event of the block (its "index"),
// else 0; the engine must emit the event before that block's
// content_block_stop. Content blocks stream one after another, so one
// event never releases text of two kinds; if it would, that is an error.
func synthetic(ev *conv.StreamEvent) ([]byte, error) {
	out := blockDelta{Type: deltaEvent}
	if len(ev.Data) > 0 {
		tmpl, err := pj.Parse(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("synthetic event template: %w", err)
		}
		out.Index = tmpl.Get("index").Int()
	}
	kind, text := "", ""
	add := func(k, t string) error {
		if t == "" {
			return nil
		}
		if kind != "" && kind != k {
			return fmt.Errorf("held text of two kinds (%s, %s) released in one event", kind, k)
		}
		kind, text = k, text+t
		return nil
	}
	for i := range ev.Deltas {
		k := "text_delta"
		if ev.Deltas[i].Channel == "thinking" {
			k = "thinking_delta"
		}
		if err := add(k, ev.Deltas[i].Text); err != nil {
			return nil, err
		}
	}
	for i := range ev.ToolCalls {
		if err := add("input_json_delta", ev.ToolCalls[i].ArgumentsDelta); err != nil {
			return nil, err
		}
	}
	switch kind {
	case "thinking_delta":
		out.Delta = textDelta{Type: kind, Thinking: &text}
	case "input_json_delta":
		out.Delta = textDelta{Type: kind, PartialJSON: &text}
	default:
		out.Delta = textDelta{Type: "text_delta", Text: &text}
	}
	ev.Name = deltaEvent
	return pj.Marshal(out)
}
