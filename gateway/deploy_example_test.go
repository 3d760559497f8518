package gateway

import (
	"os"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

// TestDeployResilientExample keeps the multi-provider example of
// docs/DEPLOY.md §15 a valid configuration whose pools are what the text
// says.
func TestDeployResilientExample(t *testing.T) {
	b, err := os.ReadFile("../docs/DEPLOY.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "<!-- resilient-example: begin -->")
	end := strings.Index(s, "<!-- resilient-example: end -->")
	if start < 0 || end < start {
		t.Fatal("docs/DEPLOY.md: resilient-example markers missing")
	}
	block := s[start:end]
	block = block[strings.Index(block, "```yaml")+len("```yaml") : strings.LastIndex(block, "```")]
	cfg, err := config.Parse([]byte(block))
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	ups := make([]*upstream, 0, len(cfg.Upstreams))
	for _, uc := range cfg.Upstreams {
		u, err := newUpstream(uc, func(string) string { return "x" })
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, u)
	}
	p := &proxy{ups: ups, routing: cfg.Routing}
	names := func(us []*upstream) string {
		var n []string
		for _, u := range us {
			n = append(n, u.name)
		}
		return strings.Join(n, ",")
	}
	for _, tc := range []struct{ model, strategy, pool string }{
		{"gpt-4o-mini", "fallback", "openai-a,vllm-backup"},
		{"gpt-4o", "fallback", "openai-a"},
		{"gpt-4.1", "round_robin", "openai-a,openai-b"},
	} {
		pool := p.members("openai", "/v1/chat/completions", tc.model)
		if got := names(p.order(pool, "fallback")); got != tc.pool || p.strategy(tc.model) != tc.strategy {
			t.Errorf("%s: pool %s strategy %s, want %s %s", tc.model, got, p.strategy(tc.model), tc.pool, tc.strategy)
		}
	}
	if got := names(p.members("anthropic", "/v1/messages", "claude-sonnet-4")); got != "anthropic" {
		t.Errorf("anthropic pool %s", got)
	}
}
