package outputguard

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/detect/pii"
	"github.com/rampart-ai/rampart/detect/secrets"
)

// Action is what happens to a detected entity.
type Action string

const (
	ActBlock        Action = "block"        // stop the request / answer
	ActRedact       Action = "redact"       // replace with "[ENTITY]" (or mask/hash, see RedactStyle)
	ActPseudonymize Action = "pseudonymize" // prompt side: "<ENTITY_n>", restored in the answer
	ActFlag         Action = "flag"         // record a finding, change nothing
	ActOff          Action = "off"          // ignore
)

// SecretEntity is the policy key that covers every secret rule.
const SecretEntity = "SECRET"

// HiddenEntity is the policy key of hidden text in answers: runs of
// invisible characters that carry text (Unicode tag characters, the
// variation selectors supplement). Default redact: removed.
const HiddenEntity = "HIDDEN_TEXT"

// Config is the layer's configuration (section "outputguard" of layers:).
type Config struct {
	// Output maps entity names (pii names such as EMAIL_ADDRESS, or SECRET
	// for every secret) to what happens when they appear in an answer:
	// block, redact, flag or off. Entities not listed use the defaults:
	// SECRET and CREDIT_CARD redact, every other PII entity flag.
	Output map[string]Action `yaml:"output"`
	// Input maps entity names to what happens when they appear in the
	// prompt (user, document and tool text): block, redact, pseudonymize
	// (replaced before going upstream, restored in the answer for the same
	// caller), flag or off. Default: off for all.
	Input map[string]Action `yaml:"input"`
	// RedactStyle is how redacted values are written: "label" ("[EMAIL_ADDRESS]",
	// default), "mask" (keep the last 4 characters) or "hash"
	// ("[EMAIL_ADDRESS:1a2b3c4d5e6f]", HMAC-SHA256 keyed by HashKeyEnv).
	RedactStyle string `yaml:"redact_style"`
	// HashKeyEnv names the environment variable with the HMAC key (at
	// least 16 bytes) for RedactStyle "hash".
	HashKeyEnv string `yaml:"hash_key_env"`
	// PII configures the PII recognisers (entities, phone regions, min score).
	PII pii.Config `yaml:"pii"`
	// Secrets configures secret scanning (gitleaks rules, disabled rules).
	Secrets secrets.Config `yaml:"secrets"`
	// StreamWindow is the most bytes per choice held back while streaming
	// so that a secret split across events is still found. Default 256,
	// at most 4096.
	StreamWindow int `yaml:"stream_window"`
	// Links controls Markdown links and images (exfiltration channels).
	Links LinksConfig `yaml:"links"`
	// Leak controls system-prompt leak detection.
	Leak LeakConfig `yaml:"leak"`
	// Canary is what happens when the answer contains the canary token the
	// canary layer planted (tx state "canary"): block (default), redact,
	// flag or off.
	Canary Action `yaml:"canary"`
	// Tools controls tool calls in answers.
	Tools ToolsConfig `yaml:"tools"`
	// AllowUnknownParts names answer part types the provider adapter does
	// not know (a Gemini part member, an Anthropic content block type or a
	// Responses API output item type added to the API later) that may pass
	// uninspected; "*" allows all. By default an answer holding one is
	// blocked (502 unknown_answer_part), as nothing in it was checked.
	AllowUnknownParts []string `yaml:"allow_unknown_parts"`
	// SignedText is what happens when policy would rewrite text that a
	// signature in the answer covers (Anthropic thinking blocks), which
	// the provider then refuses when the client sends the block back:
	// "block" (default: the answer is blocked, a stream stops before the
	// hit goes out, code sensitive_output) or "redact" (rewritten anyway;
	// the conversation cannot go on with that block). Pseudonyms are not
	// restored in signed text.
	SignedText Action `yaml:"signed_text"`
}

// LinksConfig controls Markdown links and images in answers.
type LinksConfig struct {
	// AllowedHosts are hosts (exact, or "*.example.com" for subdomains)
	// that images and links may point to.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// Images is what happens to an image whose URL host is not allowed:
	// "remove" (default: replaced by "[image removed]"), "flag" or "off".
	Images string `yaml:"images"`
	// Links is what happens to a link whose host is not allowed: "remove"
	// (keep the link text, drop the URL), "flag" (default) or "off".
	Links string `yaml:"links"`
	// EscapeHTML escapes '<', '>' and '&' in answers so that raw HTML
	// (e.g. <img src=...>) is shown, not rendered. Default false.
	EscapeHTML bool `yaml:"escape_html"`
}

// LeakConfig controls system-prompt leak detection.
type LeakConfig struct {
	// Action is block (default), redact (the answer is replaced by a
	// notice), flag or off.
	Action Action `yaml:"action"`
	// Threshold is the share of the system prompt's word 8-grams that must
	// appear in the answer. Default 0.5.
	Threshold float64 `yaml:"threshold"`
	// MinWords is the shortest system prompt (in words) that is checked.
	// Default 20.
	MinWords int `yaml:"min_words"`
	// Window is how long the share of a system prompt already sent to one
	// API key is remembered (in memory, per replica, unless RedisURL
	// shares it): a prompt leaked in parts over several answers counts as
	// one leak. Default 1h; a
	// negative value turns the tracking off.
	Window time.Duration `yaml:"window"`
	// RedisURL (or the variable RedisURLEnv names, which wins when set)
	// shares that per-key history between replicas through Redis, e.g.
	// "redis://127.0.0.1:6379/0". Unset: each replica remembers on its own.
	RedisURL    string `yaml:"redis_url"`
	RedisURLEnv string `yaml:"redis_url_env"`
}

// ToolsConfig controls tool calls in answers.
type ToolsConfig struct {
	// Allow maps "tenant/role", "tenant", "*/role" or "*" to the tool names
	// that identity may call; the most specific key wins. No matching key:
	// every declared tool is allowed.
	Allow map[string][]string `yaml:"allow"`
	// Action for a disallowed or invalid call: "remove" (default; drop it
	// from a stream, block a whole response since it cannot be removed
	// there) or "block".
	Action string `yaml:"action"`
	// ValidateArguments checks call arguments against the tool's declared
	// JSON schema. Default true.
	ValidateArguments *bool `yaml:"validate_arguments"`
	// Undeclared blocks calls to tools the request did not declare.
	// Default true.
	Undeclared *bool `yaml:"undeclared"`
}

const (
	defaultWindow = 256
	maxWindow     = 4096
)

func (c *Config) setDefaults() {
	if c.StreamWindow == 0 {
		c.StreamWindow = defaultWindow
	}
	if c.Leak.Window == 0 {
		c.Leak.Window = time.Hour
	}
	if c.SignedText == "" {
		c.SignedText = ActBlock
	}
	if c.Links.Images == "" {
		c.Links.Images = "remove"
	}
	if c.Links.Links == "" {
		c.Links.Links = "flag"
	}
	if c.Leak.Action == "" {
		c.Leak.Action = ActBlock
	}
	if c.Leak.Threshold == 0 {
		c.Leak.Threshold = 0.5
	}
	if c.Leak.MinWords == 0 {
		c.Leak.MinWords = 20
	}
	if c.Canary == "" {
		c.Canary = ActBlock
	}
	if c.Tools.Action == "" {
		c.Tools.Action = "remove"
	}
	if c.RedactStyle == "" {
		c.RedactStyle = "label"
	}
}

func (c *Config) validate() error {
	switch c.SignedText {
	case ActBlock, ActRedact:
	default:
		return fmt.Errorf("outputguard: signed_text %q (want block or redact)", c.SignedText)
	}
	if c.StreamWindow < 16 || c.StreamWindow > maxWindow {
		return fmt.Errorf("outputguard: stream_window %d must be within 16..%d", c.StreamWindow, maxWindow)
	}
	known := map[string]bool{SecretEntity: true, HiddenEntity: true}
	for _, e := range pii.AllEntities {
		known[e] = true
	}
	for _, e := range pii.OptionalEntities {
		known[e] = true
	}
	for k, a := range c.Output {
		if !known[k] {
			return fmt.Errorf("outputguard: output: unknown entity %q", k)
		}
		switch a {
		case ActBlock, ActRedact, ActFlag, ActOff:
		default:
			return fmt.Errorf("outputguard: output.%s: action %q (want block, redact, flag or off)", k, a)
		}
	}
	for k, a := range c.Input {
		if !known[k] {
			return fmt.Errorf("outputguard: input: unknown entity %q", k)
		}
		switch a {
		case ActBlock, ActRedact, ActPseudonymize, ActFlag, ActOff:
		default:
			return fmt.Errorf("outputguard: input.%s: action %q (want block, redact, pseudonymize, flag or off)", k, a)
		}
	}
	switch c.RedactStyle {
	case "label", "mask":
	case "hash":
		if c.HashKeyEnv == "" {
			return fmt.Errorf("outputguard: redact_style hash needs hash_key_env")
		}
	default:
		return fmt.Errorf("outputguard: redact_style %q (want label, mask or hash)", c.RedactStyle)
	}
	for _, v := range []struct{ name, val string }{{"links.images", c.Links.Images}, {"links.links", c.Links.Links}} {
		switch v.val {
		case "remove", "flag", "off":
		default:
			return fmt.Errorf("outputguard: %s %q (want remove, flag or off)", v.name, v.val)
		}
	}
	for _, h := range c.Links.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/: ") {
			return fmt.Errorf("outputguard: links.allowed_hosts: %q is not a host name", h)
		}
	}
	switch c.Leak.Action {
	case ActBlock, ActRedact, ActFlag, ActOff:
	default:
		return fmt.Errorf("outputguard: leak.action %q", c.Leak.Action)
	}
	if c.Leak.Threshold <= 0 || c.Leak.Threshold > 1 || c.Leak.MinWords < ngram {
		return fmt.Errorf("outputguard: leak.threshold must be in (0,1] and leak.min_words >= %d", ngram)
	}
	switch c.Canary {
	case ActBlock, ActRedact, ActFlag, ActOff:
	default:
		return fmt.Errorf("outputguard: canary %q", c.Canary)
	}
	switch c.Tools.Action {
	case "remove", "block":
	default:
		return fmt.Errorf("outputguard: tools.action %q (want remove or block)", c.Tools.Action)
	}
	return nil
}

// outputAction is the answer-side action for an entity.
func (c *Config) outputAction(entity string, secret bool) Action {
	key := entity
	if secret {
		key = SecretEntity
	}
	if a, ok := c.Output[key]; ok {
		return a
	}
	if secret || entity == pii.CreditCard || entity == HiddenEntity {
		return ActRedact
	}
	return ActFlag
}

// inputAction is the prompt-side action for an entity.
func (c *Config) inputAction(entity string, secret bool) Action {
	key := entity
	if secret {
		key = SecretEntity
	}
	if a, ok := c.Input[key]; ok {
		return a
	}
	return ActOff
}

func hashKey(env string) ([]byte, error) {
	k := os.Getenv(env)
	if len(k) < 16 {
		return nil, fmt.Errorf("outputguard: %s must hold a key of at least 16 bytes", env)
	}
	return []byte(k), nil
}

// hostAllowed reports whether rawURL points to an allowed host.
func hostAllowed(allowed []string, rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" {
		// relative URLs, data: and javascript: URLs are not allowed
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, a := range allowed {
		a = strings.ToLower(a)
		if strings.HasPrefix(a, "*.") {
			if strings.HasSuffix(h, a[1:]) {
				return true
			}
		} else if h == a {
			return true
		}
	}
	return false
}
