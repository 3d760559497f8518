package openai

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

var streamCases = []struct {
	file string
	want [][]string // per event
}{
	{"stream_chat.sse", [][]string{
		{`event name="" done=false usage=- finish=map[]`, `delta 0 choices.0.delta.content ""`},
		{`event name="" done=false usage=- finish=map[]`, `delta 0 choices.0.delta.content "Hello"`},
		{`event name="" done=false usage=- finish=map[]`, `delta 0 choices.0.delta.content " world"`},
		{`event name="" done=false usage=- finish=map[0:stop]`},
		{`event name="" done=false usage=9/2/11 finish=map[]`},
		{`event name="" done=true usage=- finish=map[]`},
	}},
	{"stream_tools.sse", [][]string{
		{`event name="" done=false usage=- finish=map[]`,
			`tooldelta 0/0 id=call_a name=get_weather args=""`,
			`tooldelta 0/1 id=call_b name=send_email args=""`},
		{`event name="" done=false usage=- finish=map[]`,
			`tooldelta 0/0 id= name= args="{\"city\":"`,
			`tooldelta 0/1 id= name= args="{\"to\":"`},
		{`event name="" done=false usage=- finish=map[0:tool_calls]`},
		{`event name="" done=true usage=- finish=map[]`},
	}},
	{"stream_completion.sse", [][]string{
		{`event name="" done=false usage=- finish=map[]`, `delta 0 choices.0.text "This"`},
		{`event name="" done=false usage=- finish=map[0:length]`, `delta 0 choices.0.text " is"`},
		{`event name="" done=true usage=- finish=map[]`},
	}},
}

func TestParseStreamEvent(t *testing.T) {
	a := New()
	for _, tc := range streamCases {
		t.Run(tc.file, func(t *testing.T) {
			events := ptest.ReadSSE(t, "testdata/"+tc.file)
			if len(events) != len(tc.want) {
				t.Fatalf("%d events, want %d", len(events), len(tc.want))
			}
			var ev conv.StreamEvent // reused, as the engine may
			for i, e := range events {
				if err := a.ParseStreamEvent(e.Name, e.Data, &ev); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				ptest.Lines(t, ptest.StreamEvent(&ev), tc.want[i])
				out, err := a.EncodeStreamEvent(&ev)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != len(e.Data) || &out[0] != &e.Data[0] {
					t.Fatal("unchanged event was not returned as the same slice")
				}
				for k := range ev.Deltas {
					var ev conv.StreamEvent
					_ = a.ParseStreamEvent(e.Name, e.Data, &ev)
					ev.Deltas[k].Text = "held: \"" + ev.Deltas[k].Text
					out, err := a.EncodeStreamEvent(&ev)
					if err != nil {
						t.Fatal(err)
					}
					ptest.CheckSplice(t, e.Data, out, ev.Deltas[k].Path, ev.Deltas[k].Text)
				}
			}
		})
	}
}

func TestParseStreamEventPassThrough(t *testing.T) {
	a := New()
	for _, data := range []string{
		`{"error":{"message":"overloaded","type":"server_error"}}`,
		`{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}],"obfuscation":"abc"}`,
		` [DONE] `,
	} {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent("", []byte(data), &ev); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if len(ev.Deltas) != 0 || len(ev.ToolCalls) != 0 {
			t.Fatalf("%s: unexpected content %v", data, ptest.StreamEvent(&ev))
		}
	}
}

// TestStreamSideChannels: refusal and reasoning deltas are text channels
// of their own, written back in place and rebuilt in a synthetic chunk.
func TestStreamSideChannels(t *testing.T) {
	a := New()
	for _, c := range []struct{ data, channel, path string }{
		{`{"choices":[{"index":0,"delta":{"refusal":"no"}}]}`, "refusal", "choices.0.delta.refusal"},
		{`{"choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}`, "reasoning", "choices.0.delta.reasoning_content"},
		{`{"choices":[{"index":0,"delta":{"reasoning":"think"}}]}`, "reasoning", "choices.0.delta.reasoning"},
	} {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent("", []byte(c.data), &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.Deltas) != 1 || ev.Deltas[0].Channel != c.channel || ev.Deltas[0].Path != c.path {
			t.Fatalf("%s: %v", c.data, ptest.StreamEvent(&ev))
		}
		ev.Deltas[0].Text = "[redacted]"
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, c.path).Str; got != "[redacted]" {
			t.Errorf("%s: written back %q in %s", c.data, got, out)
		}
		syn := conv.StreamEvent{Synthetic: true, Deltas: []conv.Delta{{Choice: 0, Text: "held", Channel: c.channel}}}
		out, err = a.EncodeStreamEvent(&syn)
		if err != nil {
			t.Fatal(err)
		}
		field := map[string]string{"refusal": "refusal", "reasoning": "reasoning_content"}[c.channel]
		if got := gjson.GetBytes(out, "choices.0.delta."+field).Str; got != "held" || gjson.GetBytes(out, "choices.0.delta.content").Str != "" {
			t.Errorf("synthetic %s: %s", c.channel, out)
		}
	}
}

func TestParseStreamEventBad(t *testing.T) {
	a := New()
	bad := []string{
		``, `[DONE`, `{"choices":{}}`, `{"choices":[1]}`,
		`{"choices":[{"index":"0","delta":{}}]}`,
		`{"choices":[{"delta":{"content":5}}]}`,
		`{"choices":[{"delta":{"content":"a","content":"b"}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":-1}]}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":{}}}]}}]}`,
		`{"choices":[{"finish_reason":1}]}`,
		`{"choices":[{"text":1}]}`,
		`{"usage":[]}`,
	}
	for _, data := range bad {
		var ev conv.StreamEvent
		ptest.WantError(t, a.ParseStreamEvent("", []byte(data), &ev), 502)
	}
	for _, b := range ptest.BadBodies() {
		var ev conv.StreamEvent
		ptest.WantError(t, a.ParseStreamEvent("", b.Body, &ev), 502)
	}
}

func TestEncodeStreamEventDropToolCalls(t *testing.T) {
	a := New()
	events := ptest.ReadSSE(t, "testdata/stream_tools.sse")
	cases := []struct {
		event int
		drop  []int
		want  string // delta after encoding
	}{
		{0, []int{1}, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}`},
		{0, []int{0}, `{"role":"assistant","content":null,"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"send_email","arguments":""}}]}`},
		{0, []int{0, 1}, `{"role":"assistant","content":null}`},
		{1, []int{1}, `{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`},
	}
	for _, tc := range cases {
		var ev conv.StreamEvent
		data := events[tc.event].Data
		if err := a.ParseStreamEvent("", data, &ev); err != nil {
			t.Fatal(err)
		}
		for _, i := range tc.drop {
			ev.ToolCalls[i].Drop = true
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, "choices.0.delta").Raw; got != tc.want {
			t.Fatalf("event %d drop %v:\n got  %s\n want %s", tc.event, tc.drop, got, tc.want)
		}
		// Everything outside the delta is untouched.
		d := gjson.GetBytes(data, "choices.0.delta")
		o := gjson.GetBytes(out, "choices.0.delta")
		if string(out[:o.Index]) != string(data[:d.Index]) || string(out[o.Index+len(o.Raw):]) != string(data[d.Index+len(d.Raw):]) {
			t.Fatalf("bytes outside the delta changed: %s", out)
		}
	}
	// Legacy function_call deltas are dropped whole.
	var ev conv.StreamEvent
	data := []byte(`{"choices":[{"index":0,"delta":{"function_call":{"name":"f","arguments":""}}}]}`)
	if err := a.ParseStreamEvent("", data, &ev); err != nil {
		t.Fatal(err)
	}
	ev.ToolCalls[0].Drop = true
	out, err := a.EncodeStreamEvent(&ev)
	if err != nil || string(out) != `{"choices":[{"index":0,"delta":{}}]}` {
		t.Fatalf("%s %v", out, err)
	}
}

func TestEncodeStreamEventSynthetic(t *testing.T) {
	a := New()
	cases := []struct {
		name string
		tmpl string
		ds   []conv.Delta
		want string
	}{
		{"bare", "", []conv.Delta{conv.NewDelta(0, "held ", ""), conv.NewDelta(0, "text", "")},
			`{"id":"","object":"chat.completion.chunk","created":0,"model":"","choices":[{"index":0,"delta":{"content":"held text"},"logprobs":null,"finish_reason":null}]}`},
		{"template and two choices", `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"gpt-4o","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"x"}}]}`,
			[]conv.Delta{conv.NewDelta(1, "b<&>", ""), conv.NewDelta(0, "a", "")},
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"gpt-4o","system_fingerprint":"fp","choices":[{"index":1,"delta":{"content":"b<&>"},"logprobs":null,"finish_reason":null},{"index":0,"delta":{"content":"a"},"logprobs":null,"finish_reason":null}]}`},
		{"completion template", `{"id":"cmpl-7","object":"text_completion","created":1,"choices":[{"text":"This","index":0}],"model":"m"}`,
			[]conv.Delta{conv.NewDelta(0, "rest", "")},
			`{"id":"cmpl-7","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"rest","logprobs":null,"finish_reason":null}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := conv.StreamEvent{Synthetic: true, Data: []byte(tc.tmpl), Deltas: tc.ds}
			out, err := a.EncodeStreamEvent(&ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got  %s\nwant %s", out, tc.want)
			}
			// The synthetic chunk parses back to the same text.
			var back conv.StreamEvent
			if err := a.ParseStreamEvent("", out, &back); err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, d := range back.Deltas {
				got = append(got, d.Text)
			}
			for _, d := range tc.ds {
				want = append(want, d.Text)
			}
			if strings.Join(got, "") != strings.Join(want, "") {
				t.Fatalf("round trip %q != %q", got, want)
			}
		})
	}
	ev := conv.StreamEvent{Synthetic: true, Data: []byte("not json"), Deltas: []conv.Delta{conv.NewDelta(0, "x", "")}}
	if _, err := a.EncodeStreamEvent(&ev); err == nil {
		t.Fatal("a malformed template must fail")
	}
}
