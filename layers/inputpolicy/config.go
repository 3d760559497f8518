package inputpolicy

import (
	"fmt"
	"strings"
)

// Oversize actions.
const (
	OversizeBlock    = "block"
	OversizeTruncate = "truncate"
)

// Client system message handling.
const (
	ClientSystemAllow = "allow"
	ClientSystemBlock = "block"
	ClientSystemStrip = "strip"
)

// Tenant system prompt modes.
const (
	SystemPrepend = "prepend"
	SystemReplace = "replace"
)

// Actions for role markers and a missing system segment.
const (
	ActionBlock = "block"
	ActionFlag  = "flag"
	ActionOff   = "off"
)

// Policy is one set of limits and role rules. The layer's own section is
// the base policy; Config.Policies holds named overrides.
type Policy struct {
	// MaxChars caps the total number of characters (Unicode code points) of
	// all message text, system prompt included. Default 1000000; -1 means
	// no limit. Over it: context_length_exceeded.
	MaxChars int `yaml:"max_chars"`
	// MaxTokens caps the prompt's token count (tiktoken; cl100k_base or
	// o200k_base by model; 3 tokens per message added for chat framing).
	// Default -1 (off). Tokens are only counted when the text is long
	// enough that it could exceed the limit. Over it: context_length_exceeded.
	MaxTokens int `yaml:"max_tokens"`
	// MaxMessages caps the number of messages. Default 2048; -1: no limit.
	// Over it: too_many_messages.
	MaxMessages int `yaml:"max_messages"`
	// MaxMessageChars caps the characters of any one message. Default -1
	// (no limit). Over it: message_too_large.
	MaxMessageChars int `yaml:"max_message_chars"`
	// MaxTools caps the number of tool definitions. Default 128 (OpenAI's
	// own limit); -1: no limit. Over it: too_many_tools.
	MaxTools int `yaml:"max_tools"`
	// MaxToolBytes caps the total size in bytes of all tool definitions
	// (name, description and JSON Schema). Default 262144; -1: no limit.
	// Over it: tools_too_large.
	MaxToolBytes int `yaml:"max_tool_bytes"`
	// OnOversize is what exceeding max_chars, max_tokens or
	// max_message_chars does: "block" (default) answers with an error;
	// "truncate" cuts the end of the last user message until the request
	// fits (flagged in audit), and blocks only when that is not enough.
	// Other limits always block.
	OnOversize string `yaml:"on_oversize"`
	// OversizeStatus is the HTTP status of size blocks: 400 (default, as
	// OpenAI answers context_length_exceeded) or 413.
	OversizeStatus int `yaml:"oversize_status"`
	// AllowedParts lists the non-text content part types clients may send:
	// "image" (image_url, image), "audio" (input_audio, audio), "file"
	// (file, document), or a provider's raw part type. Default: any.
	// Set to ["none"] to allow text only. Other parts: unsupported_content_type.
	AllowedParts []string `yaml:"allowed_parts"`
	// ClientSystem is what client-sent system/developer messages (and an
	// Anthropic top-level system prompt) do: "allow" (default — most
	// applications set their own system prompt through the gateway),
	// "block" (400 role_not_allowed) or "strip" (their text is emptied).
	ClientSystem string `yaml:"client_system"`
	// SystemPrompt is the tenant's own system prompt, applied to the first
	// system segment of every request. Empty: none.
	SystemPrompt string `yaml:"system_prompt"`
	// SystemPromptMode is "prepend" (default: the tenant prompt, a blank
	// line, then the client's system text) or "replace" (the tenant prompt
	// alone; other client system text is emptied).
	SystemPromptMode string `yaml:"system_prompt_mode"`
	// SystemPromptMissing is what happens when SystemPrompt is set but the
	// request has no system segment to carry it: "flag" (default; the
	// request goes upstream without it) or "block" (400
	// system_prompt_required; clients then send a system message, which
	// may be empty).
	SystemPromptMissing string `yaml:"system_prompt_missing"`
	// RoleMarkers is what fake role markers inside user, document or tool
	// text do ("### system:", "<|system|>", "System:" at a line start,
	// JSON with "role":"system"): "flag" (default), "block" (400
	// role_marker_detected) or "off".
	RoleMarkers string `yaml:"role_markers"`
}

// Config is the layer's section under "layers: inputpolicy:".
type Config struct {
	Policy `yaml:",inline"`
	// Policies are named overrides selected by the caller's identity
	// policy (set by the identity layer). A field left out (or 0 / "")
	// inherits the base value above; -1 means "no limit".
	Policies map[string]Policy `yaml:"policies"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{Policy: Policy{
		MaxChars:            1_000_000,
		MaxTokens:           -1,
		MaxMessages:         2048,
		MaxMessageChars:     -1,
		MaxTools:            128,
		MaxToolBytes:        256 << 10,
		OnOversize:          OversizeBlock,
		OversizeStatus:      400,
		ClientSystem:        ClientSystemAllow,
		SystemPromptMode:    SystemPrepend,
		SystemPromptMissing: ActionFlag,
		RoleMarkers:         ActionFlag,
	}}
}

// inherit fills p's zero fields from base.
func (p Policy) inherit(base Policy) Policy {
	pick := func(v, b int) int {
		if v == 0 {
			return b
		}
		return v
	}
	pickS := func(v, b string) string {
		if v == "" {
			return b
		}
		return v
	}
	p.MaxChars = pick(p.MaxChars, base.MaxChars)
	p.MaxTokens = pick(p.MaxTokens, base.MaxTokens)
	p.MaxMessages = pick(p.MaxMessages, base.MaxMessages)
	p.MaxMessageChars = pick(p.MaxMessageChars, base.MaxMessageChars)
	p.MaxTools = pick(p.MaxTools, base.MaxTools)
	p.MaxToolBytes = pick(p.MaxToolBytes, base.MaxToolBytes)
	p.OversizeStatus = pick(p.OversizeStatus, base.OversizeStatus)
	p.OnOversize = pickS(p.OnOversize, base.OnOversize)
	p.ClientSystem = pickS(p.ClientSystem, base.ClientSystem)
	p.SystemPrompt = pickS(p.SystemPrompt, base.SystemPrompt)
	p.SystemPromptMode = pickS(p.SystemPromptMode, base.SystemPromptMode)
	p.SystemPromptMissing = pickS(p.SystemPromptMissing, base.SystemPromptMissing)
	p.RoleMarkers = pickS(p.RoleMarkers, base.RoleMarkers)
	if p.AllowedParts == nil {
		p.AllowedParts = base.AllowedParts
	}
	return p
}

func oneOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%s %q: want one of %s", field, v, strings.Join(allowed, ", "))
}

// validate checks a fully inherited policy.
func (p *Policy) validate() error {
	for name, v := range map[string]int{"max_chars": p.MaxChars, "max_tokens": p.MaxTokens,
		"max_messages": p.MaxMessages, "max_message_chars": p.MaxMessageChars,
		"max_tools": p.MaxTools, "max_tool_bytes": p.MaxToolBytes} {
		if v < -1 || v == 0 {
			return fmt.Errorf("%s %d: want a positive number or -1 (no limit)", name, v)
		}
	}
	if p.OversizeStatus != 400 && p.OversizeStatus != 413 {
		return fmt.Errorf("oversize_status %d: want 400 or 413", p.OversizeStatus)
	}
	checks := []error{
		oneOf("on_oversize", p.OnOversize, OversizeBlock, OversizeTruncate),
		oneOf("client_system", p.ClientSystem, ClientSystemAllow, ClientSystemBlock, ClientSystemStrip),
		oneOf("system_prompt_mode", p.SystemPromptMode, SystemPrepend, SystemReplace),
		oneOf("system_prompt_missing", p.SystemPromptMissing, ActionFlag, ActionBlock),
		oneOf("role_markers", p.RoleMarkers, ActionFlag, ActionBlock, ActionOff),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	for _, part := range p.AllowedParts {
		if strings.TrimSpace(part) == "" {
			return fmt.Errorf("allowed_parts: empty entry")
		}
		if part == "none" && len(p.AllowedParts) > 1 {
			return fmt.Errorf(`allowed_parts: "none" must stand alone`)
		}
	}
	return nil
}
