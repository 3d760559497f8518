package gemini

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

// streamState is the adapter's per-stream state (conv.StreamEvent.State):
// how many function calls each candidate made so far (a call's Index), and
// where the calls of the current event are (to drop them).
type streamState struct {
	calls     map[int]int
	callPaths []string // part path of each ev.ToolCalls entry of the last parsed event
}

// ParseStreamEvent reads one chunk of a streamGenerateContent stream (a
// GenerateContentResponse per SSE data field, no event names). Text parts
// are Deltas (Choice = candidate index; thought parts on channel
// "thinking"); each functionCall part is a whole ToolCallDelta (Gemini
// streams a call in one piece); finishReason sets FinishReason; usageMetadata
// (cumulative) sets Usage. A chunk holding an error object (the upstream
// failed mid-stream) is passed on as the terminal event. The stream has no
// terminal event of its own: it ends when the upstream closes it (see
// StreamEndsAtEOF). Errors are *provider.Error with Status 502.
func (adapter) ParseStreamEvent(name string, data []byte, ev *conv.StreamEvent) error {
	ev.Name, ev.Data = name, data
	ev.Deltas, ev.ToolCalls, ev.Unknown = ev.Deltas[:0], ev.ToolCalls[:0], ev.Unknown[:0]
	ev.FinishReason, ev.Usage = nil, nil
	ev.Done, ev.Synthetic, ev.Drop, ev.EndsText, ev.Reencode = false, false, false, false, false
	st, _ := ev.State.(*streamState)
	if st == nil {
		st = &streamState{}
		ev.State = st
	}
	st.callPaths = st.callPaths[:0]
	if err := parseEvent(name, data, ev, st); err != nil {
		return pj.Upstream(err)
	}
	return nil
}

func parseEvent(name string, data []byte, ev *conv.StreamEvent, st *streamState) error {
	if name != "" {
		return pj.Errorf("invalid_value", "event", "unexpected event name %q in a Gemini stream", name)
	}
	root, err := pj.Parse(data)
	if err != nil {
		return err
	}
	var f [4]gjson.Result
	if err := pj.Fields(root, "", responseFields, f[:]); err != nil {
		return err
	}
	if pj.Present(f[3]) {
		ev.Done = true // the upstream's own error: relayed, and the stream ends
		return nil
	}
	if ev.Usage, err = parseUsage(f[1], "usageMetadata"); err != nil {
		return err
	}
	if !pj.Present(f[0]) {
		return nil
	}
	return pj.Each(f[0], "candidates", func(i int, cand gjson.Result) error {
		cp := pj.Path("candidates", i)
		idx, reason, content, err := candidate(cand, cp)
		if err != nil {
			return err
		}
		if reason != "" {
			if ev.FinishReason == nil {
				ev.FinishReason = make(map[int]string, 1)
			}
			ev.FinishReason[idx] = reason
		}
		return eachPart(content, cp, func(j int, pp string, p gjson.Result, pf []gjson.Result) error {
			ev.Unknown = unknownMembers(p, pp, ev.Unknown)
			switch {
			case pj.Present(pf[pText]):
				text, err := pj.Str(pf[pText], pp, "text")
				if err != nil {
					return err
				}
				d := conv.NewDelta(idx, text, pp+".text")
				if pf[nData].Type == gjson.True {
					d.Channel = "thinking"
				}
				ev.Deltas = append(ev.Deltas, d)
			case pj.Present(pf[pCall]):
				var msg conv.Message
				if err := parseCall(&msg, pp, pf[pCall]); err != nil {
					return err
				}
				call := msg.ToolCalls[0]
				if st.calls == nil {
					st.calls = make(map[int]int, 1)
				}
				n := st.calls[idx]
				st.calls[idx] = n + 1
				args := call.Arguments
				if args == "" {
					args = "{}"
				}
				ev.ToolCalls = append(ev.ToolCalls, conv.ToolCallDelta{Choice: idx, Index: n, ID: call.ID,
					Name: call.Name, ArgumentsDelta: args})
				st.callPaths = append(st.callPaths, pp)
			case pj.Present(pf[pInline]):
				var msg conv.Message
				text, ok, err := answerBlob(&msg, pp+".inlineData", pf[pInline])
				if err != nil || !ok {
					return err
				}
				d := conv.NewDelta(idx, text, pp+".inlineData.data")
				d.Channel = conv.ChannelFile
				ev.Deltas = append(ev.Deltas, d)
			case pj.Present(pf[pFile]):
				uri, name, err := fileData(pf[pFile], pp+".fileData")
				if err != nil {
					return err
				}
				if uri != "" {
					d := conv.NewDelta(idx, uri, pp+".fileData.fileUri")
					d.Channel = conv.ChannelLink
					ev.Deltas = append(ev.Deltas, d)
				}
				if name != "" {
					// the file's label, written whole in this chunk: checked whole
					d := conv.NewDelta(idx, name, pp+".fileData.displayName")
					d.Channel = conv.ChannelFile
					ev.Deltas = append(ev.Deltas, d)
				}
			case pj.Present(pf[pCode]):
				return sandboxDelta(ev, idx, pf[pCode], pp+".executableCode", "code")
			case pj.Present(pf[pResult]):
				return sandboxDelta(ev, idx, pf[pResult], pp+".codeExecutionResult", "output")
			}
			return nil
		})
	})
}

// sandboxDelta makes code the model wrote ("code" channel), or the output
// of Google's code sandbox ("code_result"), a delta of its own channel.
func sandboxDelta(ev *conv.StreamEvent, idx int, v gjson.Result, path, key string) error {
	text, err := sandboxField(v, path, key)
	if err != nil {
		return err
	}
	if text != "" {
		d := conv.NewDelta(idx, text, path+"."+key)
		d.Channel = "code"
		if key == "output" {
			d.Channel = "code_result"
		}
		ev.Deltas = append(ev.Deltas, d)
	}
	return nil
}

// StreamEndsAtEOF reports that a Gemini stream has no terminal event: it
// ends when the upstream closes it after a chunk with a finishReason.
func (adapter) StreamEndsAtEOF() bool { return true }

// EncodeStreamEvent returns ev.Data when nothing changed; otherwise it
// writes changed texts (removing the logprobsResult of their candidates)
// and removes the parts of dropped function calls.
// Synthetic events: see synthetic.
func (adapter) EncodeStreamEvent(ev *conv.StreamEvent) ([]byte, error) {
	if ev.Synthetic || len(ev.Data) == 0 {
		return synthetic(ev)
	}
	if !ev.Changed() {
		return ev.Data, nil
	}
	w := pj.Writer{Body: ev.Data}
	if err := writeDeltas(&w, ev.Deltas); err != nil {
		return nil, err
	}
	var changed []string
	for i := range ev.Deltas {
		if ev.Deltas[i].Changed() {
			changed = append(changed, ev.Deltas[i].Path)
		}
	}
	if err := dropLogprobs(&w, changed); err != nil {
		return nil, err
	}
	var drop []string
	st, _ := ev.State.(*streamState)
	for i := range ev.ToolCalls {
		if !ev.ToolCalls[i].Drop {
			continue
		}
		if st == nil || i >= len(st.callPaths) {
			return nil, fmt.Errorf("cannot locate dropped function call %d", i)
		}
		drop = append(drop, st.callPaths[i])
	}
	// Remove from the last part backwards, so earlier paths stay valid.
	slices.Reverse(drop)
	for _, p := range drop {
		if err := w.Delete(p); err != nil {
			return nil, err
		}
	}
	return w.Body, nil
}

// writeDeltas writes changed deltas back: the decoded text of an
// inlineData part base64-encoded, the others as they are.
func writeDeltas(w *pj.Writer, ds []conv.Delta) error {
	k := slices.IndexFunc(ds, func(d conv.Delta) bool { return isInlineText(d.Path) })
	if k < 0 {
		return w.WriteDeltas(ds)
	}
	rest := make([]conv.Delta, 0, len(ds))
	for i := range ds {
		if !isInlineText(ds[i].Path) {
			rest = append(rest, ds[i])
		} else if ds[i].Changed() {
			if err := writeInline(w, ds[i].Path, ds[i].Text); err != nil {
				return err
			}
		}
	}
	return w.WriteDeltas(rest)
}

type chunk struct {
	Candidates    []candidateOut  `json:"candidates"`
	UsageMetadata json.RawMessage `json:"usageMetadata,omitempty"`
	ModelVersion  string          `json:"modelVersion,omitempty"`
	ResponseID    string          `json:"responseId,omitempty"`
}

type candidateOut struct {
	Content      contentOut `json:"content"`
	FinishReason string     `json:"finishReason,omitempty"`
	Index        int        `json:"index"`
}

type contentOut struct {
	Role  string    `json:"role"`
	Parts []partOut `json:"parts"`
}

type partOut struct {
	Text    *string    `json:"text,omitempty"`
	Thought bool       `json:"thought,omitempty"`
	Code    *codeOut   `json:"executableCode,omitempty"`
	Result  *resultOut `json:"codeExecutionResult,omitempty"`
}

type codeOut struct {
	Code string `json:"code"`
}

type resultOut struct {
	Output string `json:"output"`
}

// partFor is a part holding text in the part kind of channel ch.
func partFor(ch, text string) partOut {
	switch ch {
	case "code":
		return partOut{Code: &codeOut{Code: text}}
	case "code_result":
		return partOut{Result: &resultOut{Output: text}}
	}
	return partOut{Text: &text, Thought: ch == "thinking"}
}

// synthetic builds a chunk holding the texts of ev.Deltas as parts of
// their channel (text; thought text for "thinking"; executableCode.code for
// "code"; codeExecutionResult.output for "code_result"), one candidate per
// Choice in the
// order they first appear. modelVersion, responseId and usageMetadata
// (cumulative) are taken from ev.Data when the engine sets it to an earlier
// upstream chunk; when that chunk finished a candidate, this chunk (sent
// after it, holding the candidate's last text) repeats its finishReason,
// so that the stream's last chunk carries usage and finish as Gemini's do.
func synthetic(ev *conv.StreamEvent) ([]byte, error) {
	var out chunk
	var finish map[int]string
	if len(ev.Data) > 0 {
		tmpl, err := pj.Parse(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("synthetic event template: %w", err)
		}
		out.ModelVersion, out.ResponseID = tmpl.Get("modelVersion").Str, tmpl.Get("responseId").Str
		if u := tmpl.Get("usageMetadata"); u.IsObject() {
			out.UsageMetadata = json.RawMessage(u.Raw)
		}
		tmpl.Get("candidates").ForEach(func(_, c gjson.Result) bool {
			if r := c.Get("finishReason"); r.Type == gjson.String && r.Str != "" {
				if finish == nil {
					finish = map[int]string{}
				}
				finish[int(c.Get("index").Int())] = r.Str
			}
			return true
		})
	}
	for i := range ev.Deltas {
		d := &ev.Deltas[i]
		if d.Text == "" {
			continue
		}
		k := slices.IndexFunc(out.Candidates, func(c candidateOut) bool { return c.Index == d.Choice })
		if k < 0 {
			out.Candidates = append(out.Candidates, candidateOut{Index: d.Choice, FinishReason: finish[d.Choice], Content: contentOut{Role: "model"}})
			k = len(out.Candidates) - 1
		}
		c := &out.Candidates[k]
		c.Content.Parts = append(c.Content.Parts, partFor(d.Channel, d.Text))
	}
	ev.Name = ""
	return pj.Marshal(out)
}
