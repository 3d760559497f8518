package gateway

import (
	"net/http"
	"strings"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
)

// Route is one route the gateway serves.
type Route struct {
	Method string
	Path   string
	// API is true for model API routes, which pass the security chain;
	// false for operational endpoints (health, metrics).
	API bool
	// Provider is the API family of an API route: "openai", "anthropic"
	// or "gemini".
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
	{Method: http.MethodPost, Path: geminiGenerate, API: true, Provider: "gemini", Kind: conv.KindGenerateContent},
	{Method: http.MethodPost, Path: geminiStream, API: true, Provider: "gemini", Kind: conv.KindGenerateContent},
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
	if call, found := strings.CutPrefix(p, geminiPrefix); found {
		return geminiRoute(p, call)
	}
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

// Gemini API routes: Google's custom-method paths, the model in the path.
const (
	geminiPrefix   = "/v1beta/models/"
	geminiGenerate = geminiPrefix + "{model}:generateContent"
	geminiStream   = geminiPrefix + "{model}:streamGenerateContent"
)

// geminiRoute maps /v1beta/models/<model>:<method> to its route pattern.
// ok is false for a malformed model name (empty, over maxModelID bytes,
// or other than letters, digits and . _ -); an unknown method keeps the
// path (answered 404).
func geminiRoute(p, call string) (string, bool) {
	i := strings.LastIndexByte(call, ':')
	if i < 0 {
		return p, true
	}
	var route string
	switch call[i:] {
	case ":generateContent":
		route = geminiGenerate
	case ":streamGenerateContent":
		route = geminiStream
	default:
		return p, true
	}
	if _, ok := geminiModel(p); !ok {
		return p, false
	}
	return route, true
}

// geminiModel is the model named in a Gemini route's path, if valid.
func geminiModel(p string) (string, bool) {
	call := strings.TrimPrefix(p, geminiPrefix)
	i := strings.LastIndexByte(call, ':')
	if i <= 0 || i > maxModelID {
		return "", false
	}
	m := call[:i]
	for j := 0; j < len(m); j++ {
		b := m[j]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-') {
			return "", false
		}
	}
	return m, true
}

// geminiFromRequest completes a parsed Gemini conversation from the path:
// the model (its allow-lists, limits and pricing apply) and whether the
// call streams.
func geminiFromRequest(r *http.Request, c *conv.Conversation) error {
	m, ok := geminiModel(r.URL.Path)
	if !ok {
		return &provider.Error{Status: http.StatusNotFound, Code: "model_not_found", Message: "the model name in the path is not valid"}
	}
	c.Model = m
	c.Stream = strings.HasSuffix(r.URL.Path, ":streamGenerateContent")
	return nil
}
