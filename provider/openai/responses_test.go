package openai

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

const responsesWhole = `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt-4.1",
 "output":[
  {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Thinking about Paris."}]},
  {"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"It is sunny.","annotations":[]},{"type":"refusal","refusal":"No more."}]},
  {"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
  {"type":"web_search_call","id":"ws_1","status":"completed"}
 ],
 "usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":30}}`

func TestParseResponsesWhole(t *testing.T) {
	a := New()
	r, err := a.ParseResponse([]byte(responsesWhole), conv.KindResponses)
	if err != nil {
		t.Fatal(err)
	}
	ptest.Lines(t, ptest.Response(r), []string{
		"resp model=gpt-4.1 usage=10/20/30",
		"choice 0 finish=completed",
		"  msg role=assistant",
		`  msg seg assistant output.0.summary.0.text "Thinking about Paris."`,
		`  msg seg assistant output.1.content.0.text "It is sunny."`,
		`  msg seg assistant output.1.content.1.refusal "No more."`,
		`  msg call id=call_1 name=get_weather args={"city":"Paris"} path=output.2`,
	})
	r.Choices[0].Message.Segments[1].Text = "It is [REDACTED]."
	out, err := a.EncodeResponse([]byte(responsesWhole), r)
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(out, "output.1.content.0.text").Str; got != "It is [REDACTED]." {
		t.Fatalf("rewritten text %q", got)
	}
	for _, bad := range []string{`{"output":{}}`, `{"output":[{"type":"message","content":[{"type":"output_text","text":1}]}]}`,
		`{"output":[{"type":"function_call","arguments":"{}"}]}`, `{"usage":{"input_tokens":-1}}`, `{"output":[{"content":[]}]}`} {
		_, err := a.ParseResponse([]byte(bad), conv.KindResponses)
		ptest.WantError(t, err, 502)
	}
}

// respEvents is a Responses stream: reasoning summary, a message whose
// text carries SECRET, an allowed and a disallowed function call.
func respEvents() []string {
	var out []string
	seq := 0
	ev := func(v map[string]any) {
		v["sequence_number"] = seq
		seq++
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	type m = map[string]any
	text := []string{"The ", "code is SEC", "RET, ", "bye."}
	full := strings.Join(text, "")
	msg := func(status, t string) m {
		c := []any{}
		if status == "completed" {
			c = []any{m{"type": "output_text", "text": t, "annotations": []any{}}}
		}
		return m{"id": "msg_1", "type": "message", "status": status, "role": "assistant", "content": c}
	}
	call := func(i int, name, args string) m {
		return m{"id": fmt.Sprintf("fc_%d", i), "type": "function_call", "call_id": fmt.Sprintf("call_%d", i), "name": name, "arguments": args}
	}
	reasoning := func(t string) m {
		return m{"id": "rs_1", "type": "reasoning", "summary": []any{m{"type": "summary_text", "text": t}}}
	}
	ev(m{"type": "response.created", "response": m{"id": "r", "status": "in_progress", "output": []any{}, "usage": nil}})
	ev(m{"type": "response.output_item.added", "output_index": 0, "item": reasoning("")})
	ev(m{"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": "Plan: SECRET"})
	ev(m{"type": "response.reasoning_summary_text.done", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "text": "Plan: SECRET"})
	ev(m{"type": "response.output_item.done", "output_index": 0, "item": reasoning("Plan: SECRET")})
	ev(m{"type": "response.output_item.added", "output_index": 1, "item": msg("in_progress", "")})
	ev(m{"type": "response.content_part.added", "item_id": "msg_1", "output_index": 1, "content_index": 0, "part": m{"type": "output_text", "text": ""}})
	for _, p := range text {
		ev(m{"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": p})
	}
	ev(m{"type": "response.output_text.done", "item_id": "msg_1", "output_index": 1, "content_index": 0, "text": full})
	ev(m{"type": "response.content_part.done", "item_id": "msg_1", "output_index": 1, "content_index": 0, "part": m{"type": "output_text", "text": full}})
	ev(m{"type": "response.output_item.done", "output_index": 1, "item": msg("completed", full)})
	for i, c := range [][2]string{{"search", `{"q":"x"}`}, {"shell", `{"cmd":"rm -rf /"}`}} {
		ev(m{"type": "response.output_item.added", "output_index": 2 + i, "item": call(i, c[0], "")})
		ev(m{"type": "response.function_call_arguments.delta", "item_id": fmt.Sprintf("fc_%d", i), "output_index": 2 + i, "delta": c[1]})
		ev(m{"type": "response.function_call_arguments.done", "item_id": fmt.Sprintf("fc_%d", i), "output_index": 2 + i, "arguments": c[1]})
		ev(m{"type": "response.output_item.done", "output_index": 2 + i, "item": call(i, c[0], c[1])})
	}
	ev(m{"type": "response.completed", "response": m{"id": "r", "status": "completed", "output": []any{reasoning("Plan: SECRET"), msg("completed", full),
		call(0, "search", `{"q":"x"}`), call(1, "shell", `{"cmd":"rm -rf /"}`)}, "usage": m{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}})
	return out
}

// TestResponsesStreamRestates runs a Responses stream the way the engine
// does, with a "layer" that holds "SEC" back and redacts SECRET, and drops
// the shell call: every event that repeats text carries what the deltas
// sent, and the shell call is gone from every event.
func TestResponsesStreamRestates(t *testing.T) {
	a := New()
	var ev conv.StreamEvent
	var sent strings.Builder // message text as sent
	var held string
	var wire []string
	var lastDelta []byte
	for _, data := range respEvents() {
		if err := a.ParseStreamEvent("", []byte(data), &ev); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if ev.EndsText && held != "" { // the engine's synthetic release
			syn := conv.StreamEvent{Synthetic: true, Data: lastDelta, State: ev.State,
				Deltas: []conv.Delta{{Choice: textKey(1, 0, false), Text: strings.ReplaceAll(held, "SECRET", "[S]")}}}
			out, err := a.EncodeStreamEvent(&syn)
			if err != nil {
				t.Fatal(err)
			}
			sent.WriteString(gjson.GetBytes(out, "delta").Str)
			if gjson.GetBytes(out, "item_id").Str != "msg_1" || gjson.GetBytes(out, "type").Str != "response.output_text.delta" {
				t.Fatalf("synthetic event %s", out)
			}
			wire = append(wire, string(out))
			held = ""
		}
		for i := range ev.Deltas {
			d := &ev.Deltas[i]
			if d.Choice == textKey(0, 0, true) {
				d.Text = strings.ReplaceAll(d.Text, "SECRET", "[S]")
				continue
			}
			all := held + d.Text
			cut := 0
			if k := strings.LastIndex(all, " "); k >= 0 {
				cut = k + 1
			}
			d.Text, held = strings.ReplaceAll(all[:cut], "SECRET", "[S]"), all[cut:]
			lastDelta = append(lastDelta[:0], data...)
		}
		for i := range ev.ToolCalls {
			if ev.ToolCalls[i].Name == "shell" || ev.ToolCalls[i].Choice == 3 {
				ev.ToolCalls[i].Drop = true
			}
		}
		if !ev.Changed() && !ev.Reencode {
			wire = append(wire, data)
			continue
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatalf("encode %s: %v", data, err)
		}
		if out == nil {
			continue
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		if gjson.GetBytes(out, "type").Str == "response.output_text.delta" {
			sent.WriteString(gjson.GetBytes(out, "delta").Str)
		}
		wire = append(wire, string(out))
	}
	all := strings.Join(wire, "\n")
	if strings.Contains(all, "SECRET") || strings.Contains(all, "rm -rf") || strings.Contains(all, "call_1") {
		t.Fatalf("wire carries what was redacted or dropped:\n%s", all)
	}
	if sent.String() != "The code is [S], bye." {
		t.Fatalf("deltas sent %q", sent.String())
	}
	last := wire[len(wire)-1]
	for _, p := range []string{"response.output.1.content.0.text"} {
		if got := gjson.Get(last, p).Str; got != sent.String() {
			t.Fatalf("%s = %q, deltas sent %q", p, got, sent.String())
		}
	}
	if got := gjson.Get(last, "response.output.0.summary.0.text").Str; got != "Plan: [S]" {
		t.Fatalf("summary in response.completed %q", got)
	}
	if n := gjson.Get(last, "response.output.#").Int(); n != 3 {
		t.Fatalf("response.completed has %d items, want 3 (shell call removed): %s", n, last)
	}
	for _, w := range wire {
		switch gjson.Get(w, "type").Str {
		case "response.output_text.done":
			if gjson.Get(w, "text").Str != sent.String() {
				t.Fatalf("output_text.done %s", w)
			}
		case "response.content_part.done":
			if gjson.Get(w, "part.text").Str != sent.String() {
				t.Fatalf("content_part.done %s", w)
			}
		}
	}
}

func TestResponsesStreamEvents(t *testing.T) {
	a := New()
	cases := []struct {
		data string
		want []string
	}{
		{`{"type":"response.output_text.delta","item_id":"m","output_index":2,"content_index":1,"delta":"hi","sequence_number":4}`,
			[]string{`event name="" done=false usage=- finish=map[]`, `delta 2049 delta "hi"`}},
		{`{"type":"response.function_call_arguments.delta","item_id":"f","output_index":3,"delta":"{\"a\""}`,
			[]string{`event name="" done=false usage=- finish=map[]`, `tooldelta 3/0 id= name= args="{\"a\""`}},
		{`{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"c","name":"f","arguments":""}}`,
			[]string{`event name="" done=false usage=- finish=map[]`, `tooldelta 1/0 id=c name=f args=""`}},
		{`{"type":"response.function_call_arguments.done","output_index":1,"arguments":"{}"}`,
			[]string{`event name="" done=false usage=- finish=map[1:completed]`}},
		{`{"type":"response.completed","response":{"output":[],"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}}`,
			[]string{`event name="" done=true usage=3/4/7 finish=map[]`}},
		{`{"type":"error","code":"server_error","message":"boom","sequence_number":3}`,
			[]string{`event name="" done=true usage=- finish=map[]`}},
	}
	for _, tc := range cases {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent("", []byte(tc.data), &ev); err != nil {
			t.Fatalf("%s: %v", tc.data, err)
		}
		ptest.Lines(t, ptest.StreamEvent(&ev), tc.want)
	}
	for _, bad := range []string{
		`{"type":"response.output_text.delta","content_index":0,"delta":"x"}`,
		`{"type":"response.output_text.delta","output_index":0,"content_index":600,"delta":"x"}`,
		`{"type":"response.output_text.delta","output_index":0,"delta":1}`,
		`{"type":"response.output_text.delta","output_index":0,"delta":"a","delta":"b"}`,
		`{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call"}}`,
		`{"type":"response.completed","response":[]}`,
		`{"type":"response.completed","response":{"usage":{"input_tokens":"3"}}}`,
		`{"type":"response.output_text.delta","output_index":2000000,"delta":"x"}`,
	} {
		var ev conv.StreamEvent
		ptest.WantError(t, a.ParseStreamEvent("", []byte(bad), &ev), 502)
	}
}

func TestResponsesStreamErrorEvent(t *testing.T) {
	ev := string(New().StreamErrorEvent("tool_call_denied", "no"))
	data := strings.TrimSuffix(strings.TrimPrefix(ev, "event: error\ndata: "), "\n\n")
	for p, want := range map[string]string{"type": "error", "code": "tool_call_denied", "message": "no", "error.code": "tool_call_denied", "error.message": "no"} {
		if got := gjson.Get(data, p).String(); got != want {
			t.Fatalf("%s = %q, want %q in %s", p, got, want, ev)
		}
	}
}

func FuzzResponsesStream(f *testing.F) {
	for _, e := range respEvents() {
		f.Add([]byte(e), false)
		f.Add([]byte(e), true)
	}
	a := New()
	f.Fuzz(func(t *testing.T, data []byte, change bool) {
		var ev conv.StreamEvent
		// a delta first, so the state holds sent text
		if err := a.ParseStreamEvent("", []byte(`{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"x"}`), &ev); err != nil {
			t.Fatal(err)
		}
		if _, err := a.EncodeStreamEvent(&ev); err != nil {
			t.Fatal(err)
		}
		if err := a.ParseStreamEvent("response.x", data, &ev); err != nil {
			wantProviderError(t, err, 502)
			return
		}
		for i := range ev.Deltas {
			if change {
				ev.Deltas[i].Text = "«" + ev.Deltas[i].Text
			}
		}
		for i := range ev.ToolCalls {
			ev.ToolCalls[i].Drop = change
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			return // a body the writer cannot rewrite is an error, never a panic
		}
		if out != nil && !json.Valid(out) {
			t.Fatalf("invalid JSON from %s: %s", data, out)
		}
	})
}
