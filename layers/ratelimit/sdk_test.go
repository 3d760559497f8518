package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
)

// The official OpenAI SDK streams through the layer when the layer asked
// the upstream for usage the client did not request: the stream reads to
// its end without error, the text is intact, the answer carries the
// x-ratelimit headers, and the charge is the upstream's usage.
func TestOpenAISDKStreamWithRequestedUsage(t *testing.T) {
	const tpm = 100000
	h, up := newChain(t, Config{Rules: []Rule{{Scope: ScopeIP, TPM: tpm, RPM: 100}}}, openaiChat)
	// The client has the whole stream before the handler returns (and the
	// layer settles the charge): wait for the handler between requests.
	served := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		served <- struct{}{}
	}))
	defer srv.Close()
	var hdr http.Header
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("rk_test"), option.WithMaxRetries(0),
		option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
			resp, err := next(r)
			if resp != nil {
				hdr = resp.Header
			}
			return resp, err
		}))
	params := openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	for i := range 2 {
		s := c.Chat.Completions.NewStreaming(context.Background(), params)
		var text strings.Builder
		chunks := 0
		for s.Next() {
			ch := s.Current()
			chunks++
			// The usage-only chunk rampart asked for is removed: the
			// client did not request usage and sees none.
			if len(ch.Choices) == 0 || ch.Usage.TotalTokens != 0 {
				t.Fatalf("stream %d: client received the usage chunk it did not ask for: %s", i, ch.RawJSON())
			}
			for _, choice := range ch.Choices {
				text.WriteString(choice.Delta.Content)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		s.Close()
		<-served
		if text.String() != "ok" || chunks < 2 {
			t.Fatalf("stream %d: text %q in %d chunks", i, text.String(), chunks)
		}
		if !gjson.Get(up.last(), "stream_options.include_usage").Bool() {
			t.Fatalf("upstream not asked for usage: %s", up.last())
		}
		if hdr.Get("x-ratelimit-limit-requests") != "100" {
			t.Fatalf("headers %v", hdr)
		}
	}
	// The second request found the first one's real usage charged.
	prompt := promptTokens(&conv.Conversation{Kind: conv.KindChat, Model: "gpt-4o", Messages: []conv.Message{
		{Role: conv.RoleUser, Segments: []conv.Segment{conv.NewSegment("hi", conv.SourceUser, "")}}}})
	if got, want := hdr.Get("x-ratelimit-remaining-tokens"), strconv.FormatInt(tpm-344-prompt, 10); got != want {
		t.Fatalf("remaining tokens %s, want %s", got, want)
	}
}
