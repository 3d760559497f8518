package detect

import (
	"strings"
	"testing"
)

// degenerate inputs: one token or a short phrase repeated many times. They
// carry no instruction and must not be flagged in any role; before feature
// vectors were binary, "hello "×100 scored 0.85 because a window's count
// vector grew with the repetition.
var degenerate = []string{
	strings.Repeat("hello ", 100),
	strings.Repeat("hello ", 2000),
	strings.Repeat("hello", 500),
	strings.Repeat("please help me ", 500),
	strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200),
	strings.Repeat("a ", 5000),
	strings.Repeat("1 ", 5000),
	strings.Repeat("1234567890", 3000),
	strings.Repeat("😀", 1000),
	strings.Repeat("😀 ", 1000),
	strings.Repeat("ok\n", 3000),
	strings.Repeat("!", 4000),
}

func TestDegenerateRepetitionNotFlagged(t *testing.T) {
	d := testDetector(t)
	for _, s := range degenerate {
		for _, role := range []Role{RoleUser, RoleDocument} {
			if r := d.Scan(s, role); r.Flagged {
				t.Errorf("%s: flagged (score %.3f, %v): %q…", role, r.Score, ruleIDs(r), s[:min(len(s), 40)])
			}
		}
	}
}

// Repeating a text must not raise its score: the feature vector of every
// scored span is binary, so ten copies score as two.
func TestRepetitionDoesNotRaiseScore(t *testing.T) {
	d := testDetector(t)
	for _, s := range []string{"hello", "what is the weather like today", "1", "😀"} {
		for _, role := range []Role{RoleUser, RoleDocument} {
			two := d.Scan(strings.Repeat(s+" ", 2), role).Score
			for _, n := range []int{10, 100, 1000} {
				many := d.Scan(strings.Repeat(s+" ", n), role).Score
				if many > two+1e-9 {
					t.Errorf("%s: %q×%d scores %.4f > ×2 %.4f", role, s, n, many, two)
				}
			}
		}
	}
	// An attack stays caught when padded with repetition around it.
	for _, a := range attacks {
		pad := strings.Repeat("hello ", 300)
		if r := d.Scan(pad+a+" "+pad, RoleUser); !r.Flagged {
			t.Errorf("padded attack not flagged (score %.3f): %q", r.Score, a)
		}
	}
}
