package rules

import (
	"strings"
	"testing"
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
