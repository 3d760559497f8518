package identity

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Permission is what a route needs. Each role holds a fixed set of them.
type Permission string

const (
	// PermPublic marks a route that needs no identity at all (health checks).
	PermPublic Permission = "public"
	// PermRead reads metadata: model lists, roles, the caller's audit trail.
	PermRead Permission = "read"
	// PermExecute calls models (chat, completions, embeddings, messages).
	PermExecute Permission = "execute"
	// PermWrite reads and changes developer-level configuration, e.g. key
	// metadata of the caller's tenant.
	PermWrite Permission = "write"
	// PermAdmin manages keys and tenants.
	PermAdmin Permission = "admin"
	// PermMetrics reads /metrics (Prometheus scraping) and nothing else.
	PermMetrics Permission = "metrics"
)

// Roles, from least to most privileged. RoleMetrics is outside that
// order: it holds only PermMetrics (a Prometheus scrape key).
const (
	RoleMetrics   = "metrics"
	RoleViewer    = "viewer"
	RoleUser      = "user"
	RoleDeveloper = "developer"
	RoleAdmin     = "admin"
)

// GlobalTenant is the tenant of identities that manage every tenant.
const GlobalTenant = "*"

// rolePermissions is the one mapping from role to permissions.
var rolePermissions = map[string][]Permission{
	RoleMetrics:   {PermMetrics},
	RoleViewer:    {PermRead},
	RoleUser:      {PermRead, PermExecute},
	RoleDeveloper: {PermRead, PermExecute, PermWrite},
	RoleAdmin:     {PermRead, PermExecute, PermWrite, PermAdmin, PermMetrics},
}

// RoutePermission is one row of the permission table.
type RoutePermission struct {
	Method     string     `json:"method"`
	Pattern    string     `json:"pattern"` // net/http ServeMux pattern path, e.g. /admin/keys/{id}
	Permission Permission `json:"permission"`
}

// routeTable is THE permission table: every route rampart serves and the
// permission it needs. docs/PERMISSIONS.md is its written form; the
// gateway's tests fail when the two differ or when the gateway serves a
// route that neither names. A route not listed here is denied for everyone
// (deny by default). Admin routes are also checked for tenant scope by the
// admin handlers; this table only says which role may call them at all.
var routeTable = []RoutePermission{
	// Operational endpoints.
	{http.MethodGet, "/healthz", PermPublic},
	{http.MethodGet, "/readyz", PermPublic},
	{http.MethodGet, "/metrics", PermMetrics},

	// Model API (OpenAI- and Anthropic-compatible).
	{http.MethodGet, "/v1/models", PermRead},
	{http.MethodGet, "/v1/models/{id}", PermRead},
	{http.MethodPost, "/v1/moderations", PermExecute},
	{http.MethodPost, "/v1/messages/count_tokens", PermExecute},
	{http.MethodPost, "/v1/chat/completions", PermExecute},
	{http.MethodPost, "/v1/completions", PermExecute},
	{http.MethodPost, "/v1/embeddings", PermExecute},
	{http.MethodPost, "/v1/responses", PermExecute},
	{http.MethodPost, "/v1/messages", PermExecute},
	// Gemini API (Google's custom-method paths: the model, then ":method").
	{http.MethodPost, "/v1beta/models/{model}:generateContent", PermExecute},
	{http.MethodPost, "/v1beta/models/{model}:streamGenerateContent", PermExecute},
	{http.MethodPost, "/v1/scan", PermExecute},

	// MCP servers fronted by the gateway (package mcpgw); which roles and
	// tenants may use each server, and which tools, is the server's
	// configuration (mcp.servers[].roles, tenants, tools).
	{http.MethodPost, "/mcp/{server}", PermExecute},
	{http.MethodGet, "/mcp/{server}", PermExecute},
	{http.MethodDelete, "/mcp/{server}", PermExecute},

	// Admin API (package admin).
	{http.MethodGet, "/admin/roles", PermRead},
	{http.MethodGet, "/admin/audit", PermRead},
	// Spend per key and user of a tenant: administrators only.
	{http.MethodGet, "/admin/spend", PermAdmin},
	{http.MethodGet, "/admin/keys", PermWrite},
	{http.MethodPost, "/admin/keys", PermAdmin},
	{http.MethodDelete, "/admin/keys/{id}", PermAdmin},
	{http.MethodPost, "/admin/keys/{id}/rotate", PermAdmin},
	{http.MethodPatch, "/admin/keys/{id}", PermAdmin},
	{http.MethodGet, "/admin/tenants", PermAdmin},
	{http.MethodPost, "/admin/tenants", PermAdmin},
	{http.MethodPatch, "/admin/tenants/{id}", PermAdmin},
	{http.MethodDelete, "/admin/subjects/{id}", PermAdmin},
	{http.MethodGet, "/admin/blocks", PermWrite},
	{http.MethodPost, "/admin/blocks", PermAdmin},
	{http.MethodDelete, "/admin/blocks/{id}", PermAdmin},
	{http.MethodGet, "/admin/mcp/tools", PermAdmin},
	{http.MethodPost, "/admin/mcp/tools/decide", PermAdmin},
	// Who the caller is (the admin console asks on every page).
	{http.MethodGet, "/admin/whoami", PermRead},
	// Review feedback on (would-be) blocks, and its JSONL export.
	{http.MethodGet, "/admin/feedback", PermWrite},
	{http.MethodPost, "/admin/feedback", PermWrite},

	// Admin console (package ui): each page and action needs what the
	// admin API calls it makes need (the API decides; see docs/PERMISSIONS.md).
	// Sign-in, sign-out and static files need no identity.
	{http.MethodGet, "/ui/{$}", PermRead},
	{http.MethodGet, "/ui/login", PermPublic},
	{http.MethodPost, "/ui/login", PermPublic},
	{http.MethodPost, "/ui/logout", PermPublic},
	{http.MethodGet, "/ui/oidc/start", PermPublic},
	{http.MethodGet, "/ui/oidc/callback", PermPublic},
	{http.MethodGet, "/ui/static/{file}", PermPublic},
	{http.MethodGet, "/ui/keys", PermWrite},
	{http.MethodPost, "/ui/keys", PermAdmin},
	{http.MethodPost, "/ui/keys/{id}/revoke", PermAdmin},
	{http.MethodPost, "/ui/keys/{id}/rotate", PermAdmin},
	{http.MethodPost, "/ui/keys/{id}/limits", PermAdmin},
	{http.MethodPost, "/ui/tenants", PermAdmin},
	{http.MethodPost, "/ui/tenants/{id}/limits", PermAdmin},
	{http.MethodGet, "/ui/blocks", PermWrite},
	{http.MethodPost, "/ui/blocks", PermAdmin},
	{http.MethodPost, "/ui/blocks/{id}/remove", PermAdmin},
	{http.MethodGet, "/ui/audit", PermRead},
	{http.MethodGet, "/ui/review", PermRead},
	{http.MethodPost, "/ui/review/feedback", PermWrite},
	{http.MethodGet, "/ui/review/export", PermWrite},
	{http.MethodGet, "/ui/scan", PermRead},
	{http.MethodPost, "/ui/scan", PermExecute},
}

// RoutePermissions returns a copy of the permission table, sorted by
// pattern then method.
func RoutePermissions() []RoutePermission {
	out := append([]RoutePermission(nil), routeTable...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Roles returns the known roles: metrics, then viewer … admin, least
// privileged first.
func Roles() []string { return []string{RoleMetrics, RoleViewer, RoleUser, RoleDeveloper, RoleAdmin} }

// CanGrant reports whether a caller with role granter may give role to a
// key: only when every permission of role is also the granter's (a caller
// never grants more than it has).
func CanGrant(granter, role string) bool {
	if !ValidRole(role) || !ValidRole(granter) {
		return false
	}
	for _, p := range rolePermissions[role] {
		if !RoleHas(granter, p) {
			return false
		}
	}
	return true
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { _, ok := rolePermissions[role]; return ok }

// RolePermissions returns the permissions a role holds (nil for an unknown role).
func RolePermissions(role string) []Permission {
	return append([]Permission(nil), rolePermissions[role]...)
}

// RoleHas reports whether role holds permission p. PermPublic is held by
// every caller, known role or not.
func RoleHas(role string, p Permission) bool {
	if p == PermPublic {
		return true
	}
	for _, q := range rolePermissions[role] {
		if q == p {
			return true
		}
	}
	return false
}

// RoleRank orders roles by privilege (metrics 1, viewer 2 … admin 5;
// unknown 0): it picks the highest of several roles a token maps to.
// Whether one role may grant another is CanGrant.
func RoleRank(role string) int {
	switch role {
	case RoleMetrics:
		return 1
	case RoleViewer:
		return 2
	case RoleUser:
		return 3
	case RoleDeveloper:
		return 4
	case RoleAdmin:
		return 5
	}
	return 0
}

var (
	matcherOnce sync.Once
	matcher     *http.ServeMux
	patternPerm map[string]Permission
	methodRows  []methodRow
)

// methodRow is a row whose last segment is a wildcard followed by a custom
// method ("/v1beta/models/{model}:generateContent"), which ServeMux
// patterns cannot express.
type methodRow struct {
	method, prefix, suffix string
	perm                   Permission
}

// methodRowOf splits such a pattern; ok is false for other patterns.
func methodRowOf(r RoutePermission) (methodRow, bool) {
	i := strings.LastIndexByte(r.Pattern, '/')
	last := r.Pattern[i+1:]
	if !strings.HasPrefix(last, "{") {
		return methodRow{}, false
	}
	end := strings.Index(last, "}:")
	if end < 0 {
		return methodRow{}, false
	}
	return methodRow{method: r.Method, prefix: r.Pattern[:i+1], suffix: last[end+1:], perm: r.Permission}, true
}

// The table is matched with a net/http ServeMux (the same pattern syntax
// and precedence as the gateway's router), built once; custom-method rows
// are matched by prefix and suffix before it.
func buildMatcher() {
	matcher = http.NewServeMux()
	patternPerm = make(map[string]Permission, len(routeTable))
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, r := range routeTable {
		if mr, ok := methodRowOf(r); ok {
			methodRows = append(methodRows, mr)
			continue
		}
		p := r.Method + " " + r.Pattern
		matcher.Handle(p, nop)
		patternPerm[p] = r.Permission
	}
}

// RequiredPermission returns the permission that method+path needs and
// whether the route is in the table at all. An unknown route (or a known
// path with another method) returns ok=false: deny.
func RequiredPermission(method, path string) (Permission, bool) {
	matcherOnce.Do(buildMatcher)
	if method == "" || path == "" || path[0] != '/' {
		return "", false
	}
	for _, mr := range methodRows {
		if rest, ok := strings.CutPrefix(path, mr.prefix); ok && method == mr.method &&
			len(rest) > len(mr.suffix) && strings.HasSuffix(rest, mr.suffix) && !strings.Contains(rest, "/") {
			return mr.perm, true
		}
	}
	req := &http.Request{Method: method, URL: &url.URL{Path: path}, Host: "rampart"}
	_, pattern := matcher.Handler(req)
	if pattern == "" {
		return "", false
	}
	p, ok := patternPerm[pattern]
	return p, ok
}

// Allowed reports whether role may call method+path according to the
// permission table. Unknown routes and unknown roles are denied (except
// public routes, which everyone may call).
func Allowed(method, path, role string) bool {
	p, ok := RequiredPermission(method, path)
	if !ok {
		return false
	}
	return RoleHas(role, p)
}
