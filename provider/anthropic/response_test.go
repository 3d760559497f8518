package anthropic

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

var responseCases = []requestCase{
	{name: "tool use", kind: conv.KindChat, file: "response.json", want: []string{
		"resp model=claude-sonnet-4-5-20250929 usage=2110/503/2613",
		"choice 0 finish=tool_use",
		"  msg role=assistant",
		`  msg seg assistant content.0.thinking "The user wants the weather."`,
		`  msg seg assistant content.1.text "I'll check the weather in Paris."`,
		`  msg seg assistant content.3.text "Done."`,
		`  msg call id=toolu_01T1x1fJ34qAmk2tNTrN7Up6 name=get_weather args={"location": "Paris, France"} path=content.2`,
	}},
	{name: "plain", kind: conv.KindChat, body: `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hi!"}],"model":"claude-3-5-haiku-latest","stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}}`, want: []string{
		"resp model=claude-3-5-haiku-latest usage=10/3/13",
		"choice 0 finish=end_turn",
		"  msg role=assistant",
		`  msg seg assistant content.0.text "Hi!"`,
	}},
	{name: "models", kind: conv.KindModels, body: `{"data":[]}`, want: []string{"resp model= usage=-"}},
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
			if err != nil || len(out) != len(body) || &out[0] != &body[0] {
				t.Fatalf("unchanged response not returned as the same slice (%v)", err)
			}
			for ci := range r.Choices {
				for si := range r.Choices[ci].Message.Segments {
					r, _ := a.ParseResponse(body, tc.kind)
					s := &r.Choices[ci].Message.Segments[si]
					s.Text = "[secret removed]\n" + s.Text
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
	for _, body := range []string{
		`{"content":{}}`, `{"content":[1]}`, `{"content":[{"text":"x"}]}`,
		`{"content":[{"type":"text","text":1}]}`, `{"content":[{"type":"tool_use","id":"t"}]}`,
		`{"content":[],"stop_reason":1}`, `{"content":[],"usage":{"input_tokens":"5"}}`,
		`{"content":[{"type":"text","text":"a","text":"b"}]}`,
	} {
		_, err := a.ParseResponse([]byte(body), conv.KindChat)
		ptest.WantError(t, err, 502)
	}
	for _, b := range ptest.BadBodies() {
		_, err := a.ParseResponse(b.Body, conv.KindChat)
		ptest.WantError(t, err, 502)
	}
}
