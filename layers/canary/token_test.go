package canary

import (
	"testing"

	"github.com/rampart-ai/rampart/engine"
)

func TestNewShapeAndUniqueness(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 1000; i++ {
		tok := NewToken()
		if !Valid(tok) {
			t.Fatalf("NewToken() = %q: not a valid token", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestValid(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"rk-canary-0123456789abcdef", true},
		{"rk-canary-0123456789ABCDEF", false},
		{"rk-canary-0123456789abcde", false},
		{"rk-canary-0123456789abcdef0", false},
		{"xx-canary-0123456789abcdef", false},
		{"rk-canary-0123456789abcdeg", false},
		{"", false},
	}
	for _, c := range cases {
		if got := Valid(c.in); got != c.want {
			t.Errorf("Valid(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestSetGet(t *testing.T) {
	tx := &engine.Tx{}
	if _, ok := Get(tx); ok {
		t.Fatal("Get on fresh tx reported a canary")
	}
	tok := NewToken()
	Set(tx, tok)
	got, ok := Get(tx)
	if !ok || got != tok {
		t.Fatalf("Get = %q, %v; want %q, true", got, ok, tok)
	}
	// The output side reads the raw state as a plain string.
	if s, _ := tx.State("canary").(string); s != tok {
		t.Fatalf(`tx.State("canary") = %v, want the token string`, tx.State("canary"))
	}
	Set(tx, "")
	if _, ok := Get(tx); ok {
		t.Fatal("Get after Set(\"\") still reports a canary")
	}
	tx.SetState(StateKey, 42)
	if _, ok := Get(tx); ok {
		t.Fatal("Get accepted a non-string state value")
	}
}

func FuzzValid(f *testing.F) {
	f.Add("rk-canary-0123456789abcdef")
	f.Add("rk-canary-")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) && len(s) != TokenLen {
			t.Fatalf("Valid(%q) with wrong length", s)
		}
	})
}
