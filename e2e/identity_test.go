package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// TestIdentityKeysThroughSDK walks the key lifecycle of the real gateway:
// bootstrap admin key, tenant and user key made with the admin API, no key,
// viewer key, model allow-lists and revocation.
func TestIdentityKeysThroughSDK(t *testing.T) {
	r := newRig(t, "")
	ctx := context.Background()

	// The bootstrap admin key printed at first start works with the SDK, and
	// the upstream gets the provider credential, never the client's key.
	c, err := r.openai(r.admin).Chat.Completions.New(ctx, userChat("gpt-4o", "hello there"))
	if err != nil {
		t.Fatalf("bootstrap admin key: %v", err)
	}
	if c.Choices[0].Message.Content != "You said: hello there" {
		t.Fatalf("answer %q", c.Choices[0].Message.Content)
	}
	if h := r.llm.last(t).Header; h.Get("Authorization") != "Bearer sk-upstream-provider" {
		t.Fatalf("upstream Authorization %q", h.Get("Authorization"))
	}

	userKey, userID := r.userKey(t)
	c, err = r.openai(userKey).Chat.Completions.New(ctx, userChat("gpt-4o", "hi from acme"))
	if err != nil || c.Choices[0].Message.Content != "You said: hi from acme" {
		t.Fatalf("user key: %v %+v", err, c)
	}
	if strings.Contains(string(r.llm.last(t).Body), userKey) || strings.Contains(r.llm.last(t).Header.Get("Authorization"), userKey) {
		t.Fatal("the client's rampart key reached the upstream")
	}
	// A user key is no admin.
	if st, b := r.do(t, userKey, "POST", "/admin/keys", map[string]any{"name": "x", "role": "user"}); st != http.StatusForbidden {
		t.Fatalf("user key creating a key: %d %s", st, b)
	}

	t.Run("no key", func(t *testing.T) {
		before := r.llm.count()
		_, err := r.openai("").Chat.Completions.New(ctx, userChat("gpt-4o", "hi"), option.WithHeaderDel("Authorization"))
		e := wantAPIError(t, err, http.StatusUnauthorized, "invalid_api_key")
		if e.Type != "authentication_error" || e.Message == "" {
			t.Fatalf("error body not OpenAI-shaped: %s", e.RawJSON())
		}
		// The Anthropic route answers in Anthropic's error shape.
		st, b := r.do(t, "", "POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
		if st != http.StatusUnauthorized || gjson.GetBytes(b, "type").String() != "error" ||
			gjson.GetBytes(b, "error.type").String() != "authentication_error" {
			t.Fatalf("anthropic route without key: %d %s", st, b)
		}
		// With a wrong key the Anthropic SDK reports the 401.
		_, err = r.anthropic("rk_"+strings.Repeat("B", 43)).Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 10,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
		var ae *anthropic.Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized {
			t.Fatalf("anthropic with a wrong key: %v", err)
		}
		// A made-up key of the right shape fails the same way.
		_, err = r.openai("rk_"+strings.Repeat("A", 43)).Chat.Completions.New(ctx, userChat("gpt-4o", "hi"))
		wantAPIError(t, err, http.StatusUnauthorized, "invalid_api_key")
		if r.llm.count() != before {
			t.Fatal("an unauthenticated request reached the upstream")
		}
	})

	t.Run("viewer key", func(t *testing.T) {
		viewer, _ := r.key(t, "acme", "viewer")
		_, err := r.openai(viewer).Chat.Completions.New(ctx, userChat("gpt-4o", "hi"))
		e := wantAPIError(t, err, http.StatusForbidden, "permission_denied")
		if e.Type != "permission_error" {
			t.Fatalf("type %q", e.Type)
		}
		// Reading the audit log is a read permission: allowed.
		if st, b := r.do(t, viewer, "GET", "/admin/audit", nil); st != http.StatusOK {
			t.Fatalf("viewer reading audit: %d %s", st, b)
		}
	})

	t.Run("model allow-lists", func(t *testing.T) {
		narrow, _ := r.key(t, "acme", "user", "gpt-4o*")
		if _, err := r.openai(narrow).Chat.Completions.New(ctx, userChat("gpt-4o-mini", "hi")); err != nil {
			t.Fatalf("allowed model: %v", err)
		}
		_, err := r.openai(narrow).Chat.Completions.New(ctx, userChat("gpt-3.5-turbo", "hi"))
		wantAPIError(t, err, http.StatusForbidden, "model_not_allowed")

		// The tenant's list applies to every key of the tenant.
		r.tenant(t, "globex", "claude-*")
		gk, _ := r.key(t, "globex", "user")
		_, err = r.openai(gk).Chat.Completions.New(ctx, userChat("gpt-4o", "hi"))
		wantAPIError(t, err, http.StatusForbidden, "model_not_allowed")
		m, err := r.anthropic(gk).Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 10,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi claude"))}})
		if err != nil || len(m.Content) != 1 || m.Content[0].Text != "You said: hi claude" {
			t.Fatalf("tenant-allowed model via Anthropic SDK: %v %+v", err, m)
		}
	})

	t.Run("revoked key", func(t *testing.T) {
		k, id := r.key(t, "acme", "user")
		if _, err := r.openai(k).Chat.Completions.New(ctx, userChat("gpt-4o", "hi")); err != nil {
			t.Fatalf("fresh key: %v", err)
		}
		st, b := r.do(t, r.admin, "DELETE", "/admin/keys/"+id, nil)
		if st != http.StatusOK || gjson.GetBytes(b, "revoked_at").String() == "" {
			t.Fatalf("revoke: %d %s", st, b)
		}
		_, err := r.openai(k).Chat.Completions.New(ctx, userChat("gpt-4o", "hi"))
		wantAPIError(t, err, http.StatusUnauthorized, "invalid_api_key")
	})

	// The audit records of the user key's call name its tenant and key.
	_, recs := r.audit(t)
	found := false
	for _, rec := range recs {
		if rec.KeyID == userID && rec.Tenant == "acme" && rec.Status == http.StatusOK {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit record with tenant acme and key %s among %d", userID, len(recs))
	}
}

// TestRejectedRequestKeepsConnection sends requests that the identity
// layer refuses before the body is read, over one keep-alive connection:
// each gets its 401, the server does not panic (see panicLog) and the
// connection is reused.
func TestRejectedRequestKeepsConnection(t *testing.T) {
	r := newRig(t, "")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	reused := 0
	for i := 0; i < 4; i++ {
		req, _ := http.NewRequest("POST", r.url+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(ci httptrace.GotConnInfo) {
				if ci.Reused {
					reused++
				}
			}}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	if reused != 3 {
		t.Fatalf("keep-alive connection reused %d times, want 3: the server dropped it after a rejected request", reused)
	}
}
