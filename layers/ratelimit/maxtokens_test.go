package ratelimit

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// The max_tokens rules' outcome does not depend on their order: defaults
// first (never above a cap), then clamps, then block/flag.
func TestMaxTokensActions(t *testing.T) {
	clamp := func(cap, def int64) Rule {
		return Rule{Scope: ScopeGlobal, MaxTokens: cap, MaxTokensDefault: def, MaxTokensAction: MaxTokensClamp}
	}
	block := func(cap int64) Rule { return Rule{Scope: ScopeGlobal, MaxTokens: cap} }
	flag := func(cap int64) Rule { return Rule{Scope: ScopeGlobal, MaxTokens: cap, MaxTokensAction: MaxTokensFlag} }
	def := func(d int64) Rule { return Rule{Scope: ScopeGlobal, MaxTokensDefault: d} }
	cases := []struct {
		name    string
		rules   []Rule
		in      int
		out     int
		action  engine.Action
		answers int // n, best_of, candidateCount
	}{
		{"clamp above", []Rule{clamp(100, 0)}, 4000, 100, engine.Modify, 0},
		{"clamp at cap", []Rule{clamp(100, 0)}, 100, 100, engine.Allow, 0},
		{"clamp absent gets cap", []Rule{clamp(100, 0)}, 0, 100, engine.Modify, 0},
		{"clamp absent gets default", []Rule{clamp(100, 30)}, 0, 30, engine.Modify, 0},
		{"default only", []Rule{def(500)}, 0, 500, engine.Modify, 0},
		{"default leaves given value", []Rule{def(500)}, 9000, 9000, engine.Allow, 0},
		{"default capped by a block rule", []Rule{def(500), block(200)}, 0, 200, engine.Modify, 0},
		{"smallest default", []Rule{def(500), def(300)}, 0, 300, engine.Modify, 0},
		// A request without max_tokens gets the upstream's default, up to
		// the model's maximum: a block rule's cap is set on it.
		{"block without default sets its cap", []Rule{block(200)}, 0, 200, engine.Modify, 0},
		{"flag without default leaves absent", []Rule{flag(200)}, 0, 0, engine.Allow, 0},
		// A cap holds for all the answers asked for (n answers of cap/n).
		{"block n times", []Rule{block(200)}, 200, 0, engine.Block, 4},
		{"block n within", []Rule{block(200)}, 50, 50, engine.Allow, 4},
		{"clamp n", []Rule{clamp(200, 0)}, 200, 50, engine.Modify, 4},
		{"clamp n absent", []Rule{clamp(200, 0)}, 0, 50, engine.Modify, 4},
		{"block n absent", []Rule{block(200)}, 0, 50, engine.Modify, 4},
		{"clamp more answers than tokens", []Rule{clamp(3, 0)}, 3, 0, engine.Block, 4},
		{"flag n", []Rule{flag(100)}, 100, 100, engine.Flag, 2},
		{"clamp before block, either order", []Rule{block(200), clamp(50, 0)}, 1000, 50, engine.Modify, 0},
		{"clamp before block, other order", []Rule{clamp(50, 0), block(200)}, 1000, 50, engine.Modify, 0},
		{"tightest clamp", []Rule{clamp(300, 0), clamp(50, 0)}, 1000, 50, engine.Modify, 0},
		{"block above after clamp", []Rule{clamp(300, 0), block(100)}, 1000, 1000, engine.Block, 0},
		{"flag", []Rule{flag(100)}, 1000, 1000, engine.Flag, 0},
		{"flag then clamp", []Rule{flag(100), clamp(500, 0)}, 1000, 500, engine.Modify, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.rules {
				tc.rules[i].Name = "r" + string(rune('a'+i))
			}
			l, _ := newLayer(t, Config{Rules: tc.rules})
			tx := req{maxTokens: tc.in}.tx()
			tx.Request.Answers = tc.answers
			d, err := l.OnRequest(tx)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tc.action {
				t.Fatalf("action %v, want %v (%+v)", d.Action, tc.action, d)
			}
			if tc.action == engine.Block {
				if d.Code != CodeMaxTokens || d.Status != 400 {
					t.Fatalf("%+v", d)
				}
				return
			}
			if tx.Request.MaxTokens != tc.out {
				t.Fatalf("max tokens %d, want %d", tx.Request.MaxTokens, tc.out)
			}
			if (tc.action == engine.Modify || tc.action == engine.Flag) && len(d.Findings) == 0 {
				t.Fatal("no finding")
			}
		})
	}
}

// Embeddings have no output cap: defaults and caps leave them alone.
func TestMaxTokensNotForEmbeddings(t *testing.T) {
	l, _ := newLayer(t, Config{Rules: []Rule{{Scope: ScopeGlobal, MaxTokens: 10, MaxTokensDefault: 5, MaxTokensAction: MaxTokensClamp}}})
	tx := req{}.tx()
	tx.Request.Kind = conv.KindEmbedding
	if d, _ := l.OnRequest(tx); d.Action != engine.Allow || tx.Request.MaxTokens != 0 {
		t.Fatalf("%+v %d", d, tx.Request.MaxTokens)
	}
}

// A stream with token limits whose client did not ask for usage gets it
// asked for (WantUsage), and the usage-only event is dropped for the client
// while its usage is kept; with usage asked by the client nothing is
// dropped; rpm and concurrency alone need no usage.
func TestStreamUsageRequest(t *testing.T) {
	usageEv := func() *conv.StreamEvent {
		return &conv.StreamEvent{Usage: &conv.Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12}}
	}
	cases := []struct {
		name         string
		rule         Rule
		mode         string // stream_usage
		stream, incl bool
		want         bool
	}{
		{"tpm stream", Rule{Scope: ScopeGlobal, TPM: 1000}, "", true, false, true},
		{"budget stream", Rule{Scope: ScopeGlobal, BudgetDay: 1000}, StreamUsageAsk, true, false, true},
		{"estimate mode", Rule{Scope: ScopeGlobal, TPM: 1000}, StreamUsageEstimate, true, false, false},
		{"client asked", Rule{Scope: ScopeGlobal, TPM: 1000}, "", true, true, false},
		{"not a stream", Rule{Scope: ScopeGlobal, TPM: 1000}, "", false, false, false},
		{"rpm only", Rule{Scope: ScopeGlobal, RPM: 10, MaxParallel: 2}, "", true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := newLayer(t, Config{StreamUsage: tc.mode, Rules: []Rule{tc.rule}})
			tx := req{}.tx()
			tx.Request.Stream, tx.Request.IncludeUsage = tc.stream, tc.incl
			if _, err := l.OnRequest(tx); err != nil {
				t.Fatal(err)
			}
			if tx.Request.WantUsage != tc.want {
				t.Fatalf("WantUsage %v", tx.Request.WantUsage)
			}
			text := &conv.StreamEvent{Deltas: []conv.Delta{conv.NewDelta(0, "hi", "choices.0.delta.content")},
				Usage: &conv.Usage{TotalTokens: 3}}
			fin := &conv.StreamEvent{FinishReason: map[int]string{0: "stop"}, Usage: &conv.Usage{TotalTokens: 3}}
			ev := usageEv()
			for _, e := range []*conv.StreamEvent{text, fin, ev} {
				if _, err := l.OnStreamEvent(tx, e); err != nil {
					t.Fatal(err)
				}
			}
			if text.Drop || fin.Drop {
				t.Fatal("dropped an event with content")
			}
			if ev.Drop != tc.want {
				t.Fatalf("usage-only event dropped: %v", ev.Drop)
			}
			l.OnFinish(tx)
		})
	}
}
