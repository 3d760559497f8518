package topics

import (
	"fmt"
	"strings"

	"github.com/rampart-ai/rampart/conv"
)

// Actions.
const (
	ActionBlock  = "block"
	ActionRedact = "redact"
	ActionFlag   = "flag"
)

// Rule is one banned-term list or denied topic.
type Rule struct {
	// ID names the rule in findings and audit ("topics.<id>"). Required,
	// unique.
	ID string `yaml:"id"`
	// Terms are keywords, names or substrings, matched in normalised text
	// (NFKC, invisible characters removed, homoglyphs mapped, whitespace
	// collapsed) with an Aho-Corasick automaton.
	Terms []string `yaml:"terms"`
	// WholeWord makes terms match only as whole words (default true);
	// false matches them anywhere, as banned substrings.
	WholeWord *bool `yaml:"whole_word"`
	// CaseSensitive matches terms with their case (default false).
	CaseSensitive bool `yaml:"case_sensitive"`
	// Examples are sentences typical of a denied topic. A sentence of the
	// request matches when its word uni- and bigrams are similar enough
	// (cosine of the two sets ≥ Threshold) to one example.
	Examples []string `yaml:"examples"`
	// Threshold is the similarity (0..1) at which an example matches.
	// Default 0.5.
	Threshold float64 `yaml:"threshold"`
	// Action is "block" (default; 400 topic_not_allowed), "redact"
	// (matched text replaced by redact_with) or "flag".
	Action string `yaml:"action"`
	// Sources are the kinds of text checked: user (default), document,
	// tool, system, assistant.
	Sources []string `yaml:"sources"`
}

// Rails is one set of rules and allowed topics.
type Rails struct {
	// Rules are banned terms and denied topics.
	Rules []Rule `yaml:"rules"`
	// AllowTopics, when set, restricts requests to these topics: a request
	// whose user text matches none of them (terms or examples, same
	// matching as Rules; their Action is ignored) gets AllowAction.
	AllowTopics []Rule `yaml:"allow_topics"`
	// AllowAction is "block" (default; 400 off_topic) or "flag".
	AllowAction string `yaml:"allow_action"`
}

// Config is the layer's section under "layers: topics:".
type Config struct {
	Rails `yaml:",inline"`
	// RedactWith replaces redacted text. Default "[REDACTED]".
	RedactWith string `yaml:"redact_with"`
	// Policies are named rails selected by the caller's identity policy.
	// Their rules apply in addition to the base rules; their allow_topics,
	// when set, replace the base ones.
	Policies map[string]Rails `yaml:"policies"`
}

// Defaults returns the default configuration (no rules: the layer passes
// everything until rules are configured).
func Defaults() Config {
	return Config{RedactWith: "[REDACTED]", Rails: Rails{AllowAction: ActionBlock}}
}

var sourceNames = map[string]conv.Source{"user": conv.SourceUser, "document": conv.SourceDocument,
	"tool": conv.SourceTool, "system": conv.SourceSystem, "assistant": conv.SourceAssistant}

func (r *Rule) fill() {
	if r.WholeWord == nil {
		t := true
		r.WholeWord = &t
	}
	if r.Threshold == 0 {
		r.Threshold = 0.5
	}
	if r.Action == "" {
		r.Action = ActionBlock
	}
	if len(r.Sources) == 0 {
		r.Sources = []string{"user"}
	}
}

func (r *Rule) validate(allow bool) error {
	if r.ID == "" || strings.ContainsAny(r.ID, " \t\n") {
		return fmt.Errorf("rule id %q: want a non-empty id without spaces", r.ID)
	}
	if len(r.Terms) == 0 && len(r.Examples) == 0 {
		return fmt.Errorf("rule %s: needs terms or examples", r.ID)
	}
	for _, t := range r.Terms {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("rule %s: empty term", r.ID)
		}
	}
	if r.Threshold <= 0 || r.Threshold > 1 {
		return fmt.Errorf("rule %s: threshold %v: want 0 < threshold ≤ 1", r.ID, r.Threshold)
	}
	if !allow && r.Action != ActionBlock && r.Action != ActionRedact && r.Action != ActionFlag {
		return fmt.Errorf("rule %s: action %q: want block, redact or flag", r.ID, r.Action)
	}
	for _, s := range r.Sources {
		if _, ok := sourceNames[s]; !ok {
			return fmt.Errorf("rule %s: source %q: want user, document, tool, system or assistant", r.ID, s)
		}
	}
	return nil
}
