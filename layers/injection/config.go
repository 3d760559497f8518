package injection

import (
	"errors"
	"fmt"
	"github.com/rampart-ai/rampart/detect"
	"math"
)

// Actions.
const (
	LongTextScan   = "scan"
	LongTextRefuse = "refuse"

	ActionBlock  = "block"
	ActionFlag   = "flag"
	ActionIgnore = "ignore" // special tokens only
)

// Config is the layer's section under "layers: injection:".
type Config struct {
	// UserThreshold is the calibrated score (0..1) at or above which user
	// text counts as an attack. 0 means the model's default, chosen when
	// the model was trained on out-of-fold train scores pooled with dev
	// scores (see docs/DETECTION.md). Lower catches more and blocks more
	// innocent prompts.
	UserThreshold float64 `yaml:"user_threshold"`
	// UntrustedThreshold is the same for documents and tool results.
	// 0 means the trained default.
	UntrustedThreshold float64 `yaml:"untrusted_threshold"`
	// Action is what a detection does: "block" (default) answers 400 with
	// error code prompt_injection_detected; "flag" lets the request through
	// and records the finding in audit and metrics.
	Action string `yaml:"action"`
	// SpecialTokens is what chat-template control tokens (<|im_start|>,
	// [INST], <<SYS>>, ...) in scanned text do, whatever the score: "block"
	// (default), "flag" or "ignore".
	SpecialTokens string `yaml:"special_tokens"`
	// ScanSystem also scans system/developer prompts (default false: the
	// operator wrote them).
	ScanSystem bool `yaml:"scan_system"`
	// ScanAssistant also scans earlier assistant turns (default false).
	ScanAssistant bool `yaml:"scan_assistant"`
	// MaxScanBytes is the window the detector scans at once (default
	// 65536). A longer segment is scanned whole in overlapping windows
	// (long_text: scan, the default) or refused (long_text: refuse);
	// nothing is ever passed unscanned.
	MaxScanBytes int `yaml:"max_scan_bytes"`
	// LongText is what a segment longer than max_scan_bytes gets: "scan"
	// (default: every window of it is scanned, at a cost linear in its
	// length, bounded by the body limit) or "refuse" (413,
	// text_too_long_to_scan).
	LongText string `yaml:"long_text"`
	// AllowUnknownParts names content part types the provider adapter does
	// not know (a type added to an API after this release) that may pass
	// uninspected. By default every such part is refused (400,
	// unsupported_content_type, naming the type), so that a new API
	// feature is never a silent way around the scan. "*" allows all.
	AllowUnknownParts []string `yaml:"allow_unknown_parts"`
	// ScanPrefill scans a final assistant turn written by the client
	// (prefill: the model continues it) as user text. Default true.
	ScanPrefill *bool `yaml:"scan_prefill"`
	// Decoders scans decoded variants (base64, hex, URL encoding, ROT13,
	// leetspeak, reversed text, tag characters). Default true.
	Decoders *bool `yaml:"decoders"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	on := true
	prefill := true
	return Config{Action: ActionBlock, SpecialTokens: ActionBlock, MaxScanBytes: 64 << 10, Decoders: &on,
		LongText: LongTextScan, ScanPrefill: &prefill}
}

func (c *Config) fill() {
	d := Defaults()
	if c.Action == "" {
		c.Action = d.Action
	}
	if c.SpecialTokens == "" {
		c.SpecialTokens = d.SpecialTokens
	}
	if c.MaxScanBytes == 0 {
		c.MaxScanBytes = d.MaxScanBytes
	}
	if c.Decoders == nil {
		c.Decoders = d.Decoders
	}
	if c.LongText == "" {
		c.LongText = d.LongText
	}
	if c.ScanPrefill == nil {
		c.ScanPrefill = d.ScanPrefill
	}
}

// DetectOptions are the detector options this configuration asks for.
func (c Config) DetectOptions() detect.Options {
	return detect.Options{UserThreshold: c.UserThreshold, UntrustedThreshold: c.UntrustedThreshold,
		MaxScanBytes: c.MaxScanBytes, NoDecode: c.Decoders != nil && !*c.Decoders}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	for name, t := range map[string]float64{"user_threshold": c.UserThreshold, "untrusted_threshold": c.UntrustedThreshold} {
		if math.IsNaN(t) || t < 0 || t > 1 {
			errs = append(errs, fmt.Errorf("injection: %s %v outside [0, 1]", name, t))
		}
	}
	if c.Action != ActionBlock && c.Action != ActionFlag {
		errs = append(errs, fmt.Errorf("injection: action %q: want block or flag", c.Action))
	}
	switch c.SpecialTokens {
	case ActionBlock, ActionFlag, ActionIgnore:
	default:
		errs = append(errs, fmt.Errorf("injection: special_tokens %q: want block, flag or ignore", c.SpecialTokens))
	}
	if c.LongText != LongTextScan && c.LongText != LongTextRefuse {
		return fmt.Errorf("injection: long_text %q: want scan or refuse", c.LongText)
	}
	for _, t := range c.AllowUnknownParts {
		if t == "" {
			return fmt.Errorf("injection: allow_unknown_parts: empty entry")
		}
	}
	if c.MaxScanBytes < 256 || c.MaxScanBytes > 16<<20 {
		errs = append(errs, fmt.Errorf("injection: max_scan_bytes %d outside [256, 16777216]", c.MaxScanBytes))
	}
	return errors.Join(errs...)
}
