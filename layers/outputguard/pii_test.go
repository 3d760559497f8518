package outputguard

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/engine"
)

// Cards written with dots or slashes between the groups, or of brands
// outside the first four (JCB 15, Maestro 12, Mir), are redacted in whole
// and streamed answers alike; one entity per span reaches the findings.
func TestCardSeparatorsRedacted(t *testing.T) {
	l := provisioned(t, Config{})
	for _, card := range []string{"4111.1111.1111.1111", "4111/1111/1111/1111", "5555 5555 5555 4444", "213100000000001", "501800000009", "2200 0000 0000 0004"} {
		text := "your card " + card + " is on file"
		fs, out := l.ScanText(text)
		if strings.Contains(out, card) || !strings.Contains(out, "[CREDIT_CARD]") {
			t.Errorf("%s: answer %q", card, out)
		}
		if len(fs) != 1 || fs[0].Entity != "CREDIT_CARD" {
			t.Errorf("%s: findings %+v", card, fs)
		}
		var chunks []string
		for i := 0; i < len(text); i += 3 {
			chunks = append(chunks, text[i:min(i+3, len(text))])
		}
		got, _ := streamAll(t, l, &engine.Tx{}, chunks)
		if strings.Contains(got, card) {
			t.Errorf("%s: streamed answer %q", card, got)
		}
	}
	// An SSN next to its label is one US_SSN finding, not also a phone.
	fs, _ := l.ScanText("Social Security Number 123-45-6789, phone 212-555-0147x305")
	var ents []string
	for _, f := range fs {
		ents = append(ents, f.Entity)
	}
	if strings.Join(ents, ",") != "US_SSN,PHONE_NUMBER" {
		t.Errorf("findings %v", ents)
	}
}
