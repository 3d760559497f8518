package topics

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/normtext"
)

func user(texts ...string) *conv.Conversation {
	c := &conv.Conversation{Kind: conv.KindChat}
	for _, t := range texts {
		c.Messages = append(c.Messages, conv.Message{Role: conv.RoleUser,
			Segments: []conv.Segment{conv.NewSegment(t, conv.SourceUser, "")}})
	}
	return c
}

func boolp(b bool) *bool { return &b }

func provisioned(t testing.TB, cfg Config) *Layer {
	t.Helper()
	l := New(cfg)
	if err := l.Provision(&engine.Host{}); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return l
}

func rulesCfg(rules ...Rule) Config {
	c := Defaults()
	c.Rules = rules
	return c
}

func TestOnRequest(t *testing.T) {
	competitors := Rule{ID: "competitors", Terms: []string{"Globex", "Initech Corp"}, Action: ActionBlock}
	banned := Rule{ID: "banned", Terms: []string{"darn"}, WholeWord: boolp(false), Action: ActionRedact}
	weapons := Rule{ID: "weapons", Examples: []string{"how do I build a pipe bomb at home",
		"instructions for making explosives"}, Action: ActionBlock}
	cased := Rule{ID: "ticker", Terms: []string{"ACME"}, CaseSensitive: true, Action: ActionFlag}
	cases := []struct {
		name   string
		cfg    Config
		conv   *conv.Conversation
		action engine.Action
		code   string
		rule   string
		text   string // expected text of the first segment afterwards ("" = unchanged)
		span   [2]int
	}{
		{name: "no rules", cfg: Defaults(), conv: user("anything about Globex"), action: engine.Allow},
		{name: "competitor blocked", cfg: rulesCfg(competitors), conv: user("Is Globex cheaper than you?"),
			action: engine.Block, code: CodeTopic, rule: "topics.competitors", span: [2]int{3, 9}},
		{name: "case-insensitive by default", cfg: rulesCfg(competitors), conv: user("what about GLOBEX"),
			action: engine.Block},
		{name: "homoglyph and fullwidth evasion", cfg: rulesCfg(competitors), conv: user("what about Ｇlоbex"),
			action: engine.Block},
		{name: "zero-width evasion", cfg: rulesCfg(competitors), conv: user("what about Glo\u200bbex"),
			action: engine.Block},
		{name: "multi-word term across whitespace", cfg: rulesCfg(competitors), conv: user("buy from Initech   corp today"),
			action: engine.Block},
		{name: "whole word only", cfg: rulesCfg(competitors), conv: user("Globextra is a different thing"),
			action: engine.Allow},
		{name: "substring redacted", cfg: rulesCfg(banned), conv: user("darnit, darn it"), action: engine.Modify,
			rule: "topics.redact", text: "[REDACTED]it, [REDACTED] it"},
		{name: "case-sensitive term", cfg: rulesCfg(cased), conv: user("ACME stock"), action: engine.Flag,
			rule: "topics.ticker"},
		{name: "case-sensitive term differs in case", cfg: rulesCfg(cased), conv: user("acme stock"), action: engine.Allow},
		{name: "denied topic by example", cfg: rulesCfg(weapons),
			conv: user("Hello. How can I build a pipe bomb in my home? Thanks"), action: engine.Block,
			rule: "topics.weapons"},
		{name: "unrelated sentence", cfg: rulesCfg(weapons), conv: user("How do I build a bookshelf at home?"),
			action: engine.Allow},
		{name: "document not scanned by default", cfg: rulesCfg(competitors),
			conv: func() *conv.Conversation {
				c := user("summarise")
				c.Messages[0].Segments = append(c.Messages[0].Segments, conv.NewSegment("Globex report", conv.SourceDocument, ""))
				return c
			}(), action: engine.Allow},
		{name: "document scanned when configured",
			cfg: rulesCfg(Rule{ID: "c", Terms: []string{"Globex"}, Sources: []string{"document"}, Action: ActionFlag}),
			conv: func() *conv.Conversation {
				c := user("summarise")
				c.Messages[0].Segments = append(c.Messages[0].Segments, conv.NewSegment("Globex report", conv.SourceDocument, ""))
				return c
			}(), action: engine.Flag},
		{name: "on topic allowed", cfg: func() Config {
			c := Defaults()
			c.AllowTopics = []Rule{{ID: "product", Terms: []string{"rampart", "gateway"}, Examples: []string{"configure rate limits"}}}
			return c
		}(), conv: user("How do I configure the gateway?"), action: engine.Allow},
		{name: "on topic by example", cfg: func() Config {
			c := Defaults()
			c.AllowTopics = []Rule{{ID: "product", Terms: []string{"rampart"}, Examples: []string{"configure rate limits per key"}}}
			return c
		}(), conv: user("how can i configure rate limits for each key"), action: engine.Allow},
		{name: "off topic blocked", cfg: func() Config {
			c := Defaults()
			c.AllowTopics = []Rule{{ID: "product", Terms: []string{"rampart", "gateway"}}}
			return c
		}(), conv: user("Write me a poem about cats"), action: engine.Block, code: CodeOffTopic, rule: "topics.off_topic"},
		{name: "off topic flagged", cfg: func() Config {
			c := Defaults()
			c.AllowTopics = []Rule{{ID: "product", Terms: []string{"rampart"}}}
			c.AllowAction = ActionFlag
			return c
		}(), conv: user("Write me a poem about cats"), action: engine.Flag, rule: "topics.off_topic"},
		{name: "earlier on-topic turn keeps follow-up", cfg: func() Config {
			c := Defaults()
			c.AllowTopics = []Rule{{ID: "product", Terms: []string{"rampart"}}}
			return c
		}(), conv: user("what is rampart?", "tell me more"), action: engine.Allow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			orig := tc.conv.Messages[0].Segments[0].Text
			d, err := provisioned(t, tc.cfg).OnRequest(&engine.Tx{Request: tc.conv})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tc.action {
				t.Fatalf("action %v (rule %q), want %v", d.Action, d.Rule, tc.action)
			}
			if tc.code != "" && d.Code != tc.code {
				t.Errorf("code %q, want %q", d.Code, tc.code)
			}
			if tc.rule != "" && d.Rule != tc.rule {
				t.Errorf("rule %q, want %q", d.Rule, tc.rule)
			}
			got := tc.conv.Messages[0].Segments[0].Text
			if tc.text != "" && got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
			if tc.text == "" && got != orig {
				t.Errorf("text changed to %q", got)
			}
			if tc.span != [2]int{} && (len(d.Findings) == 0 || d.Findings[0].Start != tc.span[0] || d.Findings[0].End != tc.span[1]) {
				t.Errorf("findings %+v, want span %v", d.Findings, tc.span)
			}
			for _, fd := range d.Findings {
				if strings.Contains(fd.Text, "Globex") || strings.Contains(fd.Text, "bomb") {
					t.Error("finding carries matched content")
				}
			}
		})
	}
}

func TestNamedPolicies(t *testing.T) {
	cfg := rulesCfg(Rule{ID: "base", Terms: []string{"alpha"}, Action: ActionFlag})
	cfg.Policies = map[string]Rails{"acme": {Rules: []Rule{{ID: "globex", Terms: []string{"globex"}}}}}
	l := provisioned(t, cfg)
	run := func(policy, text string) engine.Decision {
		tx := &engine.Tx{Request: user(text)}
		if policy != "" {
			tx.Identity = &engine.Identity{Policy: policy}
		}
		d, _ := l.OnRequest(tx)
		return d
	}
	if d := run("", "globex"); d.Action != engine.Allow {
		t.Errorf("base policy blocked a policy-only term: %v", d.Action)
	}
	if d := run("acme", "globex"); d.Action != engine.Block {
		t.Errorf("named policy term: %v", d.Action)
	}
	if d := run("acme", "alpha"); d.Action != engine.Flag {
		t.Errorf("base rule not inherited by named policy: %v", d.Action)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		rulesCfg(Rule{ID: "", Terms: []string{"x"}}),
		rulesCfg(Rule{ID: "a"}),
		rulesCfg(Rule{ID: "a", Terms: []string{" "}}),
		rulesCfg(Rule{ID: "a", Terms: []string{"x"}, Action: "delete"}),
		rulesCfg(Rule{ID: "a", Terms: []string{"x"}, Threshold: 2}),
		rulesCfg(Rule{ID: "a", Terms: []string{"x"}, Sources: []string{"web"}}),
		rulesCfg(Rule{ID: "a", Terms: []string{"x"}}, Rule{ID: "a", Terms: []string{"y"}}),
		rulesCfg(Rule{ID: "a", Examples: []string{"the of and"}}),
		func() Config { c := Defaults(); c.AllowAction = "redact"; return c }(),
	}
	for i, c := range bad {
		if err := New(c).Provision(&engine.Host{}); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}

func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Module.New(func(into any) error {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		return dec.Decode(into)
	})
	if err != nil {
		t.Fatal(err)
	}
	lay := l.(*Layer)
	if err := lay.Provision(&engine.Host{}); err != nil {
		t.Fatal(err)
	}
	d, _ := lay.OnRequest(&engine.Tx{Request: user("Is Globex better than Acme Gateway?")})
	if d.Action != engine.Block || d.Rule != "topics.competitors" {
		t.Errorf("example config: %v %q", d.Action, d.Rule)
	}
}

func TestRedactSpans(t *testing.T) {
	cases := []struct {
		s     string
		spans []span
		want  string
	}{
		{"hello world", []span{{0, 5}}, "X world"},
		{"héllo wörld", []span{{6, 11}, {0, 1}}, "Xéllo X"},
		{"abcdef", []span{{1, 3}, {2, 5}}, "aXf"},
		{"abc", []span{{3, 3}}, "abcX"},
	}
	for _, c := range cases {
		if got := redactSpans(c.s, c.spans, "X"); got != c.want {
			t.Errorf("redactSpans(%q, %v) = %q, want %q", c.s, c.spans, got, c.want)
		}
	}
}

func FuzzOnRequest(f *testing.F) {
	for _, s := range []string{"Is Globex cheaper?", "darnit", "ＧＬＯＢＥＸ", "how do I build a pipe bomb", "\xff\xfe", "a\u200bb"} {
		f.Add(s)
	}
	cfg := rulesCfg(
		Rule{ID: "c", Terms: []string{"Globex", "é"}, Action: ActionRedact},
		Rule{ID: "s", Terms: []string{"dar"}, WholeWord: boolp(false), Action: ActionRedact},
		Rule{ID: "w", Examples: []string{"how do I build a pipe bomb"}, Action: ActionRedact})
	l := provisioned(f, cfg)
	f.Fuzz(func(t *testing.T, s string) {
		c := user(s)
		d, err := l.OnRequest(&engine.Tx{Request: c})
		if err != nil {
			t.Fatal(err)
		}
		n := len([]rune(s))
		for _, fd := range d.Findings {
			if fd.Start < 0 || fd.End < fd.Start || fd.End > n {
				t.Fatalf("span [%d,%d) outside %d code points", fd.Start, fd.End, n)
			}
		}
		if d.Action == engine.Allow && c.Messages[0].Segments[0].Changed() {
			t.Fatal("allowed but changed")
		}
	})
}

func TestStopwords(t *testing.T) {
	for _, w := range []string{"the", "please", "just", "how"} {
		if !isStop(hashWord(fnvOffset, w)) {
			t.Errorf("%q not a stopword", w)
		}
	}
	for _, w := range []string{"bomb", "gateway", "thee", ""} {
		if isStop(hashWord(fnvOffset, w)) {
			t.Errorf("%q taken for a stopword", w)
		}
	}
}

// Plain-ASCII text none of whose words can start a term or belong to an
// example is not normalised (no shared cache is even created); text with
// such a word, or that is not plain ASCII, is normalised and matched.
func TestPlainTextSkipsNormalisation(t *testing.T) {
	l := provisioned(t, rulesCfg(
		Rule{ID: "competitors", Terms: []string{"Globex", "Umbrella Corp"}},
		Rule{ID: "cased", Terms: []string{"ACME"}, CaseSensitive: true},
		Rule{ID: "weapons", Examples: []string{"how do I build a bomb at home"}},
	))
	cases := []struct {
		text      string
		normalise bool
		rule      string
	}{
		{"Please summarise this email.\nThanks, and\tregards", false, ""},
		{"We switched from GLOBEX last year", true, "topics.competitors"},
		{"umbrella\n\n  CORP is a rival", true, "topics.competitors"},
		{"umbrella is not a company", true, ""}, // first word of a term: normalised, no hit
		{"acme is lower case", false, ""},
		{"ACME is a customer", true, "topics.cased"},
		{"Tell me how to BUILD a BOMB at home", true, "topics.weapons"},
		{"ＧＬＯＢＥＸ in full width", true, "topics.competitors"},
		{"ctrl\x01char globe", true, ""}, // not plain ASCII
	}
	for _, tc := range cases {
		tx := &engine.Tx{Request: user(tc.text)}
		d, err := l.OnRequest(tx)
		if err != nil {
			t.Fatal(err)
		}
		if got := tx.State(normtext.StateKey) != nil; got != tc.normalise {
			t.Errorf("%q: normalised %v, want %v", tc.text, got, tc.normalise)
		}
		if d.Rule != tc.rule {
			t.Errorf("%q: rule %q, want %q (%+v)", tc.text, d.Rule, tc.rule, d)
		}
		l.OnFinish(tx)
	}
}
