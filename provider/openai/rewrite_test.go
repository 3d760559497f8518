package openai

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

// A max_tokens a layer changed is written into the field(s) the client
// used, or into max_completion_tokens (chat) / max_tokens (completions)
// when it used none; a layer's WantUsage adds stream_options.include_usage
// to a stream whose client did not ask for usage. Every other byte stays.
func TestEncodeRequestRewrites(t *testing.T) {
	cases := []struct {
		name      string
		kind      conv.Kind
		body      string
		maxTokens int // 0: unchanged
		wantUsage bool
		want      string
	}{
		{"clamp max_tokens", conv.KindChat,
			`{"model":"m",  "max_tokens" : 4000,"x_unknown":{"a":[1, 2]},"messages":[{"role":"user","content":"hi"}]}`, 100, false,
			`{"model":"m",  "max_tokens" : 100,"x_unknown":{"a":[1, 2]},"messages":[{"role":"user","content":"hi"}]}`},
		{"clamp max_completion_tokens", conv.KindChat,
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":9000,"seed":7}`, 512, false,
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":512,"seed":7}`},
		{"both fields", conv.KindChat,
			`{"model":"m","max_tokens":9000,"max_completion_tokens":8000,"messages":[{"role":"user","content":"hi"}]}`, 10, false,
			`{"model":"m","max_tokens":10,"max_completion_tokens":10,"messages":[{"role":"user","content":"hi"}]}`},
		{"default on chat", conv.KindChat,
			`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 256, false,
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":256}`},
		{"default on completion", conv.KindCompletion,
			`{"model":"m","prompt":"hi"}`, 64, false,
			`{"model":"m","prompt":"hi","max_tokens":64}`},
		{"null replaced", conv.KindChat,
			`{"model":"m","max_tokens":null,"messages":[{"role":"user","content":"hi"}]}`, 5, false,
			`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`},
		{"ask usage", conv.KindChat,
			`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 0, true,
			`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`},
		{"ask usage, options kept", conv.KindChat,
			`{"model":"m","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}`, 0, true,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
		{"ask usage, null options", conv.KindCompletion,
			`{"model":"m","stream":true,"stream_options":null,"prompt":"hi"}`, 0, true,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true},"prompt":"hi"}`},
		{"client asked already", conv.KindChat,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, 0, true,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
		{"not a stream", conv.KindChat,
			`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 0, true,
			`{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{"clamp and usage on a stream", conv.KindChat,
			`{"model":"m","stream":true,"max_tokens":800,"messages":[{"role":"user","content":"hi"}]}`, 80, true,
			`{"model":"m","stream":true,"max_tokens":80,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}`},
	}
	a := New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := a.ParseRequest([]byte(tc.body), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if tc.maxTokens > 0 {
				c.MaxTokens = tc.maxTokens
			}
			c.WantUsage = tc.wantUsage
			out, err := a.EncodeRequest([]byte(tc.body), c)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got  %s\nwant %s", out, tc.want)
			}
			back, err := a.ParseRequest(out, tc.kind)
			if err != nil {
				t.Fatalf("rewritten body does not parse: %v", err)
			}
			if tc.maxTokens > 0 && back.MaxTokens != tc.maxTokens {
				t.Fatalf("re-parsed max tokens %d", back.MaxTokens)
			}
			if tc.wantUsage && c.Stream && !back.IncludeUsage {
				t.Fatal("re-parsed request does not ask for usage")
			}
		})
	}
}

// A layer may lower or set the cap, never remove it.
func TestEncodeRequestMaxTokensRemoved(t *testing.T) {
	a := New()
	body := []byte(`{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	c, err := a.ParseRequest(body, conv.KindChat)
	if err != nil {
		t.Fatal(err)
	}
	c.MaxTokens = 0
	if _, err := a.EncodeRequest(body, c); err == nil {
		t.Fatal("max_tokens removal accepted")
	}
}

// A reused event is reset: a Drop a layer set on the previous event does
// not carry over to the next one.
func TestParseStreamEventResetsDrop(t *testing.T) {
	var ev conv.StreamEvent
	ev.Drop = true
	if err := New().ParseStreamEvent("", []byte(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}`), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Drop {
		t.Fatal("Drop kept from the previous event")
	}
}
