package gateway

import (
	"context"
	"fmt"
	"strings"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/layers/blocklist"
	"github.com/rampart-ai/rampart/layers/identity"
	"github.com/rampart-ai/rampart/layers/network"
	"github.com/rampart-ai/rampart/layers/ratelimit"
	"github.com/rampart-ai/rampart/mcpgw"
	"github.com/rampart-ai/rampart/store"
)

// mcpAdmission names the chain layers an MCP call passes before the MCP
// checks: the network lists, identity, blocks and rate limits — the same
// layer instances (and so the same counters and caches) as the model
// routes. Content layers do not apply: the MCP checks inspect MCP content
// themselves (package mcpgw).
var mcpAdmission = map[string]bool{network.Name: true, identity.Name: true, blocklist.Name: true, ratelimit.Name: true}

// newMCP builds the MCP proxy of a generation (nil when no MCP server is
// configured): an engine over the admission layers of chain, which writes
// the audit records and feeds incident response like the model routes',
// and the proxy over it with the generation's scanner.
func (g *Gateway) newMCP(cfg *config.Config, chain []engine.Configured, sc *scan.Scanner) (*mcpgw.Gateway, error) {
	if len(cfg.MCP.Servers) == 0 {
		return nil, nil
	}
	var adm []engine.Configured
	for _, c := range chain {
		if !mcpAdmission[c.Layer.Name()] {
			continue
		}
		if c.Layer.Name() == identity.Name {
			// Authentication and the route permission only: the identity
			// layer's request phase checks a key's model allow-list, and
			// an MCP call names a tool, not a model.
			c.Layer = headersOnly{c.Layer.(engine.HeadersLayer)}
		}
		adm = append(adm, c)
	}
	eng, err := engine.New(engine.Options{Layers: adm, Recorder: g.rec, Observer: g.obs, ContentKey: g.key, Logger: g.log})
	if err != nil {
		return nil, fmt.Errorf("mcp: %w", err)
	}
	pins, _ := g.store.(store.MCPToolStore)
	return mcpgw.New(mcpgw.Options{
		Config:  cfg.MCP,
		Guard:   eng.Guard,
		Admit:   func(gd *engine.Guarded) *engine.Refusal { return gd.Admit() },
		Scanner: sc,
		Pins:    pins,
		Credential: func(s config.MCPServer) string {
			switch {
			case s.TokenSecret != "":
				return g.getenv(secretRef(s.TokenSecret))
			case s.TokenEnv != "":
				return g.getenv(s.TokenEnv)
			}
			return ""
		},
		Alert:      g.mcpAlert(),
		SessionKey: g.key,
		Logger:     g.log,
		Metrics:    g.mcpMetrics,
	})
}

// mcpAlert sends withheld tool definitions to the incident webhooks (nil
// when incident response is off).
func (g *Gateway) mcpAlert() func(ctx context.Context, server, tool, reason string) {
	r := g.responder
	if r == nil {
		return nil
	}
	return func(_ context.Context, server, tool, reason string) {
		r.NotifyMCPTool(incident.MCPToolAlert{Server: server, Tool: tool, Reason: reason})
	}
}

// headersOnly exposes only a layer's headers phase.
type headersOnly struct{ l engine.HeadersLayer }

func (h headersOnly) Name() string                                     { return h.l.Name() }
func (h headersOnly) OnHeaders(tx *engine.Tx) (engine.Decision, error) { return h.l.OnHeaders(tx) }

// isMCPPath reports whether path is an MCP server route (/mcp/<name>).
func isMCPPath(path string) bool {
	name, ok := strings.CutPrefix(path, mcpgw.RoutePrefix)
	return ok && name != "" && !strings.Contains(name, "/")
}

// checkMCPCredentials fails start-up (and reload) when an MCP server names
// a stored secret that cannot be read, as for upstream credentials.
func checkMCPCredentials(cfg *config.Config, lookup func(ctx context.Context, name string) (string, error)) error {
	for i, s := range cfg.MCP.Servers {
		if s.TokenSecret == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), secretLookupTimeout)
		_, err := lookup(ctx, s.TokenSecret)
		cancel()
		if err != nil {
			return fmt.Errorf("mcp.servers[%d] (%s): token_secret %q: %w", i, s.Name, s.TokenSecret, err)
		}
	}
	return nil
}
