package openai

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

var responseCases = []requestCase{
	{name: "chat", kind: conv.KindChat, file: "response_chat.json", want: []string{
		"resp model=gpt-4.1-2025-04-14 usage=19/10/29",
		"choice 0 finish=stop",
		"  msg role=assistant",
		`  msg seg assistant choices.0.message.content "Hello! How can I assist you today?"`,
		"choice 1 finish=tool_calls",
		"  msg role=assistant",
		`  msg call id=call_abc name=get_weather args={"city":"Paris"} path=choices.1.message.tool_calls.0`,
	}},
	{name: "chat refusal", kind: conv.KindChat, body: `{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help."},"finish_reason":"stop"}]}`, want: []string{
		"resp model=m usage=-",
		"choice 0 finish=stop",
		"  msg role=assistant",
		`  msg seg assistant choices.0.message.refusal "I can't help."`,
	}},
	{name: "completion", kind: conv.KindCompletion, file: "response_completion.json", want: []string{
		"resp model=gpt-3.5-turbo-instruct usage=5/7/12",
		"choice 0 finish=length",
		"  msg role=assistant",
		`  msg seg assistant choices.0.text "\n\nThis is indeed a test"`,
	}},
	{name: "embedding", kind: conv.KindEmbedding, file: "response_embedding.json", want: []string{
		"resp model=text-embedding-3-small usage=8/0/8",
	}},
	{name: "models", kind: conv.KindModels, body: `{"object":"list","data":[]}`, want: []string{
		"resp model= usage=-",
	}},
}

func TestParseResponse(t *testing.T) {
	a := New()
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := a.ParseResponse(tc.input(t), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			ptest.Lines(t, ptest.Response(r), tc.want)
		})
	}
}

func TestEncodeResponse(t *testing.T) {
	a := New()
	for _, tc := range responseCases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.input(t)
			r, _ := a.ParseResponse(body, tc.kind)
			out, err := a.EncodeResponse(body, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(body) || len(body) > 0 && &out[0] != &body[0] {
				t.Fatal("unchanged response was not returned as the same slice")
			}
			for ci := range r.Choices {
				for si := range r.Choices[ci].Message.Segments {
					r, _ := a.ParseResponse(body, tc.kind)
					s := &r.Choices[ci].Message.Segments[si]
					s.Text = "sk-[REDACTED]\t" + s.Text
					out, err := a.EncodeResponse(body, r)
					if err != nil {
						t.Fatal(err)
					}
					ptest.CheckSplice(t, body, out, s.Path, s.Text)
				}
			}
		})
	}
}

func TestParseResponseBad(t *testing.T) {
	a := New()
	bad := []struct {
		name string
		kind conv.Kind
		body string
	}{
		{"choices object", conv.KindChat, `{"choices":{}}`},
		{"choice without message", conv.KindChat, `{"choices":[{"index":0}]}`},
		{"content number", conv.KindChat, `{"choices":[{"message":{"content":1}}]}`},
		{"duplicate content", conv.KindChat, `{"choices":[{"message":{"content":"a","content":"b"}}]}`},
		{"index string", conv.KindChat, `{"choices":[{"index":"0","message":{}}]}`},
		{"finish_reason number", conv.KindChat, `{"choices":[{"message":{},"finish_reason":1}]}`},
		{"usage string", conv.KindChat, `{"choices":[],"usage":"x"}`},
		{"usage tokens negative", conv.KindEmbedding, `{"usage":{"prompt_tokens":-5}}`},
		{"completion without text", conv.KindCompletion, `{"choices":[{"index":0}]}`},
		{"tool call arguments object", conv.KindChat, `{"choices":[{"message":{"tool_calls":[{"type":"function","function":{"name":"f","arguments":{}}}]}}]}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.ParseResponse([]byte(tc.body), tc.kind)
			ptest.WantError(t, err, 502)
		})
	}
	for _, b := range ptest.BadBodies() {
		t.Run(b.Name, func(t *testing.T) {
			_, err := a.ParseResponse(b.Body, conv.KindChat)
			ptest.WantError(t, err, 502)
		})
	}
}
