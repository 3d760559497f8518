package openai

import (
	"errors"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

var fuzzKinds = []conv.Kind{conv.KindChat, conv.KindCompletion, conv.KindEmbedding, conv.KindModels, conv.KindResponses}

func kindIndex(k conv.Kind) uint8 {
	for i, x := range fuzzKinds {
		if x == k {
			return uint8(i)
		}
	}
	return 0
}

func wantProviderError(t *testing.T, err error, statuses ...int) {
	t.Helper()
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not *provider.Error", err, err)
	}
	for _, s := range statuses {
		if pe.Status == s {
			return
		}
	}
	t.Fatalf("status %d, want one of %v", pe.Status, statuses)
}

func FuzzParseRequest(f *testing.F) {
	for _, tc := range requestCases {
		f.Add(tc.input(f), kindIndex(tc.kind))
	}
	for _, tc := range badRequests {
		f.Add([]byte(tc.body), kindIndex(tc.kind))
	}
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body, uint8(0))
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, k uint8) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		if kind == conv.KindModels {
			if _, err := a.ParseRequest(body, kind); err != nil {
				wantProviderError(t, err, 400)
			}
			return
		}
		// max_tokens and the usage request change too: the result must
		// parse back to the new values
		ptest.RequestRoundTrip(t, a, kind, body, false,
			func(c *conv.Conversation) { c.MaxTokens, c.WantUsage = c.MaxTokens/2+1, true },
			func(c, back *conv.Conversation, out []byte) {
				if (kind == conv.KindChat || kind == conv.KindCompletion) &&
					(back.MaxTokens != c.MaxTokens || back.IncludeUsage != (c.Stream || c.IncludeUsage)) {
					t.Fatalf("re-parsed max tokens %d (want %d), include usage %v: %s", back.MaxTokens, c.MaxTokens, back.IncludeUsage, out)
				}
			})
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, tc := range responseCases {
		f.Add(tc.input(f), kindIndex(tc.kind))
	}
	f.Add([]byte(responsesWhole), kindIndex(conv.KindResponses))
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body, uint8(0))
	}
	a := New()
	f.Fuzz(func(t *testing.T, body []byte, k uint8) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		r, err := a.ParseResponse(body, kind)
		if err != nil {
			wantProviderError(t, err, 502)
			return
		}
		out, err := a.EncodeResponse(body, r)
		if err != nil || string(out) != string(body) {
			t.Fatalf("unchanged encode: %v", err)
		}
		var want []string
		for i := range r.Choices {
			for j := range r.Choices[i].Message.Segments {
				s := &r.Choices[i].Message.Segments[j]
				s.Text += "\\\x00"
				want = append(want, s.Text)
			}
		}
		out, err = a.EncodeResponse(body, r)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := a.ParseResponse(out, kind)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		var got []string
		for i := range back.Choices {
			for _, s := range back.Choices[i].Message.Segments {
				got = append(got, s.Text)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("segments %d != %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("segment %d = %q, want %q", i, got[i], want[i])
			}
		}
	})
}

func FuzzParseStreamEvent(f *testing.F) {
	for _, tc := range streamCases {
		for _, e := range ptest.ReadSSE(f, "testdata/"+tc.file) {
			f.Add(e.Data, false)
			f.Add(e.Data, true)
		}
	}
	for _, b := range ptest.BadBodies() {
		f.Add(b.Body, false)
	}
	a := New()
	f.Fuzz(func(t *testing.T, data []byte, drop bool) {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent("", data, &ev); err != nil {
			wantProviderError(t, err, 502)
			return
		}
		if len(data) == 0 {
			return // parsed as done; an empty event is synthetic to the encoder
		}
		if ev.State != nil {
			return // a Responses API event: FuzzResponsesStream
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil || string(out) != string(data) {
			t.Fatalf("unchanged encode: %v", err)
		}
		if ev.Done {
			return
		}
		var want []string
		for i := range ev.Deltas {
			ev.Deltas[i].Text = "«" + ev.Deltas[i].Text
			want = append(want, ev.Deltas[i].Text)
		}
		kept := 0
		for i := range ev.ToolCalls {
			ev.ToolCalls[i].Drop = drop && i%2 == 0
			if !ev.ToolCalls[i].Drop {
				kept++
			}
		}
		out, err = a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back conv.StreamEvent
		if err := a.ParseStreamEvent("", out, &back); err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if len(back.Deltas) != len(want) || len(back.ToolCalls) != kept {
			t.Fatalf("re-parse: %d deltas (want %d), %d tool calls (want %d)", len(back.Deltas), len(want), len(back.ToolCalls), kept)
		}
		for i := range want {
			if back.Deltas[i].Text != want[i] {
				t.Fatalf("delta %d = %q, want %q", i, back.Deltas[i].Text, want[i])
			}
		}
	})
}
