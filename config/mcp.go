package config

import (
	"net/url"
	"path"
	"regexp"
	"time"
)

// MCP configures the Model Context Protocol gateway: rampart fronts MCP
// servers (Streamable HTTP transport) at /mcp/<name> with the same identity,
// blocks, rate limits and audit as the model routes, plus tool-definition
// scanning and pinning, tool-call argument checks and scanned tool results
// (package mcpgw). No servers: no /mcp routes.
type MCP struct {
	// Mode is "enforce" (default) or "monitor" (record what the MCP checks
	// would have done, change nothing). Identity, blocks and rate limits
	// follow their own layers' modes.
	Mode string `yaml:"mode"`
	// Servers are the upstream MCP servers, each served at /mcp/<name>.
	Servers []MCPServer `yaml:"servers"`
	// PoisonedTool is what happens to a tool whose definition the detector
	// or the tool-poisoning rules flag: "withhold" (default: the tool is
	// removed from tools/list and calls to it are refused) or
	// "block_server" (the whole tools/list answer is refused).
	PoisonedTool string `yaml:"poisoned_tool"`
	// Pin stores the first approved definition of every tool (hash of
	// name, description and schemas) and withholds a changed definition
	// until an administrator approves it. Default true.
	Pin *bool `yaml:"pin"`
	// InjectedResult is what replaces a tool result (or resource, prompt)
	// that carries an injection: "error" (default: a JSON-RPC error) or
	// "replace" (a neutral text block with isError true).
	InjectedResult string `yaml:"injected_result"`
	// SecretArguments is what a tool call whose arguments carry a secret
	// (API key, token, private key, password in a URL) gets: "block"
	// (default: a JSON-RPC error, nothing forwarded) or "redact".
	SecretArguments string `yaml:"secret_arguments"`
	// PIIArguments is what a tool call whose arguments carry personal data
	// gets: "flag" (default: recorded, forwarded), "redact" or "block".
	PIIArguments string `yaml:"pii_arguments"`
	// ResultSecrets is what secrets and personal data in tool results get:
	// "redact" (default: replaced by the output guard's placeholders
	// before the client sees them), "flag" or "block".
	ResultSecrets string `yaml:"result_secrets"`
	// UnknownMethods is what a client request whose method is not in the
	// MCP specification gets: "allow" (default: forwarded, recorded by
	// name "other" in metrics) or "block" (a JSON-RPC error).
	UnknownMethods string `yaml:"unknown_methods"`
	// MaxMessageBytes bounds one JSON-RPC body or stream event in either
	// direction. Default 4 MiB.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
}

// MCPServer is one upstream MCP server.
type MCPServer struct {
	// Name is the server's name, served at /mcp/<name> (lower-case
	// letters, digits, - and _).
	Name string `yaml:"name"`
	// URL is the upstream MCP endpoint (Streamable HTTP), e.g.
	// http://127.0.0.1:9000/mcp.
	URL string `yaml:"url"`
	// TokenEnv names an environment variable holding the credential sent
	// upstream; TokenSecret names a secret in rampart's encrypted store
	// instead. Neither: the upstream gets no credential. The client's own
	// rampart key is never forwarded.
	TokenEnv    string `yaml:"token_env"`
	TokenSecret string `yaml:"token_secret"`
	// AuthHeader is the header that carries the credential (default
	// Authorization, sent as "Bearer <token>"; any other header gets the
	// bare token).
	AuthHeader string `yaml:"auth_header"`
	// Timeout bounds a call until the upstream's response headers, and a
	// whole JSON answer. Default 60s.
	Timeout time.Duration `yaml:"timeout"`
	// StreamIdleTimeout ends an SSE answer or server stream when the
	// upstream sends nothing for this long. Default 5m.
	StreamIdleTimeout time.Duration `yaml:"stream_idle_timeout"`
	// Roles that may use the server (default: every role that may call
	// models: user, developer, admin). Tenants, when set, limits the server
	// to those tenants (global identities always pass this check).
	Roles   []string `yaml:"roles"`
	Tenants []string `yaml:"tenants"`
	// Tools are allow rules: a role may call a tool (and see it listed)
	// when a rule naming the role (or no roles) has a glob (path.Match)
	// matching the tool's name. No rules: every tool is allowed.
	Tools []MCPToolRule `yaml:"tools"`
	// DenyTools are globs of tools nobody may call or see (checked first).
	DenyTools []string `yaml:"deny_tools"`
	// URLHosts, when set, is the allowlist of hosts (globs, e.g.
	// "*.example.com") that URL arguments of tool calls may point to; a
	// call with a URL to any other host is refused.
	URLHosts []string `yaml:"url_hosts"`
}

// MCPToolRule allows some tools to some roles.
type MCPToolRule struct {
	Roles []string `yaml:"roles"`
	Allow []string `yaml:"allow"`
}

// MCP policy values.
var (
	MCPPoisonedTool   = []string{"withhold", "block_server"}
	MCPInjectedResult = []string{"error", "replace"}
	MCPSecretArgs     = []string{"block", "redact"}
	MCPPIIArgs        = []string{"flag", "redact", "block"}
	MCPResultSecrets  = []string{"redact", "flag", "block"}
	MCPModes          = []string{"enforce", "monitor"}
)

// MCP defaults.
const (
	// DefaultMCPMaxMessageBytes bounds one MCP message.
	DefaultMCPMaxMessageBytes = 4 << 20
	// DefaultMCPTimeout bounds a call until the response headers (and a
	// whole JSON answer).
	DefaultMCPTimeout = 60 * time.Second
	// DefaultMCPStreamIdle ends a silent stream.
	DefaultMCPStreamIdle = 5 * time.Minute
)

// mcpNameRE is what a server name may be (it becomes a URL path segment).
var mcpNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// PinEnabled reports whether tool pinning is on (the default).
func (m *MCP) PinEnabled() bool { return m.Pin == nil || *m.Pin }

func (m *MCP) applyDefaults() {
	if m.Mode == "" {
		m.Mode = "enforce"
	}
	if m.PoisonedTool == "" {
		m.PoisonedTool = "withhold"
	}
	if m.InjectedResult == "" {
		m.InjectedResult = "error"
	}
	if m.SecretArguments == "" {
		m.SecretArguments = "block"
	}
	if m.PIIArguments == "" {
		m.PIIArguments = "flag"
	}
	if m.ResultSecrets == "" {
		m.ResultSecrets = "redact"
	}
	if m.UnknownMethods == "" {
		m.UnknownMethods = "allow"
	}
	if m.MaxMessageBytes == 0 {
		m.MaxMessageBytes = DefaultMCPMaxMessageBytes
	}
	for i := range m.Servers {
		s := &m.Servers[i]
		if s.AuthHeader == "" {
			s.AuthHeader = "Authorization"
		}
		if s.Timeout == 0 {
			s.Timeout = DefaultMCPTimeout
		}
		if s.StreamIdleTimeout == 0 {
			s.StreamIdleTimeout = DefaultMCPStreamIdle
		}
	}
}

func (m *MCP) validate(v *checker) {
	p := []any{"mcp"}
	oneOf(v, at(p, "mode"), m.Mode, MCPModes, false)
	oneOf(v, at(p, "poisoned_tool"), m.PoisonedTool, MCPPoisonedTool, false)
	oneOf(v, at(p, "injected_result"), m.InjectedResult, MCPInjectedResult, false)
	oneOf(v, at(p, "secret_arguments"), m.SecretArguments, MCPSecretArgs, false)
	oneOf(v, at(p, "pii_arguments"), m.PIIArguments, MCPPIIArgs, false)
	oneOf(v, at(p, "result_secrets"), m.ResultSecrets, MCPResultSecrets, false)
	oneOf(v, at(p, "unknown_methods"), m.UnknownMethods, []string{"allow", "block"}, false)
	if m.MaxMessageBytes < 1024 || m.MaxMessageBytes > 256<<20 {
		v.add(at(p, "max_message_bytes"), "%d must be between 1024 and 268435456", m.MaxMessageBytes)
	}
	seen := map[string]bool{}
	for i := range m.Servers {
		s := &m.Servers[i]
		sp := at(p, "servers", i)
		if !mcpNameRE.MatchString(s.Name) {
			v.add(at(sp, "name"), "%q must be 1-63 lower-case letters, digits, - or _", s.Name)
		} else if seen[s.Name] {
			v.add(at(sp, "name"), "%q is used twice", s.Name)
		}
		seen[s.Name] = true
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(at(sp, "url"), "must be an http(s) URL with a host")
		} else if u.User != nil {
			v.add(at(sp, "url"), "must not carry credentials (use token_env or token_secret)")
		}
		if s.TokenEnv != "" && s.TokenSecret != "" {
			v.add(at(sp, "token_secret"), "set token_env or token_secret, not both")
		}
		if s.TokenEnv != "" && !envNameRE.MatchString(s.TokenEnv) {
			v.add(at(sp, "token_env"), "%q is not an environment variable name", s.TokenEnv)
		}
		duration(v, at(sp, "timeout"), s.Timeout)
		duration(v, at(sp, "stream_idle_timeout"), s.StreamIdleTimeout)
		for j, r := range s.Roles {
			oneOf(v, at(sp, "roles", j), r, mcpRoles, false)
		}
		for j, r := range s.Tools {
			for k, role := range r.Roles {
				oneOf(v, at(sp, "tools", j, "roles", k), role, mcpRoles, false)
			}
			if len(r.Allow) == 0 {
				v.add(at(sp, "tools", j, "allow"), "must name at least one tool glob")
			}
			for k, g := range r.Allow {
				checkGlob(v, at(sp, "tools", j, "allow", k), g)
			}
		}
		for j, g := range s.DenyTools {
			checkGlob(v, at(sp, "deny_tools", j), g)
		}
		for j, g := range s.URLHosts {
			checkGlob(v, at(sp, "url_hosts", j), g)
		}
	}
}

// mcpRoles are the roles an MCP rule may name (the identity roles).
var mcpRoles = []string{"viewer", "user", "developer", "admin"}

func checkGlob(v *checker, p []any, g string) {
	if g == "" {
		v.add(p, "must not be empty")
		return
	}
	if _, err := path.Match(g, ""); err != nil {
		v.add(p, "%q is not a valid glob", g)
	}
}
