package pii

import (
	"testing"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/pii/piigen"
)

// TestSyntheticBenchmark runs the scanner over texts of the seeded
// labelled generator (seed 11, not one the recognisers were tuned on) and
// fails when precision or recall of a structured entity drops below 0.97.
// docs/DETECTION.md reports the full figures (tools/piibench).
func TestSyntheticBenchmark(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	type pr struct{ gold, found, pred, correct int }
	cs := map[string]*pr{}
	for _, e := range []string{Email, Phone, CreditCard, IBAN, USSSN, IPAddress} {
		cs[e] = &pr{}
	}
	for _, ex := range piigen.Generate(11, 600) {
		ms := s.Scan(ex.Text)
		type span struct {
			e          string
			start, end int
		}
		var got []span
		for _, m := range ms {
			got = append(got, span{m.Entity, utf8.RuneCountInString(ex.Text[:m.Start]), utf8.RuneCountInString(ex.Text[:m.End])})
		}
		for _, g := range ex.Spans {
			c := cs[g.Entity]
			if c == nil {
				continue
			}
			c.gold++
			for _, m := range got {
				if m.e == g.Entity && m.start < g.End && g.Start < m.end {
					c.found++
					break
				}
			}
		}
		for _, m := range got {
			c := cs[m.e]
			if c == nil {
				continue
			}
			c.pred++
			for _, g := range ex.Spans {
				if m.e == g.Entity && m.start < g.End && g.Start < m.end {
					c.correct++
					break
				}
			}
		}
	}
	for e, c := range cs {
		if c.gold == 0 || c.pred == 0 {
			t.Errorf("%s: %d gold, %d predicted", e, c.gold, c.pred)
			continue
		}
		p, r := float64(c.correct)/float64(c.pred), float64(c.found)/float64(c.gold)
		t.Logf("%-14s gold %4d precision %.3f recall %.3f", e, c.gold, p, r)
		if p < 0.97 || r < 0.97 {
			t.Errorf("%s: precision %.3f recall %.3f, want >= 0.97", e, p, r)
		}
	}
}
