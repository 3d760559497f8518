package secrets

import (
	"slices"
	"testing"
)

// Heads are the plain (lower-case) literal starts of the rules' secrets:
// those of keys that begin with lower-case letters, not context words
// (generic rules start with a class) nor upper-case heads ("AKIA").
func TestHeads(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	hs := s.Heads()
	if !slices.IsSorted(hs) {
		t.Fatalf("not sorted: %q", hs)
	}
	for _, h := range []string{"sk", "rk", "ghp", "gho", "ghs", "ghu", "github", "glpat", "xoxb", "xoxp", "xoxe", "dop", "lin", "npm", "hf", "pplx", "shpat", "ey"} {
		if !slices.Contains(hs, h) {
			t.Errorf("head %q missing: %q", h, hs)
		}
	}
	for _, h := range []string{"akia", "a", "aiza", "adafruit", "twitter", "key", "", "0", "gh", "xox"} {
		if slices.Contains(hs, h) {
			t.Errorf("%q is no plain head", h)
		}
	}
	// a disabled rule's head goes with it; rampart's own rules stay
	s, err = New(Config{DisableGitleaks: true})
	if err != nil {
		t.Fatal(err)
	}
	if hs = s.Heads(); slices.Contains(hs, "dop") || !slices.Contains(hs, "sk") {
		t.Errorf("rampart rules only: %q", hs)
	}
}
