package pricing

import (
	"path"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
)

func f(v float64) *float64 { return &v }

func TestCost(t *testing.T) {
	tab, err := New(config.Pricing{Prices: []config.Price{{Models: []string{"my-*"}, Input: 1, Output: 2, CachedInput: f(0.5)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model string
		u     conv.Usage
		want  int64
		ok    bool
	}{
		// 1000 x $0.15/1M + 500 x $0.60/1M = $0.00015 + $0.0003 = 450000 nano-USD.
		{"gpt-4o-mini", conv.Usage{PromptTokens: 1000, CompletionTokens: 500, TotalTokens: 1500}, 450_000, true},
		{"gpt-4o-mini-2024-07-18", conv.Usage{PromptTokens: 1000, CompletionTokens: 500}, 450_000, true},
		// gpt-4o: 2000 prompt of which 1000 cached: 1000x2.5 + 1000x1.25 + 100x10 (per 1M) = 2500+1250+1000 micro.
		{"gpt-4o", conv.Usage{PromptTokens: 2000, CachedPromptTokens: 1000, CompletionTokens: 100}, 4_750_000, true},
		{"claude-sonnet-4-20250514", conv.Usage{PromptTokens: 10, CompletionTokens: 10}, 180_000, true},
		// Config entries win over defaults; cached at its own price.
		{"my-model", conv.Usage{PromptTokens: 3, CachedPromptTokens: 2, CompletionTokens: 1}, 1000 + 1000 + 2000, true},
		// Total without completion: the rest is completion.
		{"my-model", conv.Usage{PromptTokens: 1, TotalTokens: 3}, 1000 + 4000, true},
		{"unknown", conv.Usage{PromptTokens: 1000}, 0, false},
		{"", conv.Usage{PromptTokens: 1000}, 0, false},
		{"gpt-4o", conv.Usage{PromptTokens: -5, CachedPromptTokens: 10}, 0, true},
	} {
		got, ok := tab.Cost(tc.model, tc.u)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %+v: %d %v, want %d %v", tc.model, tc.u, got, ok, tc.want, tc.ok)
		}
	}
	off := false
	tab, _ = New(config.Pricing{Defaults: &off})
	if _, ok := tab.Cost("gpt-4o", conv.Usage{PromptTokens: 1}); ok {
		t.Fatal("defaults off still priced")
	}
	if _, err := New(config.Pricing{Prices: []config.Price{{Models: []string{"["}}}}); err == nil {
		t.Fatal("bad pattern accepted")
	}
	if _, err := New(config.Pricing{Prices: []config.Price{{Models: []string{"x"}, Input: -1}}}); err == nil {
		t.Fatal("negative price accepted")
	}
}

func TestDefaultsTable(t *testing.T) {
	if AsOf == "" || len(Defaults()) < 10 {
		t.Fatalf("embedded table: as_of %q, %d entries", AsOf, len(Defaults()))
	}
	// Every default entry is reachable: no earlier pattern shadows it.
	tab, _ := New(config.Pricing{})
	for i, p := range Defaults() {
		for _, m := range p.Models {
			probe := m[:len(m)-1] // the pattern's literal prefix
			for j := range tab.entries[:i] {
				for _, pm := range tab.entries[j].models {
					if hit, _ := matchGlob(pm, probe); hit {
						t.Errorf("%q (entry %d) is shadowed by %q (entry %d)", m, i, pm, j)
					}
				}
			}
		}
	}
}

func TestUSD(t *testing.T) {
	for n, want := range map[int64]string{0: "0.000000", 450_000: "0.000450", 25 * NanosPerUSD: "25.000000", -1500: "-0.000002", 499: "0.000000"} {
		if got := USD(n); got != want {
			t.Errorf("USD(%d) = %s, want %s", n, got, want)
		}
	}
}

func matchGlob(p, s string) (bool, error) { return path.Match(p, s) }

func FuzzCost(f *testing.F) {
	f.Add("gpt-4o", 1000, 500, 0, 1500)
	f.Add("claude-3-haiku", -1, 1<<30, 1<<31, 0)
	f.Add("[", 1, 1, 1, 1)
	tab, _ := New(config.Pricing{})
	f.Fuzz(func(t *testing.T, model string, p, c, cached, total int) {
		n, _ := tab.Cost(model, conv.Usage{PromptTokens: p, CompletionTokens: c, CachedPromptTokens: cached, TotalTokens: total})
		if n < 0 {
			t.Fatalf("negative cost %d", n)
		}
	})
}
