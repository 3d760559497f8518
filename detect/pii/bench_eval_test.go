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

// TestNamesAndAddresses measures the optional PERSON and STREET_ADDRESS
// recognisers on the generator's texts (seed 11) and checks they are off
// unless listed.
func TestNamesAndAddresses(t *testing.T) {
	def, _ := New(Config{})
	if ms := def.Scan("Dr. Jane Smith lives at 12 Baker Street"); len(ms) != 0 {
		t.Fatalf("optional entities on by default: %v", ms)
	}
	s, err := New(Config{Entities: []string{Person, StreetAddress, Location}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, entity, want string }{
		{"She moved to Lyon last year", Location, "Lyon"},
		{"12 Baker Street, Springfield IL 62701", Location, "Springfield"},
		{"born in Rio de Janeiro, Brazil", Location, "Rio de Janeiro"},
		{"Rue de Rivoli 10, 75001 Paris", Location, "Paris"},
		{"Damrak 1, 1012 LG Amsterdam", Location, "Amsterdam"},
		{"Rua de Santa Catarina 10, 4000-447 Porto", Location, "Porto"},
		{"221B Baker St, London NW1 6XE", Location, "London"},
		{"Dr. Jane Smith called", Person, "Dr. Jane Smith"},
		{"ask Maria Garcia today", Person, "Maria Garcia"},
		{"She lives at 12 Baker Street, London", StreetAddress, "12 Baker Street"},
		{"Ship to 10452 Smith Ways Apt. 331, Springfield", StreetAddress, "10452 Smith Ways Apt. 331"},
		{"Büro: Hauptstraße 12, Berlin", StreetAddress, "Hauptstraße 12"},
	} {
		found := false
		for _, m := range s.Scan(c.text) {
			if m.Entity == c.entity && c.text[m.Start:m.End] == c.want {
				found = true
			}
		}
		if !found {
			t.Errorf("%s %q not found in %q: %v", c.entity, c.want, c.text, s.Scan(c.text))
		}
	}
	for _, text := range []string{"May I help you?", "The Royal Bank results", "Will Power is a film", "version 12 is out", "Paris is a name here", "Best regards, Mobile team"} {
		for _, m := range s.Scan(text) {
			t.Errorf("false positive %s %q in %q", m.Entity, text[m.Start:m.End], text)
		}
	}
	type pr struct{ gold, found, pred, correct int }
	cs := map[string]*pr{Person: {}, StreetAddress: {}, Location: {}}
	for _, ex := range piigen.Generate(11, 600) {
		var got [][3]int
		var ents []string
		for _, m := range s.Scan(ex.Text) {
			got = append(got, [3]int{utf8.RuneCountInString(ex.Text[:m.Start]), utf8.RuneCountInString(ex.Text[:m.End])})
			ents = append(ents, m.Entity)
		}
		for _, g := range ex.Spans {
			if c := cs[g.Entity]; c != nil {
				c.gold++
				for i, m := range got {
					if ents[i] == g.Entity && m[0] < g.End && g.Start < m[1] {
						c.found++
						break
					}
				}
			}
		}
		for i, m := range got {
			if c := cs[ents[i]]; c != nil {
				c.pred++
				for _, g := range ex.Spans {
					if ents[i] == g.Entity && m[0] < g.End && g.Start < m[1] {
						c.correct++
						break
					}
				}
			}
		}
	}
	for e, c := range cs {
		p, r := float64(c.correct)/float64(max(c.pred, 1)), float64(c.found)/float64(max(c.gold, 1))
		t.Logf("%-14s gold %4d precision %.3f recall %.3f", e, c.gold, p, r)
		if c.gold == 0 || p < 0.8 || r < 0.7 {
			t.Errorf("%s: precision %.3f recall %.3f", e, p, r)
		}
	}
}
