package anthropic

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

var streamWant = [][]string{
	{`event name="message_start" done=false usage=25/1/26 finish=map[]`},
	{`event name="content_block_start" done=false usage=- finish=map[]`},
	{`event name="ping" done=false usage=- finish=map[]`},
	{`event name="content_block_delta" done=false usage=- finish=map[]`, `delta 0 delta.text "Hello"`},
	{`event name="content_block_delta" done=false usage=- finish=map[]`, `delta 0 delta.text "!"`},
	{`event name="content_block_stop" done=false usage=- finish=map[]`},
	{`event name="content_block_start" done=false usage=- finish=map[]`, `tooldelta 0/1 id=toolu_01T1x1fJ34qAmk2tNTrN7Up6 name=get_weather args=""`},
	{`event name="content_block_delta" done=false usage=- finish=map[]`, `tooldelta 0/1 id= name= args="{\"location\": \"San Fra"`},
	{`event name="content_block_delta" done=false usage=- finish=map[]`, `tooldelta 0/1 id= name= args="ncisco, CA\"}"`},
	{`event name="content_block_stop" done=false usage=- finish=map[]`},
	{`event name="message_delta" done=false usage=0/15/15 finish=map[0:tool_use]`},
	{`event name="message_stop" done=true usage=- finish=map[]`},
}

func TestParseStreamEvent(t *testing.T) {
	a := New()
	events := ptest.ReadSSE(t, "testdata/stream.sse")
	if len(events) != len(streamWant) {
		t.Fatalf("%d events", len(events))
	}
	var ev conv.StreamEvent
	for i, e := range events {
		if err := a.ParseStreamEvent(e.Name, e.Data, &ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		ptest.Lines(t, ptest.StreamEvent(&ev), streamWant[i])
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil || len(out) != len(e.Data) || &out[0] != &e.Data[0] {
			t.Fatalf("event %d: unchanged event not returned as the same slice (%v)", i, err)
		}
		for k := range ev.Deltas {
			var ev conv.StreamEvent
			_ = a.ParseStreamEvent(e.Name, e.Data, &ev)
			ev.Deltas[k].Text = "«held»" + ev.Deltas[k].Text
			out, err := a.EncodeStreamEvent(&ev)
			if err != nil {
				t.Fatal(err)
			}
			ptest.CheckSplice(t, e.Data, out, ev.Deltas[k].Path, ev.Deltas[k].Text)
		}
	}
}

func TestParseStreamEventMore(t *testing.T) {
	a := New()
	cases := []struct {
		name, data string
		want       []string
	}{
		{"text block start with text", `{"type":"content_block_start","index":2,"content_block":{"type":"text","text":"Hi"}}`,
			[]string{`event name="content_block_start" done=false usage=- finish=map[]`, `delta 0 content_block.text "Hi"`}},
		{"thinking delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`,
			[]string{`event name="content_block_delta" done=false usage=- finish=map[]`, `delta 0 delta.thinking "hmm"`}},
		{"error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			[]string{`event name="error" done=false usage=- finish=map[]`}},
		{"unknown", `{"type":"future_event","x":1}`,
			[]string{`event name="future_event" done=false usage=- finish=map[]`}},
	}
	for _, tc := range cases {
		var ev conv.StreamEvent
		name := gjson.Get(tc.data, "type").Str
		if err := a.ParseStreamEvent(name, []byte(tc.data), &ev); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ptest.Lines(t, ptest.StreamEvent(&ev), tc.want)
	}
}

func TestParseStreamEventBad(t *testing.T) {
	a := New()
	bad := []struct{ name, data string }{
		{"content_block_delta", `{"type":"message_stop"}`},                              // name and type disagree
		{"", `{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}`}, // no index
		{"", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}`},  // no text
		{"", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":1}}`},
		{"", `{"type":"content_block_delta","index":0,"delta":"x"}`},
		{"", `{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":""}}`},
		{"", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta"}}`},
		{"", `{"type":"content_block_start","index":0}`},
		{"", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"x"}}`},
		{"", `{"type":"message_start","message":{"usage":{"input_tokens":"1"}}}`},
		{"", `{"type":"message_start"}`},
		{"", `{"type":"message_delta","delta":{"stop_reason":1}}`},
		{"", `{"type":1}`},
		{"", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}}`},
	}
	for _, tc := range bad {
		var ev conv.StreamEvent
		ptest.WantError(t, a.ParseStreamEvent(tc.name, []byte(tc.data), &ev), 502)
	}
	for _, b := range ptest.BadBodies() {
		var ev conv.StreamEvent
		ptest.WantError(t, a.ParseStreamEvent("message_start", b.Body, &ev), 502)
	}
}

func TestEncodeStreamEventDrop(t *testing.T) {
	a := New()
	events := ptest.ReadSSE(t, "testdata/stream.sse")
	cases := []struct {
		event int
		want  string
	}{
		{6, `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`},
		{7, `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}`},
	}
	for _, tc := range cases {
		var ev conv.StreamEvent
		e := events[tc.event]
		if err := a.ParseStreamEvent(e.Name, e.Data, &ev); err != nil {
			t.Fatal(err)
		}
		ev.ToolCalls[0].Drop = true
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil || string(out) != tc.want {
			t.Fatalf("event %d: %s %v", tc.event, out, err)
		}
	}
}

func TestEncodeStreamEventSynthetic(t *testing.T) {
	a := New()
	ev := conv.StreamEvent{Synthetic: true, Deltas: []conv.Delta{conv.NewDelta(0, "held ", ""), conv.NewDelta(0, "<text>", "")}}
	out, err := a.EncodeStreamEvent(&ev)
	want := `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"held <text>"}}`
	if err != nil || string(out) != want || ev.Name != "content_block_delta" {
		t.Fatalf("%s %v name=%q", out, err, ev.Name)
	}
	ev = conv.StreamEvent{Synthetic: true, Data: []byte(`{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}}`),
		Deltas: []conv.Delta{conv.NewDelta(0, "rest", "")}}
	out, err = a.EncodeStreamEvent(&ev)
	want = `{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"rest"}}`
	if err != nil || string(out) != want {
		t.Fatalf("%s %v", out, err)
	}
	var back conv.StreamEvent
	if err := a.ParseStreamEvent(ev.Name, out, &back); err != nil || len(back.Deltas) != 1 || back.Deltas[0].Text != "rest" {
		t.Fatalf("round trip: %v %v", err, ptest.StreamEvent(&back))
	}
	ev = conv.StreamEvent{Synthetic: true, Data: []byte(`{`)}
	if _, err := a.EncodeStreamEvent(&ev); err == nil {
		t.Fatal("a malformed template must fail")
	}
}
