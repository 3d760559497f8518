package extraction

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

// relationCases are pairs of prompts (earlier, later) and how the later one
// relates to the earlier; also the fuzz seed corpus.
var relationCases = []struct {
	name      string
	a, b      string
	templated bool
	sweep     bool
}{
	{"exact repeat", "What is the capital of France?", "what is the capital of france", true, false},
	{"incrementing id", "Describe product SKU-1041 in one sentence.", "Describe product SKU-1042 in one sentence.", true, true},
	{"enumerated letter", "What is option A of the list?", "What is option B of the list?", true, true},
	{"number in middle", "Give me 5 facts about cats", "Give me 6 facts about cats", true, true},
	{"slot from a list", "Translate 'apple' into French.", "Translate 'banana' into French.", false, true},
	{"template opening, long slot", "Classify the sentiment of the following review: the battery died after two days and support never answered",
		"Classify the sentiment of the following review: great pasta, friendly staff, we will come back with friends", true, false},
	{"near duplicate long text", "Please summarise the key ideas of the article about renewable energy adoption in rural areas, focusing on costs and policy and the role of local cooperatives",
		"Please summarise the key ideas of the article about renewable energy adoption in rural areas, focusing on costs and policy and the role of regional cooperatives", true, false},
	{"unrelated", "How do I bake sourdough bread at home?", "Explain the difference between TCP and UDP.", false, false},
	{"same first word only", "How do I bake sourdough bread?", "How long does a flight to Tokyo take from here?", false, false},
	{"unicode case", "ÉCOLE numéro 7 à Paris", "école numéro 8 à paris", false, true},
	{"short sweep, no shared opening", "SKU 1041?", "SKU 1042?", false, true},
	{"one word", "hello", "hello", true, false},
	{"one word differs", "hello", "goodbye", false, false},
}

func TestRelations(t *testing.T) {
	for _, c := range relationCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := analyse(c.a), analyse(c.b)
			f := relate(&b, &a, Defaults().HammingThreshold)
			if got := f&flagTemplated != 0; got != c.templated {
				t.Errorf("templated = %v, want %v (hamming %d)", got, c.templated, hamming(a.sim, b.sim))
			}
			if got := f&flagSweep != 0; got != c.sweep {
				t.Errorf("sweep = %v, want %v", got, c.sweep)
			}
		})
	}
}

// TestSimHashDistance checks that SimHash distance follows text overlap:
// identical texts give 0, one changed word in a long text little, and
// unrelated texts about half the bits.
func TestSimHashDistance(t *testing.T) {
	long := strings.Repeat("the quick brown fox jumps over the lazy dog near the river bank ", 8)
	if d := hamming(analyse(long).sim, analyse(long).sim); d != 0 {
		t.Fatalf("same text: %d", d)
	}
	if d := hamming(analyse(long).sim, analyse(long+" again").sim); d > 4 {
		t.Fatalf("one added word in a long text: %d bits differ", d)
	}
	a := analyse("kubernetes pod scheduling latency under heavy cluster load with many nodes")
	b := analyse("grandmother's recipe for chocolate cake with butter and sugar frosting")
	if d := hamming(a.sim, b.sim); d < 16 {
		t.Fatalf("unrelated texts only %d bits apart", d)
	}
}

func TestAnalyseCounts(t *testing.T) {
	s := analyse("Item #17, option b: SKU-0042 (see page 3)")
	// words: item 17 option b sku 0042 see page 3
	if s.words != 9 || s.enums != 4 {
		t.Fatalf("words %d enums %d", s.words, s.enums)
	}
	if e := analyse(""); e.words != 0 || e.sim != 0 {
		t.Fatalf("empty: %+v", e)
	}
	if e := analyse(" \n\t!?"); e.words != 0 {
		t.Fatalf("punctuation only: %+v", e)
	}
}

func TestQuestionText(t *testing.T) {
	doc := strings.Repeat("Refunds are accepted within 30 days. ", 50)
	msg := func(role conv.Role, segs ...conv.Segment) conv.Message {
		return conv.Message{Role: role, Segments: segs}
	}
	user := func(s string) conv.Segment { return conv.NewSegment(s, conv.SourceUser, "x") }
	for _, c := range []struct {
		name string
		c    *conv.Conversation
		want string
	}{
		{"nil", nil, ""},
		{"plain", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user("hi there"))}}, "hi there"},
		{"rag paragraph and label", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser,
			user("Context:\n"+doc+"\n\nQuestion: how long do refunds take?\n"))}}, " how long do refunds take?"},
		{"blank line with spaces", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user("a\n \t\nb"))}}, "b"},
		{"document segment skipped", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser,
			user("what does it say?"), conv.NewSegment(doc, conv.SourceDocument, "y"))}}, "what does it say?"},
		{"last user message", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user("first")),
			msg(conv.RoleAssistant, conv.NewSegment("answer", conv.SourceAssistant, "z")), msg(conv.RoleUser, user("second"))}}, "second"},
		{"system only", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleSystem, conv.NewSegment("sys", conv.SourceSystem, "s"))}}, ""},
		{"assistant last", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user("q")),
			msg(conv.RoleAssistant, conv.NewSegment("a", conv.SourceAssistant, "z"))}}, "q"},
		{"label with url is kept", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user("https://example.com"))}}, "https://example.com"},
		{"long label kept", &conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user("Supercalifragilisticexpialidocious: yes"))}},
			"Supercalifragilisticexpialidocious: yes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := questionText(c.c, 4096); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	// Cut to the last maxBytes, at a rune start.
	got := questionText(&conv.Conversation{Messages: []conv.Message{msg(conv.RoleUser, user(strings.Repeat("é", 100)))}}, 65)
	if len(got) > 65 || !strings.HasPrefix(got, "é") {
		t.Fatalf("cut: %d bytes %q", len(got), got[:4])
	}
}
