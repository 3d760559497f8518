package normalize

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// Wall-clock limits here are deliberately generous (seconds for work that
// takes milliseconds): they catch quadratic blow-ups, not slowness.

func TestPathologicalZeroWidth(t *testing.T) {
	in := strings.Repeat("\u200b", 1<<20/3) // ~1 MB
	start := time.Now()
	got := Normalize(in, Options{})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if got.Norm != "" || len(got.Hidden) != 1 || got.Hidden[0].Count != len(in)/3 {
		t.Fatalf("norm %q hidden %d", got.Norm, len(got.Hidden))
	}
}

func TestPathologicalTags(t *testing.T) {
	in := strings.Repeat("\U000E0061", 1<<18)
	got := Normalize(in, Options{})
	if len(got.Hidden) != 1 || len(got.Hidden[0].Decoded) != MaxTagText {
		t.Fatalf("hidden %d decoded %d", len(got.Hidden), len(got.Hidden[0].Decoded))
	}
}

func TestPathologicalNestedBase64(t *testing.T) {
	s := secret
	for i := 0; i < 50; i++ {
		s = base64.StdEncoding.EncodeToString([]byte(s))
		if len(s) > 1<<20 {
			break
		}
	}
	start := time.Now()
	out := Decode(s, Limits{})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	checkDecoded(t, s, Limits{}, out)
	total := 0
	for _, d := range out {
		total += len(d.Text)
	}
	if total > DefaultMaxOutput {
		t.Fatalf("output %d", total)
	}
}

func TestPathologicalShortLines(t *testing.T) {
	in := strings.Repeat("ab\n", 100000)
	start := time.Now()
	got := Normalize(in, Options{KeepNewlines: true})
	out := Decode(in, Limits{})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if len(got.Norm) != len(in) || len(out) > DefaultMaxCandidates {
		t.Fatalf("norm %d out %d", len(got.Norm), len(out))
	}
}

func TestPathologicalManyCandidates(t *testing.T) {
	// 10,000 base64-looking decoys: attempts and output stay bounded.
	in := strings.Repeat("AbCdEfGhIjKlMnOpQr ", 10000)
	start := time.Now()
	out := Decode(in, Limits{})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	checkDecoded(t, in, Limits{}, out)
}

func TestPathologicalSpecialTokens(t *testing.T) {
	in := strings.Repeat("<|a", 100000) + strings.Repeat("[", 100000)
	start := time.Now()
	if sp := FindSpecialTokens(in); len(sp) != 0 {
		t.Fatalf("tokens %d", len(sp))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}
