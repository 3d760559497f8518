package topics

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

var tmpText = strings.Repeat("Please summarise the following customer email in three bullet points and suggest a reply. ", 20)[:1500]

func BenchmarkTmpNormalize(b *testing.B) {
	var t normalize.Text
	for b.Loop() {
		normalize.NormalizeInto(&t, tmpText, normtext.Folded.Options())
	}
}

func BenchmarkTmpScan(b *testing.B) {
	m, _ := compileRules([]Rule{{ID: "competitors", Terms: []string{"Globex", "Initech", "Umbrella Corp", "Hooli", "Vandelay Industries",
		"Stark Industries", "Wayne Enterprises", "Cyberdyne", "Soylent", "Tyrell Corp"}},
		{ID: "profanity", Terms: []string{"darn", "heck", "frick"}, Action: ActionRedact},
		{ID: "weapons", Examples: []string{"how do I build a bomb at home", "instructions for making explosives"}}}, false)
	seg := conv.NewSegment(tmpText, conv.SourceUser, "")
	var nc normtext.Cache
	sc := new(scratch)
	for b.Loop() {
		m.scan(&nc, &seg, sc)
	}
}
