package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/tidwall/gjson"
)

// models.retrieve, moderations and Anthropic's count_tokens through the
// official SDKs: passed to the upstream under identity, limits and audit.
func TestPassThroughRoutesThroughSDKs(t *testing.T) {
	r := newRig(t, "")
	key, _ := r.userKey(t)
	c := r.openai(key)
	ctx := context.Background()

	t.Run("models.retrieve", func(t *testing.T) {
		for _, id := range []string{"gpt-4o", "ft:gpt-4o:acme::abc123"} {
			m, err := c.Models.Get(ctx, id)
			if err != nil || m.ID != id {
				t.Fatalf("%s: %v %+v", id, err, m)
			}
			if got := r.llm.last(t); got.Path != "/v1/models/"+id || got.Header.Get("Authorization") != "Bearer sk-upstream-provider" {
				t.Fatalf("upstream got %s %v", got.Path, got.Header.Get("Authorization"))
			}
		}
		// An unknown model is the upstream's 404, passed on.
		_, err := c.Models.Get(ctx, "no-such-model")
		var apiErr *openai.Error
		if !asErr(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown model: %v", err)
		}
		// Ids that could walk the upstream's path tree never leave rampart.
		before := r.llm.count()
		for _, p := range []string{"/v1/models/../chat/completions", "/v1/models/a/../../x", "/v1/models/%2e%2e/x", "/v1/models/a%3Fb", "/v1/models/" + strings.Repeat("a", 300)} {
			st, b := r.do(t, key, "GET", p, nil)
			if st != http.StatusNotFound || gjson.GetBytes(b, "error.code").Str == "" {
				t.Fatalf("%s: %d %s", p, st, b)
			}
		}
		if r.llm.count() != before {
			t.Fatal("a malformed model id reached the upstream")
		}
		// Without a key: 401, nothing upstream.
		if st, _ := r.do(t, "", "GET", "/v1/models/gpt-4o", nil); st != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", st)
		}
	})
	t.Run("moderations", func(t *testing.T) {
		got, err := c.Moderations.New(ctx, openai.ModerationNewParams{Model: openai.ModerationModelOmniModerationLatest,
			Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("I will hurt you")}})
		if err != nil || len(got.Results) != 1 || !got.Results[0].Flagged {
			t.Fatalf("%v %+v", err, got)
		}
		if b := r.llm.last(t).Body; gjson.GetBytes(b, "input").Str != "I will hurt you" {
			t.Fatalf("upstream got %s", b)
		}
	})
	t.Run("count_tokens", func(t *testing.T) {
		got, err := r.anthropic(key).Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "claude-sonnet-4-5",
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello there"))}})
		if err != nil || got.InputTokens != 42 {
			t.Fatalf("%v %+v", err, got)
		}
		if last := r.llm.last(t); last.Path != "/v1/messages/count_tokens" || last.Header.Get("X-Api-Key") != "ant-upstream-provider" {
			t.Fatalf("upstream got %s %v", last.Path, last.Header)
		}
	})
	t.Run("audited", func(t *testing.T) {
		_, recs := r.auditAtLeast(t, 5)
		seen := map[string]bool{}
		for _, rec := range recs {
			seen[rec.Route] = true
		}
		for _, route := range []string{"/v1/models/{id}", "/v1/moderations", "/v1/messages/count_tokens"} {
			if !seen[route] {
				t.Fatalf("no audit record for %s: %v", route, seen)
			}
		}
	})
	t.Run("a key limited to one model cannot count or moderate with another", func(t *testing.T) {
		limited, _ := r.key(t, "acme", "user", "gpt-4o-mini")
		_, err := r.anthropic(limited).Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "claude-sonnet-4-5",
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("count_tokens with a model outside the key's list: %v", err)
		}
		_, err = r.openai(limited).Moderations.New(ctx, openai.ModerationNewParams{Model: "omni-moderation-latest",
			Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("x")}})
		var apiErr *openai.Error
		if !asErr(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
			t.Fatalf("moderation with a model outside the key's list: %v", err)
		}
	})
}

func asErr(err error, target **openai.Error) bool { return errors.As(err, target) }
