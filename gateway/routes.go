package gateway

import (
	"net/http"
	"strings"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/conv"
)

// Route is one route the gateway serves.
type Route struct {
	Method string
	Path   string
	// API is true for model API routes, which pass the security chain;
	// false for operational endpoints (health, metrics).
	API bool
	// Provider is the API family of an API route: "openai" or "anthropic".
	Provider string
	// Kind is the kind of call of an API route.
	Kind conv.Kind
	// Admin is true for routes of the admin API (package admin); Path is
	// then a net/http pattern such as /admin/keys/{id}.
	Admin bool
	// MCP is true for the MCP server routes (package mcpgw); Path is then
	// the pattern /mcp/{server}.
	MCP bool
	// Console is true for the admin console's routes (package ui); Path
	// is then a net/http pattern such as /ui/keys/{id}/revoke.
	Console bool
}

var routeTable = []Route{
	{Method: http.MethodPost, Path: "/v1/chat/completions", API: true, Provider: "openai", Kind: conv.KindChat},
	{Method: http.MethodPost, Path: "/v1/completions", API: true, Provider: "openai", Kind: conv.KindCompletion},
	{Method: http.MethodPost, Path: "/v1/responses", API: true, Provider: "openai", Kind: conv.KindResponses},
	{Method: http.MethodPost, Path: "/v1/embeddings", API: true, Provider: "openai", Kind: conv.KindEmbedding},
	{Method: http.MethodGet, Path: "/v1/models", API: true, Provider: "openai", Kind: conv.KindModels},
	{Method: http.MethodGet, Path: modelPath, API: true, Provider: "openai", Kind: conv.KindModels},
	{Method: http.MethodPost, Path: "/v1/moderations", API: true, Provider: "openai", Kind: conv.KindModeration},
	{Method: http.MethodPost, Path: "/v1/messages", API: true, Provider: "anthropic", Kind: conv.KindChat},
	{Method: http.MethodPost, Path: "/v1/messages/count_tokens", API: true, Provider: "anthropic", Kind: conv.KindCountTokens},
	{Method: http.MethodGet, Path: "/healthz"},
	{Method: http.MethodGet, Path: "/readyz"},
	{Method: http.MethodGet, Path: "/metrics"},
	{Method: http.MethodPost, Path: "/v1/scan"},
	{Method: http.MethodPost, Path: "/mcp/{server}", MCP: true},
	{Method: http.MethodGet, Path: "/mcp/{server}", MCP: true},
	{Method: http.MethodDelete, Path: "/mcp/{server}", MCP: true},
}

// Routes returns every route the gateway serves, admin API included.
func Routes() []Route {
	out := append([]Route(nil), routeTable...)
	for _, r := range admin.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Pattern, Admin: true})
	}
	return append(out, consoleRoutes()...)
}

// modelPath is the pattern of GET /v1/models/{id} (models.retrieve).
const modelPath = "/v1/models/{id}"

// maxModelID bounds a model id in a path.
const maxModelID = 256

// routePath maps a request path to its route's path: itself, or the
// /v1/models/{id} pattern for a model id that is safe to pass upstream
// (letters, digits and . _ : @ - /, no empty or dot-dot segment, at most
// maxModelID bytes). ok is false for a malformed id.
func routePath(p string) (route string, ok bool) {
	id, found := strings.CutPrefix(p, "/v1/models/")
	if !found {
		return p, true
	}
	if id == "" || len(id) > maxModelID {
		return p, false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("._:@-/", b) >= 0) {
			return p, false
		}
	}
	for _, seg := range strings.Split(id, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return p, false
		}
	}
	return modelPath, true
}
