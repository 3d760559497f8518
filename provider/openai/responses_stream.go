package openai

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

// A streamed Responses API answer is a series of typed events. Text comes
// in *.delta events and is then repeated whole by the events that close it
// (response.output_text.done, response.content_part.done,
// response.output_item.done and response.completed). The adapter turns
// deltas into conv.Delta values keyed by (output item, content part) and
// remembers, per key, the text actually sent after the layers ran; every
// event that repeats text is rewritten to exactly that text, so a client
// (or SDK accumulator) reading the closing events never sees text that the
// output guard held, redacted, or never saw. A function call the tool
// policy drops disappears from every event that carries it.

// maxStreamText bounds the text the adapter keeps per stream.
const maxStreamText = 16 << 20

// Text key layout: output_index<<10 | summary<<9 | part index.
const (
	keyOutputShift = 10
	keySummaryBit  = 1 << 9
	maxPartIndex   = 1 << 9
	maxOutputIndex = 1 << 20
)

func textKey(output, part int, summary bool) int {
	k := output<<keyOutputShift | part
	if summary {
		k |= keySummaryBit
	}
	return k
}

// respStream is the adapter's per-stream state (conv.StreamEvent.State).
type respStream struct {
	sent    map[int]*strings.Builder // text sent per key
	size    int
	dropped map[int]bool // output indexes of function calls dropped by policy
	cur     respEvent    // the event last parsed
}

// respEvent is what ParseStreamEvent learned about an event, kept for its
// EncodeStreamEvent.
type respEvent struct {
	typ    string
	output int // output_index, -1 when absent
	key    int // text key of a delta or done event
	call   bool
}

func streamState(ev *conv.StreamEvent) *respStream {
	if st, ok := ev.State.(*respStream); ok {
		return st
	}
	st := &respStream{sent: map[int]*strings.Builder{}, dropped: map[int]bool{}}
	ev.State = st
	return st
}

func (st *respStream) add(key int, text string) error {
	if text == "" {
		return nil
	}
	st.size += len(text)
	if st.size > maxStreamText {
		return fmt.Errorf("streamed text exceeds %d bytes", maxStreamText)
	}
	b := st.sent[key]
	if b == nil {
		b = &strings.Builder{}
		st.sent[key] = b
	}
	b.WriteString(text)
	return nil
}

func (st *respStream) text(key int) string {
	if b := st.sent[key]; b != nil {
		return b.String()
	}
	return ""
}

var respEventFields = []string{"type", "output_index", "content_index", "summary_index", "delta", "item", "response", "name"}

const (
	reType = iota
	reOutput
	reContent
	reSummary
	reDelta
	reItem
	reResponse
	reName
)

// isResponsesEvent reports whether an SSE event belongs to the Responses
// API: its name or its data's type is response.* (or error). The data is
// looked at only when it holds a "type" member's likely value, so chat
// chunks cost one substring search.
func isResponsesEvent(name string, data []byte) bool {
	if strings.HasPrefix(name, "response.") {
		return true
	}
	if name != "error" && !bytes.Contains(data, respTypePrefix) && !bytes.Contains(data, respErrorType) {
		return false
	}
	t := gjson.GetBytes(data, "type")
	return t.Type == gjson.String && (strings.HasPrefix(t.Str, "response.") || t.Str == "error")
}

var (
	respTypePrefix = []byte(`"response.`)
	respErrorType  = []byte(`"type":"error"`)
)

// parseRespEvent reads one Responses API stream event.
func parseRespEvent(name string, data []byte, ev *conv.StreamEvent) error {
	st := streamState(ev)
	st.cur = respEvent{output: -1}
	root, err := pj.Parse(data)
	if err != nil {
		return err
	}
	var f [8]gjson.Result
	if err := pj.Fields(root, "", respEventFields, f[:]); err != nil {
		return err
	}
	typ, err := pj.OptStr(f[reType], "", "type")
	if err != nil {
		return err
	}
	if typ == "" {
		typ = name
	}
	st.cur.typ = typ
	if pj.Present(f[reOutput]) {
		if st.cur.output, err = pj.OptInt(f[reOutput], "", "output_index"); err != nil {
			return err
		}
		if st.cur.output >= maxOutputIndex {
			return pj.Errorf("invalid_value", "output_index", "output_index is too large")
		}
	}
	idx := func(v gjson.Result, key string) (int, error) {
		n, err := pj.OptInt(v, "", key)
		if err == nil && n >= maxPartIndex {
			err = pj.Errorf("invalid_value", key, "%s is too large", key)
		}
		return n, err
	}
	needOutput := func() error {
		if st.cur.output < 0 {
			return pj.Errorf("missing_field", "output_index", "%s event has no output_index", typ)
		}
		return nil
	}
	// keyOf sets the text key of an event about one content part (or
	// reasoning summary part) of an output item.
	keyOf := func(summary bool) error {
		if err := needOutput(); err != nil {
			return err
		}
		iv, key := f[reContent], "content_index"
		if summary {
			iv, key = f[reSummary], "summary_index"
		}
		part, err := idx(iv, key)
		if err != nil {
			return err
		}
		st.cur.key = textKey(st.cur.output, part, summary)
		return nil
	}
	switch typ {
	case "response.output_text.delta", "response.refusal.delta", "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		if err := keyOf(typ == "response.reasoning_summary_text.delta"); err != nil {
			return err
		}
		delta, err := pj.Str(f[reDelta], "", "delta")
		if err != nil {
			return err
		}
		ev.Deltas = append(ev.Deltas, conv.NewDelta(st.cur.key, delta, "delta"))
		ev.Reencode = true
	case "response.output_text.done", "response.refusal.done", "response.reasoning_summary_text.done", "response.reasoning_text.done":
		if err := keyOf(typ == "response.reasoning_summary_text.done"); err != nil {
			return err
		}
		ev.EndsText, ev.Reencode = true, true
	case "response.content_part.added", "response.content_part.done",
		"response.reasoning_summary_part.added", "response.reasoning_summary_part.done":
		if err := keyOf(strings.HasPrefix(typ, "response.reasoning_summary_part.")); err != nil {
			return err
		}
		ev.Reencode = true
	case "response.output_item.added", "response.output_item.done":
		if err := needOutput(); err != nil {
			return err
		}
		ev.Reencode = true
		item := f[reItem]
		if err := pj.Obj(item, "", "item"); err != nil {
			return err
		}
		it := item.Get("type").Str
		if !knownOutputItems[it] {
			ev.Unknown = append(ev.Unknown, conv.UnknownPart{Type: it, Path: "item"})
		}
		switch {
		case it == "function_call" || it == "custom_tool_call":
			st.cur.call = true
			if typ == "response.output_item.added" {
				td := conv.ToolCallDelta{Choice: st.cur.output}
				if td.ID, err = pj.OptStr(item.Get("call_id"), "item", "call_id"); err != nil {
					return err
				}
				if td.Name, err = pj.Str(item.Get("name"), "item", "name"); err != nil {
					return err
				}
				argKey := "arguments"
				if it == "custom_tool_call" {
					argKey = "input"
				}
				if td.ArgumentsDelta, err = pj.OptStr(item.Get(argKey), "item", argKey); err != nil {
					return err
				}
				ev.ToolCalls = append(ev.ToolCalls, conv.NewToolCallDelta(td))
			}
		case typ == "response.output_item.done":
			ev.EndsText = true
		}
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		if err := needOutput(); err != nil {
			return err
		}
		delta, err := pj.Str(f[reDelta], "", "delta")
		if err != nil {
			return err
		}
		st.cur.call = true
		ev.ToolCalls = append(ev.ToolCalls, conv.NewToolCallDelta(conv.ToolCallDelta{Choice: st.cur.output, ArgumentsDelta: delta, Path: "delta"}))
		ev.Reencode = true
	case "response.function_call_arguments.done", "response.custom_tool_call_input.done":
		if err := needOutput(); err != nil {
			return err
		}
		st.cur.call = true
		ev.FinishReason = map[int]string{st.cur.output: "completed"}
		ev.Reencode = true
	case "response.completed", "response.incomplete", "response.failed":
		ev.Done, ev.Reencode = true, true
		resp := f[reResponse]
		if err := pj.Obj(resp, "", "response"); err != nil {
			return err
		}
		if ev.Usage, err = parseRespUsage(resp.Get("usage"), "response.usage"); err != nil {
			return err
		}
	case "error":
		ev.Done = true // the upstream ends the stream with it
	}
	return nil
}

// encodeRespEvent writes what the layers changed and what the stream sent
// into a Responses API event; nil data means the event is not sent.
func encodeRespEvent(ev *conv.StreamEvent) ([]byte, error) {
	st := streamState(ev)
	if ev.Synthetic || len(ev.Data) == 0 {
		return respSynthetic(ev, st)
	}
	cur := st.cur
	for i := range ev.ToolCalls {
		if ev.ToolCalls[i].Drop {
			st.dropped[ev.ToolCalls[i].Choice] = true
		}
	}
	if cur.call && st.dropped[cur.output] {
		return nil, nil
	}
	w := pj.Writer{Body: ev.Data}
	for i := range ev.Deltas {
		if err := st.add(ev.Deltas[i].Choice, ev.Deltas[i].Text); err != nil {
			return nil, err
		}
	}
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
		if td := &ev.ToolCalls[i]; td.ArgumentsChanged() {
			if td.Path == "" {
				return nil, fmt.Errorf("tool-call arguments without a path cannot be rewritten")
			}
			if err := w.SetString(td.Path, "", td.ArgumentsDelta, true); err != nil {
				return nil, err
			}
		}
	}
	var err error
	switch cur.typ {
	case "response.output_text.done", "response.reasoning_summary_text.done", "response.reasoning_text.done":
		err = setText(&w, "text", st.text(cur.key))
	case "response.refusal.done":
		err = setText(&w, "refusal", st.text(cur.key))
	case "response.content_part.added", "response.content_part.done", "response.reasoning_summary_part.added", "response.reasoning_summary_part.done":
		err = restatePart(&w, "part", st.text(cur.key))
	case "response.output_item.added", "response.output_item.done":
		err = restateItem(&w, "item", cur.output, st)
	case "response.completed", "response.incomplete", "response.failed":
		err = restateOutput(&w, st)
	}
	if err != nil {
		return nil, err
	}
	return w.Body, nil
}

// setText sets the string at path to text when it differs; the log
// probabilities beside it, which repeat the original tokens, are emptied
// then (see dropLogprobs).
func setText(w *pj.Writer, path, text string) error {
	cur := gjson.GetBytes(w.Body, path)
	if cur.Type == gjson.String && cur.Str == text {
		return nil
	}
	if pj.Present(cur) && cur.Type != gjson.String {
		return fmt.Errorf("%s is not a string", path)
	}
	if !cur.Exists() && text == "" {
		return nil
	}
	if err := w.SetRaw(path, pj.AppendString(nil, text)); err != nil {
		return err
	}
	return dropLogprobs(w, path)
}

// restatePart rewrites a content or summary part's text (or refusal).
func restatePart(w *pj.Writer, path, text string) error {
	p := gjson.GetBytes(w.Body, path)
	if !p.IsObject() {
		return nil
	}
	if p.Get("type").Str == "refusal" {
		return setText(w, path+".refusal", text)
	}
	if p.Get("text").Exists() || text != "" {
		return setText(w, path+".text", text)
	}
	return nil
}

// restateItem rewrites the texts of the output item at path (output index
// oi) to what the stream sent.
func restateItem(w *pj.Writer, path string, oi int, st *respStream) error {
	item := gjson.GetBytes(w.Body, path)
	switch item.Get("type").Str {
	case "message":
		n := int(item.Get("content.#").Int())
		for j := 0; j < n && j < maxPartIndex; j++ {
			if err := restatePart(w, pj.Path(path, "content", j), st.text(textKey(oi, j, false))); err != nil {
				return err
			}
		}
	case "reasoning":
		nc := int(item.Get("content.#").Int())
		for j := 0; j < nc && j < maxPartIndex; j++ {
			if err := restatePart(w, pj.Path(path, "content", j), st.text(textKey(oi, j, false))); err != nil {
				return err
			}
		}
		n := int(item.Get("summary.#").Int())
		for j := 0; j < n && j < maxPartIndex; j++ {
			if err := restatePart(w, pj.Path(path, "summary", j), st.text(textKey(oi, j, true))); err != nil {
				return err
			}
		}
	}
	return nil
}

// restateOutput rewrites response.output: texts as sent, dropped calls removed.
func restateOutput(w *pj.Writer, st *respStream) error {
	n := int(gjson.GetBytes(w.Body, "response.output.#").Int())
	if n > maxOutputIndex {
		return errors.New("response.output has too many items")
	}
	for i := n - 1; i >= 0; i-- {
		p := pj.Path("response.output", i)
		if st.dropped[i] {
			if err := w.Delete(p); err != nil {
				return err
			}
			continue
		}
		if err := restateItem(w, p, i, st); err != nil {
			return err
		}
	}
	return nil
}

// respSynthetic builds a text delta event carrying held text released at
// the end of a text part, shaped after the last upstream delta event
// (ev.Data): same type, item, output and part index; or, for held
// tool-call arguments, an arguments delta event of the call.
func respSynthetic(ev *conv.StreamEvent, st *respStream) ([]byte, error) {
	tmpl, err := pj.Parse(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("synthetic event template: %w", err)
	}
	typ := tmpl.Get("type").Str
	if typ == "response.function_call_arguments.delta" || typ == "response.custom_tool_call_input.delta" {
		return respSyntheticArgs(ev, tmpl, typ)
	}
	oi := int(tmpl.Get("output_index").Int())
	summary := typ == "response.reasoning_summary_text.delta"
	partKey := "content_index"
	if summary {
		partKey = "summary_index"
	}
	part := int(tmpl.Get(partKey).Int())
	key := textKey(oi, part, summary)
	var text strings.Builder
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		if d.Text == "" {
			continue
		}
		if d.Choice != key {
			return nil, fmt.Errorf("held text of output %d part %d released after another part began", d.Choice>>keyOutputShift, d.Choice&(maxPartIndex-1))
		}
		text.WriteString(d.Text)
	}
	if err := st.add(key, text.String()); err != nil {
		return nil, err
	}
	return deltaEvent(tmpl, typ, oi, partKey, part, text.String())
}

// deltaEvent writes a synthetic delta event of type typ shaped after tmpl
// (item id, sequence number): output index oi, part index part under
// partKey ("" for none), and delta.
func deltaEvent(tmpl gjson.Result, typ string, oi int, partKey string, part int, delta string) ([]byte, error) {
	w := pj.Writer{Body: []byte(`{}`)}
	var err error
	set := func(k string, raw []byte) {
		if err == nil {
			err = w.SetRaw(k, raw)
		}
	}
	set("type", pj.AppendString(nil, typ))
	if id := tmpl.Get("item_id"); id.Type == gjson.String {
		set("item_id", pj.AppendString(nil, id.Str))
	}
	set("output_index", []byte(fmt.Sprint(oi)))
	if partKey != "" {
		set(partKey, []byte(fmt.Sprint(part)))
	}
	set("delta", pj.AppendString(nil, delta))
	if partKey != "" && typ != "response.reasoning_summary_text.delta" {
		set("logprobs", []byte("[]"))
	}
	if sn := tmpl.Get("sequence_number"); sn.Type == gjson.Number {
		set("sequence_number", []byte(sn.Raw))
	}
	return w.Body, err
}

// respSyntheticArgs builds an arguments delta event releasing held
// arguments of the call the template event (an arguments delta) belongs to.
func respSyntheticArgs(ev *conv.StreamEvent, tmpl gjson.Result, typ string) ([]byte, error) {
	oi := int(tmpl.Get("output_index").Int())
	var args strings.Builder
	for i := range ev.ToolCalls {
		td := &ev.ToolCalls[i]
		if td.ArgumentsDelta == "" {
			continue
		}
		if td.Choice != oi {
			return nil, fmt.Errorf("held arguments of output %d released after output %d began", td.Choice, oi)
		}
		args.WriteString(td.ArgumentsDelta)
	}
	for i := range ev.Deltas {
		if ev.Deltas[i].Text != "" {
			return nil, fmt.Errorf("held text released inside the function call of output %d", oi)
		}
	}
	return deltaEvent(tmpl, typ, oi, "", 0, args.String())
}
