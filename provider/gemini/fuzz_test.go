package gemini

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

// FuzzParseRequest: any body parses or is a 400; an unchanged conversation
// encodes to the same bytes; changed segments re-parse to the new texts.
func FuzzParseRequest(f *testing.F) {
	for _, tc := range requestCases {
		f.Add([]byte(tc.body))
	}
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		ptest.RequestRoundTrip(t, a, conv.KindGenerateContent, body, true, nil, nil)
	})
}

// FuzzStream: any chunk parses or is a 502; parsed deltas can be rewritten
// and dropped calls removed, giving a chunk that parses again.
func FuzzStream(f *testing.F) {
	f.Add([]byte(`{"candidates":[{"content":{"parts":[{"text":"ok"},{"functionCall":{"name":"c","args":{}}},{"text":"!","thought":true}]},"finishReason":"STOP"}],"usageMetadata":{"totalTokenCount":3}}`))
	f.Add([]byte(`{"error":{"code":500}}`))
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body)
	}
	a := New()
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent("", data, &ev); err != nil {
			ptest.WantError(t, err, 502)
			return
		}
		for i := range ev.Deltas {
			ev.Deltas[i].Text = "x" + ev.Deltas[i].Text
		}
		for i := range ev.ToolCalls {
			ev.ToolCalls[i].Drop = i%2 == 0
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back conv.StreamEvent
		if err := a.ParseStreamEvent("", out, &back); err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if len(back.Deltas) != len(ev.Deltas) {
			t.Fatalf("deltas %d != %d: %s", len(back.Deltas), len(ev.Deltas), out)
		}
	})
}

// FuzzParseResponse: any body parses or is a 502.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`{"candidates":[{"content":{"parts":[{"text":"hi"}]},"index":0}],"usageMetadata":{"promptTokenCount":1}}`))
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := a.ParseResponse(body, conv.KindGenerateContent)
		if err != nil {
			ptest.WantError(t, err, 502)
			return
		}
		for i := range r.Choices {
			for j := range r.Choices[i].Message.Segments {
				r.Choices[i].Message.Segments[j].Text += "\u2028"
			}
		}
		if _, err := a.EncodeResponse(body, r); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}
