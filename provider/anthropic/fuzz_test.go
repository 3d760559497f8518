package anthropic

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

func wantProviderError(t *testing.T, err error, status int) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Status != status {
		t.Fatalf("error %v (%T), want *provider.Error %d", err, err, status)
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, tc := range requestCases {
		f.Add(tc.input(f))
	}
	for _, tc := range badRequests {
		f.Add([]byte(tc.body))
	}
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		ptest.RequestRoundTrip(t, a, conv.KindChat, body, true,
			func(c *conv.Conversation) { c.MaxTokens = c.MaxTokens/2 + 1 },
			func(c, back *conv.Conversation, out []byte) {
				if back.MaxTokens != c.MaxTokens {
					t.Fatalf("re-parsed max_tokens %d, want %d: %s", back.MaxTokens, c.MaxTokens, out)
				}
			})
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, tc := range responseCases {
		f.Add(tc.input(f))
	}
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body)
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := a.ParseResponse(body, conv.KindChat)
		if err != nil {
			wantProviderError(t, err, 502)
			return
		}
		out, err := a.EncodeResponse(body, r)
		if err != nil || string(out) != string(body) {
			t.Fatalf("unchanged encode: %v", err)
		}
		var want []string
		for j := range r.Choices[0].Message.Segments {
			s := &r.Choices[0].Message.Segments[j]
			s.Text += "\\\x00"
			want = append(want, s.Text)
		}
		out, err = a.EncodeResponse(body, r)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := a.ParseResponse(out, conv.KindChat)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		got := back.Choices[0].Message.Segments
		if len(got) != len(want) {
			t.Fatalf("segments %d != %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Text != want[i] {
				t.Fatalf("segment %d = %q, want %q", i, got[i].Text, want[i])
			}
		}
	})
}

func FuzzParseStreamEvent(f *testing.F) {
	for _, e := range ptest.ReadSSE(f, "testdata/stream.sse") {
		f.Add(e.Name, e.Data, false)
		f.Add("", e.Data, true)
	}
	for _, b := range ptest.BadBodies() {
		f.Add("message_start", b.Body, false)
	}
	a := New()
	f.Fuzz(func(t *testing.T, name string, data []byte, drop bool) {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent(name, data, &ev); err != nil {
			wantProviderError(t, err, 502)
			return
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil || string(out) != string(data) {
			t.Fatalf("unchanged encode: %v", err)
		}
		var want []string
		for i := range ev.Deltas {
			ev.Deltas[i].Text = "«" + ev.Deltas[i].Text
			want = append(want, ev.Deltas[i].Text)
		}
		for i := range ev.ToolCalls {
			ev.ToolCalls[i].Drop = drop
		}
		out, err = a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if !gjson.ValidBytes(out) {
			t.Fatalf("invalid JSON %s", out)
		}
		var back conv.StreamEvent
		if err := a.ParseStreamEvent(name, out, &back); err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if drop {
			for _, td := range back.ToolCalls {
				if td.Name != "" || td.ArgumentsDelta != "" {
					t.Fatalf("dropped tool call still carries %+v", td)
				}
			}
			return
		}
		if len(back.Deltas) != len(want) {
			t.Fatalf("re-parse: %d deltas, want %d", len(back.Deltas), len(want))
		}
		for i := range want {
			if back.Deltas[i].Text != want[i] {
				t.Fatalf("delta %d = %q, want %q", i, back.Deltas[i].Text, want[i])
			}
		}
	})
}
