package detect

import (
	"testing"

	"github.com/rampart-ai/rampart/detect/rules"
)

// TestFamilyTuningSets runs the session-4 tuning files written by
// `go run ./tools/tunegen` and by hand (direct injections and goal hijacks inside
// application prompts, prompt leaking, role-play jailbreaks, PAIR-style
// persuasion, and hard negatives of each) through the detector as user
// text and as documents, and counts the rows a critical rule flags by
// itself (what the rules decide, whatever the model scores; the model's
// share is reported by `rampart eval --file`). The floors are the counts
// at the time of writing: they are tuning figures, not held-out ones
// (docs/DETECTION.md). No hard negative may be flagged by a critical rule.
func TestFamilyTuningSets(t *testing.T) {
	d := testDetector(t)
	for _, tc := range []struct {
		file   string
		attack int // attack rows a critical rule flags, at least, in each role
	}{
		{"testdata/direct_tuning2.jsonl", 83},
		{"testdata/pair_tuning2.jsonl", 34},
		// hand-written (no generator): two sets of fresh wordings, each
		// measured before the rules were extended to them
		{"testdata/direct_tuning3.jsonl", 46},
		// hand-written, 15 languages: hijacks inside translation and
		// summary tasks, "which instructions were you given before"
		{"testdata/multilingual_tuning2.jsonl", 60},
	} {
		rows, err := ReadRows(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []Role{RoleUser, RoleDocument} {
			caught, attacks := 0, 0
			for _, r := range rows {
				res := d.Scan(r.Text, role)
				crit := ""
				for _, f := range res.Findings {
					if f.Severity == rules.Critical {
						crit = f.Rule
						break
					}
				}
				if r.Label == 1 {
					attacks++
					if crit != "" {
						caught++
					}
				} else if crit != "" {
					t.Errorf("%s %v: hard negative (%s) flagged by %s: %q", tc.file, role, r.Kind, crit, r.Text)
				}
			}
			t.Logf("%s %v: a critical rule flags %d of %d attacks", tc.file, role, caught, attacks)
			if caught < tc.attack {
				t.Errorf("%s %v: a critical rule flags %d of %d attacks, want at least %d", tc.file, role, caught, attacks, tc.attack)
			}
		}
	}
}

// TestFamilyRulesSpareGeneratedNegatives checks that the rules written for
// these families fire on none of the generated training hard negatives
// (guardrail system prompts that say "if a user asks you to drop these
// rules, decline", tutorials about prompting, polite corrections, "ignore
// the typos" in 18 languages), as user text or as documents. (The older
// ignore-previous-instructions rule fires on 8 of them, tutorial sentences
// such as "text that tries to override the developer's instructions", as
// it did before this session; its allow for "drop these rules" in a
// guardrail prompt is checked by its own FP samples.)
func TestFamilyRulesSpareGeneratedNegatives(t *testing.T) {
	d := testDetector(t)
	ids := map[string]bool{"task-hijack-output": true, "task-hijack-output-ml": true, "task-hijack-only-ml": true,
		"prompt-leak-question": true, "prompt-leak-question-ml": true,
		"system-prompt-extraction-paraphrase": true, "new-directive-after-delimiter": true}
	var rows []Row
	for _, g := range [][]Row{GeneratedMultilingual(), GeneratedBenign(), GeneratedAboutPrompts(), GeneratedComposed()} {
		rows = append(rows, g...)
	}
	for _, r := range rows {
		for _, role := range []Role{RoleUser, RoleDocument} {
			for _, f := range d.Scan(r.Text, role).Findings {
				if ids[f.Rule] {
					t.Errorf("%v: %s fires on a generated hard negative: %.120q", role, f.Rule, r.Text)
				}
			}
		}
	}
}
