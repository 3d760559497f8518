package guardmodel

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// APIs the layer can call.
const (
	APIChat        = "chat"        // POST {endpoint}/chat/completions
	APICompletions = "completions" // POST {endpoint}/completions
)

// Error handling.
const (
	OnErrorClosed = "closed"
	OnErrorOpen   = "open"
)

// Stream handling.
const (
	StreamAfter = "after"
	StreamHold  = "hold"
	StreamOff   = "off"
)

// Category is one hazard category of the guard model's taxonomy.
type Category struct {
	// Code is what the model answers, e.g. "S1".
	Code string `yaml:"code"`
	// Name is the human-readable name, e.g. "Violent Crimes".
	Name string `yaml:"name"`
}

// Llama Guard 3's categories (MLCommons hazard taxonomy).
var defaultCategories = []Category{
	{"S1", "Violent Crimes"}, {"S2", "Non-Violent Crimes"}, {"S3", "Sex-Related Crimes"},
	{"S4", "Child Sexual Exploitation"}, {"S5", "Defamation"}, {"S6", "Specialized Advice"},
	{"S7", "Privacy"}, {"S8", "Intellectual Property"}, {"S9", "Indiscriminate Weapons"},
	{"S10", "Hate"}, {"S11", "Suicide & Self-Harm"}, {"S12", "Sexual Content"},
	{"S13", "Elections"}, {"S14", "Code Interpreter Abuse"},
}

// DefaultCategories returns a copy of Llama Guard 3's S1–S14 list.
func DefaultCategories() []Category { return append([]Category(nil), defaultCategories...) }

// Config is the layer's section under "layers: guardmodel:".
type Config struct {
	// Endpoint is the base URL of an OpenAI-compatible API serving the
	// guard model, e.g. "http://127.0.0.1:8000/v1" (vLLM) or
	// "http://127.0.0.1:11434/v1" (Ollama). Required.
	Endpoint string `yaml:"endpoint"`
	// Model is the model name sent in requests. Default
	// "meta-llama/Llama-Guard-3-8B".
	Model string `yaml:"model"`
	// APIKeyEnv names an environment variable holding a bearer token for
	// the endpoint (optional).
	APIKeyEnv string `yaml:"api_key_env"`
	// API is "chat" (default: the conversation is sent as chat messages and
	// the server's chat template for the model formats the Llama Guard
	// prompt) or "completions" (the layer renders Template itself and sends
	// it as a raw prompt).
	API string `yaml:"api"`
	// Template is the prompt the layer renders for API "completions", or,
	// when set with API "chat", sends as one user message (for general
	// judge models). Placeholders: {role} ("User" or "Agent"),
	// {categories} ("S1: Violent Crimes." lines) and {conversation}
	// ("User: ..." / "Agent: ..." turns). Default: Llama Guard 3's template.
	Template string `yaml:"template"`
	// Categories are the model's categories (codes and names). Default
	// Llama Guard 3's S1–S14.
	Categories []Category `yaml:"categories"`
	// BlockCategories are the codes that block; other unsafe categories
	// are flagged. Default: all.
	BlockCategories []string `yaml:"block_categories"`
	// Input classifies requests before they go upstream. Default true.
	Input *bool `yaml:"input"`
	// Output classifies whole responses. Default false.
	Output bool `yaml:"output"`
	// Stream is how streamed answers are classified when Output is on:
	// "after" (default: text streams through; at the end of the stream the
	// assembled text is classified and an unsafe answer ends the stream
	// with an error event — the client has already seen the text, so this
	// records and cuts, it does not hide), "hold" (text is held back until
	// the stream ends and released only if safe: no streaming latency
	// benefit) or "off".
	Stream string `yaml:"stream"`
	// MaxStreamBytes bounds the assembled stream text. Beyond it, "after"
	// classifies the first MaxStreamBytes; "hold" applies on_error.
	// Default 65536.
	MaxStreamBytes int `yaml:"max_stream_bytes"`
	// MaxChars bounds the conversation text sent to the guard (the most
	// recent turns are kept). Default 32000.
	MaxChars int `yaml:"max_chars"`
	// Timeout bounds one guard call. Default 5s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxConcurrency caps guard calls in flight; a call over the cap is
	// not queued but treated as an error (on_error). Default 16.
	MaxConcurrency int `yaml:"max_concurrency"`
	// OnError is what a failed guard call (timeout, 5xx, malformed answer,
	// over the concurrency cap) does: "closed" (default: 503
	// guard_unavailable) or "open" (the request passes, flagged).
	OnError string `yaml:"on_error"`
	// CacheTTL is how long a verdict is reused for the same text
	// (SHA-256). Default 60s; 0 in config means the default, -1s disables.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// CacheSize bounds cached verdicts. Default 10000.
	CacheSize int `yaml:"cache_size"`
	// MaxAnswerBytes bounds the guard's HTTP answer. Default 65536.
	MaxAnswerBytes int64 `yaml:"max_answer_bytes"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	on := true
	return Config{Model: "meta-llama/Llama-Guard-3-8B", API: APIChat, Template: "", Input: &on,
		Stream: StreamAfter, MaxStreamBytes: 64 << 10, MaxChars: 32000, Timeout: 5 * time.Second,
		MaxConcurrency: 16, OnError: OnErrorClosed, CacheTTL: time.Minute, CacheSize: 10000,
		MaxAnswerBytes: 64 << 10}
}

func (c *Config) fill() {
	d := Defaults()
	if c.Model == "" {
		c.Model = d.Model
	}
	if c.API == "" {
		c.API = d.API
	}
	if c.Input == nil {
		c.Input = d.Input
	}
	if c.Stream == "" {
		c.Stream = d.Stream
	}
	if c.MaxStreamBytes == 0 {
		c.MaxStreamBytes = d.MaxStreamBytes
	}
	if c.MaxChars == 0 {
		c.MaxChars = d.MaxChars
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = d.MaxConcurrency
	}
	if c.OnError == "" {
		c.OnError = d.OnError
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = d.CacheTTL
	}
	if c.CacheSize == 0 {
		c.CacheSize = d.CacheSize
	}
	if c.MaxAnswerBytes == 0 {
		c.MaxAnswerBytes = d.MaxAnswerBytes
	}
	if len(c.Categories) == 0 {
		c.Categories = DefaultCategories()
	}
	if c.API == APICompletions && c.Template == "" {
		c.Template = LlamaGuard3Template
	}
}

// Validate checks a filled configuration.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.Endpoint)
	if c.Endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("guardmodel: endpoint %q: want an http(s) base URL such as http://127.0.0.1:8000/v1", c.Endpoint))
	}
	if c.API != APIChat && c.API != APICompletions {
		errs = append(errs, fmt.Errorf("guardmodel: api %q: want chat or completions", c.API))
	}
	if c.Template != "" && !strings.Contains(c.Template, "{conversation}") {
		errs = append(errs, fmt.Errorf("guardmodel: template must contain {conversation}"))
	}
	if c.Stream != StreamAfter && c.Stream != StreamHold && c.Stream != StreamOff {
		errs = append(errs, fmt.Errorf("guardmodel: stream %q: want after, hold or off", c.Stream))
	}
	if c.OnError != OnErrorClosed && c.OnError != OnErrorOpen {
		errs = append(errs, fmt.Errorf("guardmodel: on_error %q: want closed or open", c.OnError))
	}
	if c.Timeout < 0 || c.MaxConcurrency < 1 || c.MaxChars < 1 || c.MaxStreamBytes < 1 || c.CacheSize < 1 ||
		c.MaxAnswerBytes < 1 {
		errs = append(errs, fmt.Errorf("guardmodel: timeout, max_concurrency, max_chars, max_stream_bytes, cache_size and max_answer_bytes must be positive"))
	}
	codes := map[string]bool{}
	for _, cat := range c.Categories {
		if cat.Code == "" || strings.ContainsAny(cat.Code, ", \n") {
			errs = append(errs, fmt.Errorf("guardmodel: category code %q", cat.Code))
		}
		codes[cat.Code] = true
	}
	for _, b := range c.BlockCategories {
		if !codes[b] {
			errs = append(errs, fmt.Errorf("guardmodel: block_categories: unknown category %q", b))
		}
	}
	return errors.Join(errs...)
}
