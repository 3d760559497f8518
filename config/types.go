// Package config loads, validates and defaults rampart's configuration: a
// YAML file (unknown keys are errors), RAMPART_* environment overrides, and
// an embedded default policy used when no file is given.
package config

import "time"

// Config is the whole gateway configuration.
type Config struct {
	// Server is the HTTP listener.
	Server Server `yaml:"server"`
	// DataDir holds the embedded SQLite database and other state.
	// Default "./rampart-data". Flag --data overrides it.
	DataDir string `yaml:"data_dir"`
	// Upstreams are the model providers rampart forwards to. Empty: the
	// built-in demo model answers (clearly labelled, for trying rampart out).
	Upstreams []Upstream `yaml:"upstreams"`
	// Layers configures each security layer by name (see layers/chain.go
	// for the order). A layer not listed runs with its defaults.
	Layers map[string]Layer `yaml:"layers"`
	// Audit configures the audit log.
	Audit Audit `yaml:"audit"`
	// Log configures structured logging.
	Log Log `yaml:"log"`
}

// Server configures the HTTP listener and its protections against slow or
// oversized clients.
type Server struct {
	// Listen is the address to listen on. Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// MaxBodyBytes caps a request body; larger requests get 413.
	// Default 10 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxResponseBytes caps a whole (non-streamed) upstream response that
	// output layers must read; larger answers fail closed with 502.
	// Default 32 MiB.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// MaxHeaderBytes caps request headers. Default 64 KiB.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ReadHeaderTimeout bounds reading request headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request. Default 60s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownGrace is how long shutdown waits for in-flight requests and
	// streams to finish. Default 30s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// Upstream is one model provider endpoint.
type Upstream struct {
	// Name identifies the upstream in routing, metrics and audit.
	Name string `yaml:"name"`
	// Provider is "openai" (any OpenAI-compatible API: OpenAI, Azure
	// OpenAI, vLLM, Ollama, ...) or "anthropic".
	Provider string `yaml:"provider"`
	// BaseURL is the API base URL as the provider's SDK takes it, e.g.
	// "https://api.openai.com/v1" or "https://api.anthropic.com/v1".
	BaseURL string `yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the provider
	// credential rampart sends upstream. Clients never see it.
	// Default OPENAI_API_KEY / ANTHROPIC_API_KEY by provider.
	APIKeyEnv string `yaml:"api_key_env"`
	// Models are glob patterns (path.Match) of model names routed here,
	// e.g. ["gpt-*", "o3*"]. The first upstream whose pattern matches wins;
	// an upstream with no patterns is the fallback for its provider.
	Models []string `yaml:"models"`
	// Routes limits this upstream to some API routes (e.g.
	// ["/v1/embeddings"]); empty means all routes of its provider.
	Routes []string `yaml:"routes"`
	// Timeout bounds a whole non-streamed upstream call; for streams it
	// bounds the wait for the response headers. Default 120s.
	Timeout time.Duration `yaml:"timeout"`
	// StreamIdleTimeout ends a stream when the upstream sends nothing for
	// this long. Default 60s.
	StreamIdleTimeout time.Duration `yaml:"stream_idle_timeout"`
	// ConnectTimeout bounds dialing the upstream. Default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
}

// Layer is the generic part of every layer's configuration. Options holds
// the layer-specific rest, decoded strictly by the layer itself.
type Layer struct {
	// Mode is "enforce" (apply decisions), "monitor" (record what would
	// have happened, let traffic through) or "off". Default per layer.
	Mode string `yaml:"mode"`
	// Failure is "closed" (an internal error blocks with 503, the default)
	// or "open" (record the error and continue).
	Failure string `yaml:"failure"`
	// Options are the layer's own settings (see the layer's README).
	Options map[string]any `yaml:",inline"`

	// name and line are where the section came from (set by Load and
	// Config.Layer), used to prefix Decode errors; not configuration.
	name string
	line int
}

// Audit configures the audit log.
type Audit struct {
	// Enabled turns the audit log on. Default true.
	Enabled *bool `yaml:"enabled"`
	// Sync writes each record before the answer completes (no loss window,
	// slower). Default false: records are batched.
	Sync bool `yaml:"sync"`
	// BatchSize is the maximum records per write batch. Default 256.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval bounds how long a record waits in memory (the loss
	// window on a crash). Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// QueueSize bounds records waiting to be written; when full, records
	// are counted as dropped (metric) rather than blocking requests.
	// Default 10000.
	QueueSize int `yaml:"queue_size"`
	// HMACKeyEnv names the environment variable holding the key for the
	// content HMAC in audit records. Unset: a random key is generated and
	// kept in the data directory.
	HMACKeyEnv string `yaml:"hmac_key_env"`
	// CaptureContent stores raw prompt and answer text in audit records.
	// Default false; only turn on where policy allows it.
	CaptureContent bool `yaml:"capture_content"`
}

// Log configures structured (slog JSON) logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}
