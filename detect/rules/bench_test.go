package rules

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/bench/prompttext"
	"github.com/rampart-ai/rampart/internal/acdfa"
)

// Match over 2 KB of ordinary prose, as user text and as a document: one
// automaton pass for keywords and co-occurrence stems, then the regexes of
// the rules whose keywords occur.
func BenchmarkMatch2KB(b *testing.B) {
	text := prep(strings.Repeat("The quarterly report covers revenue, costs and headcount across all regions. "+
		"The board approved the budget for the next fiscal year after a short discussion. ", 13))[:2048]
	s, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, untrusted := range []bool{false, true} {
		name := "user"
		if untrusted {
			name = "document"
		}
		b.Run(name, func(b *testing.B) {
			var sc Scratch
			for i := 0; i < b.N; i++ {
				s.Match(text, untrusted, &sc, nil)
			}
		})
	}
}

// The keyword automaton's walk over a 2 KB prompt, with the caches warm
// (the text walked again and again, as in a detector benchmark) and cold
// (32 MiB of other memory written between walks, as a gateway's other work
// does between two requests): the automaton's table is large, and in the
// server its cost is memory latency, not instructions.
func BenchmarkWalk2KB(b *testing.B) {
	text := prep(prompttext.Text(2048))
	s, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	count := func(end, l, p int) { n++ }
	b.Run("warm", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			acdfa.Walk(s.keywords, text, count)
		}
	})
	b.Run("cold", func(b *testing.B) {
		junk := make([]byte, 32<<20)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for j := 0; j < len(junk); j += 64 {
				junk[j]++
			}
			b.StartTimer()
			acdfa.Walk(s.keywords, text, count)
		}
	})
}
