package outputguard

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/anthropic"
	"github.com/rampart-ai/rampart/provider/openai"
)

// The secret the side-channel tests try to get out, and its halves (a
// streamed channel carries it in two deltas).
const (
	chanSecret = "ghp_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP"
	chanA      = "ghp_VVEqZe2qpUWnoVPD"
	chanB      = "F2yeE6RsXcNOPmeMjvqP"
)

// wholeThrough runs a whole response body through adapter and layer and
// returns what the client receives (or "" when blocked) and the decision.
func wholeThrough(t *testing.T, a provider.Adapter, l *Layer, body string) (string, engine.Decision) {
	t.Helper()
	return wholeThroughKind(t, a, l, body, conv.KindChat)
}

func wholeThroughKind(t *testing.T, a provider.Adapter, l *Layer, body string, kind conv.Kind) (string, engine.Decision) {
	t.Helper()
	r, err := a.ParseResponse([]byte(body), kind)
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.OnResponse(&engine.Tx{}, r)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action == engine.Block {
		return "", d
	}
	out, err := a.EncodeResponse([]byte(body), r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), d
}

// streamThrough runs SSE events (name, data) through adapter and layer and
// returns every payload the client receives until the end or a block.
func streamThrough(t *testing.T, a provider.Adapter, l *Layer, events [][2]string) (string, bool) {
	t.Helper()
	tx := &engine.Tx{}
	var b strings.Builder
	for i, e := range events {
		var ev conv.StreamEvent
		if err := a.ParseStreamEvent(e[0], []byte(e[1]), &ev); err != nil {
			t.Fatalf("%s: %v", e[1], err)
		}
		ev.Seq = i
		d, err := l.OnStreamEvent(tx, &ev)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action == engine.Block {
			return b.String(), true
		}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(out)
		b.WriteByte('\n')
	}
	ev := conv.StreamEvent{Synthetic: true, Data: []byte(events[0][1])}
	d, err := l.OnStreamEnd(tx, &ev)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action == engine.Block {
		return b.String(), true
	}
	if len(ev.Deltas) > 0 {
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(out)
	}
	return b.String(), false
}

func TestSideChannelsWhole(t *testing.T) {
	l := provisioned(t, Config{})
	oa, an := openai.New(), anthropic.New()
	msg := func(fields string) string {
		return `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant",` + fields + `},"finish_reason":"stop"}]}`
	}
	cases := []struct {
		name    string
		a       provider.Adapter
		body    string
		blocked bool // a channel that cannot be rewritten blocks
	}{
		{"openai content", oa, msg(`"content":"token ` + chanSecret + `"`), false},
		{"openai refusal", oa, msg(`"content":null,"refusal":"I cannot share ` + chanSecret + `"`), false},
		{"openai reasoning_content", oa, msg(`"content":"ok","reasoning_content":"the token is ` + chanSecret + `"`), false},
		{"openai reasoning", oa, msg(`"content":"ok","reasoning":"the token is ` + chanSecret + `"`), false},
		{"openai audio transcript", oa, msg(`"content":null,"audio":{"id":"a","data":"","transcript":"the token is ` + chanSecret + `"}`), false},
		{"openai tool call arguments", oa, msg(`"content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"send","arguments":"{\"body\":\"` + chanSecret + `\"}"}}]`), true},
		{"openai tool call arguments escaped", oa, msg(`"content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"send","arguments":"{\"body\":\"\\u0067hp_VVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqP\"}"}}]`), true},
		{"anthropic thinking", an, `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"thinking","thinking":"the token is ` + chanSecret + `","signature":"s"},{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`, true},
		{"anthropic tool_use input", an, `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"tool_use","id":"t","name":"send","input":{"body":"` + chanSecret + `"}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, d := wholeThrough(t, c.a, l, c.body)
			if strings.Contains(out, chanA) || strings.Contains(out, chanB) {
				t.Fatalf("secret passed: %s", out)
			}
			if (d.Action == engine.Block) != c.blocked {
				t.Errorf("action %v, want blocked=%v (%+v)", d.Action, c.blocked, d.Findings)
			}
			if len(d.Findings) == 0 {
				t.Error("no finding")
			}
		})
	}
}

func TestSideChannelsStreamed(t *testing.T) {
	l := provisioned(t, Config{})
	oa, an := openai.New(), anthropic.New()
	chunk := func(delta string) [2]string {
		return [2]string{"", `{"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":` + delta + `}]}`}
	}
	ablock := func(delta string) [2]string {
		return [2]string{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":` + delta + `}`}
	}
	cases := []struct {
		name    string
		a       provider.Adapter
		events  [][2]string
		blocked bool
	}{
		{"openai refusal deltas", oa, [][2]string{chunk(`{"refusal":"I cannot share "}`), chunk(`{"refusal":"` + chanA + `"}`), chunk(`{"refusal":"` + chanB + ` sorry"}`), {"", "[DONE]"}}, false},
		{"openai reasoning_content deltas", oa, [][2]string{chunk(`{"reasoning_content":"token "}`), chunk(`{"reasoning_content":"` + chanA + `"}`), chunk(`{"reasoning_content":"` + chanB + `"}`), chunk(`{"content":"done"}`), {"", "[DONE]"}}, false},
		{"openai tool call argument deltas", oa, [][2]string{
			chunk(`{"tool_calls":[{"index":0,"id":"1","type":"function","function":{"name":"send","arguments":""}}]}`),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"body\":\"` + chanA + `"}}]}`),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"` + chanB + `\"}"}}]}`), {"", "[DONE]"}}, true},
		{"anthropic thinking deltas", an, [][2]string{
			{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`},
			ablock(`{"type":"thinking_delta","thinking":"token "}`), ablock(`{"type":"thinking_delta","thinking":"` + chanA + `"}`),
			ablock(`{"type":"thinking_delta","thinking":"` + chanB + `"}`)}, true},
		{"anthropic tool_use input deltas", an, [][2]string{
			{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"send","input":{}}}`},
			ablock(`{"type":"input_json_delta","partial_json":"{\"body\":\"` + chanA + `"}`),
			ablock(`{"type":"input_json_delta","partial_json":"` + chanB + `\"}"}`)}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, blocked := streamThrough(t, c.a, l, c.events)
			if strings.Contains(out, chanB) || strings.Contains(out, chanSecret) {
				t.Fatalf("secret passed: %s", out)
			}
			if blocked != c.blocked {
				t.Errorf("blocked %v, want %v; client got %s", blocked, c.blocked, out)
			}
			if !c.blocked && strings.Contains(out, chanA) {
				t.Errorf("first half passed: %s", out)
			}
		})
	}
}

// TestSignedTextNotEscaped: escape_html does not touch signed text (an
// Anthropic thinking block), whole or streamed: escaping "<" or "&" there
// would break the block's signature, and the layer would block the answer
// for a rewrite nothing asked for. The text block beside it is escaped.
func TestSignedTextNotEscaped(t *testing.T) {
	l := provisioned(t, Config{Links: LinksConfig{EscapeHTML: true}})
	an := anthropic.New()
	body := `{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"thinking","thinking":"if a < b && c > d then swap","signature":"s"},{"type":"text","text":"x < y"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`
	out, d := wholeThrough(t, an, l, body)
	if d.Action == engine.Block || !strings.Contains(out, `"thinking":"if a < b && c > d then swap"`) || !strings.Contains(out, `x &lt; y`) {
		t.Fatalf("whole: %v %+v\n%s", d.Action, d.Findings, out)
	}
	ablock := func(delta string) [2]string {
		return [2]string{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":` + delta + `}`}
	}
	sout, blocked := streamThrough(t, an, l, [][2]string{
		{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`},
		ablock(`{"type":"thinking_delta","thinking":"if a < b && c > d "}`), ablock(`{"type":"thinking_delta","thinking":"then swap"}`)})
	if blocked || strings.Contains(sout, "&lt;") || strings.Contains(sout, "&amp;") {
		t.Fatalf("stream: blocked %v\n%s", blocked, sout)
	}
}
