package detect

import (
	"path/filepath"
	"strings"
	"testing"
)

// heldOutTexts is every text that measures the detector and must not be
// trained on: the dev and test splits, the held-out and tuning files of
// testdata, and the probe lists.
func heldOutTexts(t *testing.T) []Row {
	t.Helper()
	var held []Row
	for _, f := range []string{"../data/injection/dev.jsonl", "../data/injection/test.jsonl"} {
		rows, err := ReadRows(f)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, rows...)
	}
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata: %v", err)
	}
	for _, f := range files {
		rows, err := ReadRows(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		held = append(held, rows...)
	}
	return append(held, lineRows(t, "testdata/short_benign.txt", "testdata/short_attacks.txt")...)
}

// noSharedPhrase fails the test for a generated row that shares an 8-word
// shingle with, or repeats, a held-out text.
func noSharedPhrase(t *testing.T, gen []Row) {
	t.Helper()
	held := heldOutTexts(t)
	whole := map[string]bool{}
	for _, h := range held {
		whole[strings.ToLower(strings.TrimSpace(h.Text))] = true
	}
	for _, r := range gen {
		if whole[strings.ToLower(r.Text)] {
			t.Errorf("generated row repeats a held-out text: %q", r.Text)
		}
	}
	for _, l := range LeakingShingles(held, gen, 10) {
		t.Errorf("generated row shares an 8-word phrase with a held-out text: %q / %.120q", gen[l.B].Text, held[l.A].Text)
	}
}

// TestGeneratedOverDefenseHeldOut: the over-defense hard negatives are
// label 0, of the generated kinds (so never in a threshold pool), carry the
// trigger words they are for, are deterministic, and share no 8-word
// phrase with dev, test, the held-out files (among them
// testdata/overdefense_heldout.jsonl, which measures them) or the probes.
func TestGeneratedOverDefenseHeldOut(t *testing.T) {
	gen := GeneratedOverDefense(DefaultTrainConfig().Seed)
	if len(gen) < 250 {
		t.Fatalf("only %d rows", len(gen))
	}
	words := map[string]int{}
	for _, r := range gen {
		if r.Label != 0 || (r.Kind != KindGenerated && r.Kind != KindGeneratedDocument) {
			t.Errorf("bad generated row %+v", r)
		}
		low := strings.ToLower(r.Text)
		for _, w := range []string{"ignore", "bypass", "override", "system prompt", "act as", "pretend", "disregard"} {
			if strings.Contains(low, w) {
				words[w]++
			}
		}
	}
	for _, w := range []string{"ignore", "bypass", "override", "system prompt", "act as", "pretend", "disregard"} {
		if words[w] < 3 {
			t.Errorf("only %d rows with %q", words[w], w)
		}
	}
	again := GeneratedOverDefense(DefaultTrainConfig().Seed)
	for i := range gen {
		if gen[i] != again[i] {
			t.Fatalf("row %d differs between two runs", i)
		}
	}
	noSharedPhrase(t, gen)
}

// TestGeneratedShortAttacksHeldOut: the generated short attacks are label
// 1, short, user role, never a probe of TestShortPrompts, and share no
// 8-word phrase with the held-out texts.
func TestGeneratedShortAttacksHeldOut(t *testing.T) {
	gen := GeneratedShortAttacks(DefaultTrainConfig().Seed)
	if len(gen) < 100 {
		t.Fatalf("only %d rows", len(gen))
	}
	for _, r := range gen {
		if r.Label != 1 || r.Kind != KindGeneratedAttack || RoleForKind(r.Kind) != RoleUser || len(strings.Fields(r.Text)) > 16 {
			t.Errorf("bad generated row %+v", r)
		}
	}
	noSharedPhrase(t, gen)
}
