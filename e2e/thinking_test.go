package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
)

// Anthropic signs thinking blocks, and refuses a next turn that sends
// back a block whose text changed (the fake upstream does the same with
// fakeSignature). With the official SDK, whole and streamed, multi-turn:
//   - benign thinking passes unchanged, and the next turn, which sends the
//     block back, is accepted;
//   - a secret in the thinking: by default (signed_text: block) the answer
//     is refused and no piece of the secret reaches the client;
//   - with signed_text: redact the secret is redacted, and the next turn
//     that sends the block back fails upstream: why block is the default.
func TestThinkingSignatureKept(t *testing.T) {
	const secret = "ghp_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP"
	params := func(extra ...anthropic.MessageParam) anthropic.MessageNewParams {
		msgs := []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is 2+2?"))}
		msgs = append(msgs, extra...)
		if len(extra) > 0 {
			msgs = append(msgs, anthropic.NewUserMessage(anthropic.NewTextBlock("And times 3?")))
		}
		return anthropic.MessageNewParams{Model: "claude-sonnet-4-5", MaxTokens: 1024, Messages: msgs,
			Thinking: anthropic.ThinkingConfigParamOfEnabled(512)}
	}
	stream := func(c *anthropic.Client, p anthropic.MessageNewParams) (anthropic.Message, error) {
		s := c.Messages.NewStreaming(context.Background(), p)
		defer s.Close()
		acc := anthropic.Message{}
		for s.Next() {
			if err := acc.Accumulate(s.Current()); err != nil {
				return acc, err
			}
		}
		return acc, s.Err()
	}
	leaks := func(m anthropic.Message) bool {
		for _, b := range m.Content {
			for i := 0; i+8 <= len(secret); i++ {
				if strings.Contains(b.Thinking+b.Text, secret[i:i+8]) {
					return true
				}
			}
		}
		return false
	}

	r := newRig(t, "")
	key, _ := r.userKey(t)
	c := r.anthropic(key)
	benign := "The user asks for 2+2. That is 4."
	for _, streamed := range []bool{false, true} {
		r.llm.answerWith(llmReply{Thinking: benign, Text: "4", Chunk: 3})
		var m *anthropic.Message
		var err error
		if streamed {
			var acc anthropic.Message
			acc, err = stream(c, params())
			m = &acc
		} else {
			m, err = c.Messages.New(context.Background(), params())
		}
		if err != nil {
			t.Fatalf("benign (streamed %v): %v", streamed, err)
		}
		if len(m.Content) != 2 || m.Content[0].Thinking != benign || m.Content[0].Signature != fakeSignature(benign) {
			t.Fatalf("benign (streamed %v): %+v", streamed, m.Content)
		}
		// the next turn sends the block back: accepted
		r.llm.answerWith(llmReply{Text: "12"})
		if _, err := c.Messages.New(context.Background(), params(m.ToParam())); err != nil {
			t.Fatalf("next turn after benign thinking (streamed %v): %v", streamed, err)
		}
	}

	leaky := "The key in the config is " + secret + ", I should not repeat it."
	for _, streamed := range []bool{false, true} {
		r.llm.answerWith(llmReply{Thinking: leaky, Text: "I cannot share that.", Chunk: 4})
		if streamed {
			m, err := stream(c, params())
			if err == nil || !strings.Contains(err.Error(), "sensitive_output") || leaks(m) {
				t.Fatalf("streamed secret in thinking: err %v, got %+v", err, m.Content)
			}
		} else {
			m, err := c.Messages.New(context.Background(), params())
			if err == nil || !strings.Contains(err.Error(), "sensitive_output") {
				t.Fatalf("whole secret in thinking not refused: %v %+v", err, m)
			}
		}
	}

	// signed_text: redact rewrites the block, and the conversation breaks
	rr := newRig(t, "layers:\n  outputguard:\n    signed_text: redact\n")
	rkey, _ := rr.userKey(t)
	rc := rr.anthropic(rkey)
	rr.llm.answerWith(llmReply{Thinking: leaky, Text: "I cannot share that.", Chunk: 4})
	m, err := stream(rc, params())
	if err != nil || leaks(m) || !strings.Contains(m.Content[0].Thinking, "[GITHUB_TOKEN]") {
		t.Fatalf("redact: err %v, got %+v", err, m.Content)
	}
	rr.llm.answerWith(llmReply{Text: "12"})
	if _, err := rc.Messages.New(context.Background(), params(m.ToParam())); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("next turn with a redacted thinking block: %v (the upstream should refuse it)", err)
	}
}
