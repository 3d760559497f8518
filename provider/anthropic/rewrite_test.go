package anthropic

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

// A max_tokens a layer changed is written back in place, whole or
// streamed; every other byte stays.
func TestEncodeRequestMaxTokens(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"whole", `{"model":"claude","max_tokens": 4096 ,"metadata":{"user_id":"u"},"messages":[{"role":"user","content":"hi"}]}`,
			`{"model":"claude","max_tokens": 300 ,"metadata":{"user_id":"u"},"messages":[{"role":"user","content":"hi"}]}`},
		{"stream", `{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}],"max_tokens":64000}`,
			`{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}],"max_tokens":300}`},
	}
	a := New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := a.ParseRequest([]byte(tc.body), "chat")
			if err != nil {
				t.Fatal(err)
			}
			if !c.IncludeUsage && c.Stream {
				t.Fatal("an Anthropic stream always reports usage")
			}
			unchanged, err := a.EncodeRequest([]byte(tc.body), c)
			if err != nil || string(unchanged) != tc.body {
				t.Fatalf("unchanged request rewritten: %s %v", unchanged, err)
			}
			c.MaxTokens = 300
			c.WantUsage = true // nothing to do for Anthropic
			out, err := a.EncodeRequest([]byte(tc.body), c)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Fatalf("got  %s\nwant %s", out, tc.want)
			}
			c.MaxTokens = 0
			if _, err := a.EncodeRequest([]byte(tc.body), c); err == nil {
				t.Fatal("max_tokens removal accepted")
			}
		})
	}
}

// A reused event is reset: a Drop a layer set on the previous event does
// not carry over to the next one.
func TestParseStreamEventResetsDrop(t *testing.T) {
	var ev conv.StreamEvent
	ev.Drop = true
	if err := New().ParseStreamEvent("ping", []byte(`{"type":"ping"}`), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Drop {
		t.Fatal("Drop kept from the previous event")
	}
}
