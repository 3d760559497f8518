package identity_test

import (
	"net/http"
	"testing"

	"github.com/rampart-ai/rampart/identity"
)

func TestPermissionTable(t *testing.T) {
	type row struct {
		method, path string
		allowed      map[string]bool // role → allowed; missing roles: denied
	}
	all := map[string]bool{"viewer": true, "user": true, "developer": true, "admin": true}
	scrape := map[string]bool{"metrics": true, "admin": true}
	execs := map[string]bool{"user": true, "developer": true, "admin": true}
	devs := map[string]bool{"developer": true, "admin": true}
	admins := map[string]bool{"admin": true}
	for _, r := range []row{
		{"GET", "/healthz", all},
		{"GET", "/metrics", scrape},
		{"GET", "/v1/models", all},
		{"POST", "/v1/chat/completions", execs},
		{"POST", "/v1/completions", execs},
		{"POST", "/v1/embeddings", execs},
		{"POST", "/v1/messages", execs},
		{"GET", "/admin/roles", all},
		{"GET", "/admin/audit", all},
		{"GET", "/admin/spend", admins},
		{"GET", "/admin/keys", devs},
		{"POST", "/admin/keys", admins},
		{"DELETE", "/admin/keys/key_123", admins},
		{"POST", "/admin/keys/key_123/rotate", admins},
		{"GET", "/admin/tenants", admins},
		{"POST", "/admin/tenants", admins},
		// deny by default
		{"GET", "/v1/chat/completions", nil},
		{"DELETE", "/admin/tenants", nil},
		{"POST", "/v1/unknown", nil},
		{"GET", "/admin/keys/key_123", nil},
		{"POST", "/admin/keys/key_123/rotate/extra", nil},
		{"POST", "/admin/keys//rotate", nil},
		{"POST", "/v1/chat/completions/../../admin/keys", nil},
		{"POST", "/V1/CHAT/COMPLETIONS", nil},
		{"", "/v1/models", nil},
		{"POST", "", nil},
		{"POST", "v1/chat/completions", nil},
	} {
		for _, role := range append(identity.Roles(), "", "root") {
			want := r.allowed[role] || r.path == "/healthz" // public: every caller
			if got := identity.Allowed(r.method, r.path, role); got != want {
				t.Errorf("Allowed(%s %s, %q) = %v, want %v", r.method, r.path, role, got, want)
			}
		}
	}
}

// TestEveryRowMatchesItself: each table row's own pattern (with a sample
// value for wildcards) resolves to that row's permission.
func TestEveryRowMatchesItself(t *testing.T) {
	rows := identity.RoutePermissions()
	if len(rows) < 10 {
		t.Fatalf("table has %d rows", len(rows))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		key := r.Method + " " + r.Pattern
		if seen[key] {
			t.Fatalf("duplicate row %s", key)
		}
		seen[key] = true
		path := sample(r.Pattern)
		p, ok := identity.RequiredPermission(r.Method, path)
		if !ok || p != r.Permission {
			t.Errorf("%s (%s) → %v %v, want %v", key, path, p, ok, r.Permission)
		}
	}
	// HEAD rides on GET as in net/http.
	if p, ok := identity.RequiredPermission(http.MethodHead, "/v1/models"); !ok || p != identity.PermRead {
		t.Errorf("HEAD /v1/models = %v %v", p, ok)
	}
}

func sample(pattern string) string {
	out := []byte{}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '{' {
			j := i
			for i < len(pattern) && pattern[i] != '}' {
				i++
			}
			if pattern[j:i] != "{$" { // {$} matches the end of the path: nothing to add
				out = append(out, "x1"...)
			}
			continue
		}
		out = append(out, pattern[i])
	}
	return string(out)
}

func TestRolePermissions(t *testing.T) {
	if got := identity.RolePermissions(identity.RoleMetrics); len(got) != 1 || got[0] != identity.PermMetrics {
		t.Fatalf("metrics role holds %v", got)
	}
	prev := 0
	for _, r := range identity.Roles()[1:] {
		n := len(identity.RolePermissions(r))
		if n <= prev {
			t.Fatalf("role %s does not extend the previous role", r)
		}
		prev = n
	}
	if identity.RoleHas("root", identity.PermRead) || !identity.RoleHas("", identity.PermPublic) {
		t.Fatal("unknown role handling")
	}
}

func FuzzRequiredPermission(f *testing.F) {
	for _, s := range []string{"/v1/chat/completions", "/admin/keys/x/rotate", "/../admin", "//", "/v1/models?x=1", "\x00"} {
		f.Add("POST", s)
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		p, ok := identity.RequiredPermission(method, path)
		if ok && p == "" {
			t.Fatal("matched with empty permission")
		}
		if identity.Allowed(method, path, "nobody") && p != identity.PermPublic {
			t.Fatal("unknown role allowed a non-public route")
		}
	})
}

// TestCanGrant: a role may be granted only by a role holding all of its
// permissions.
func TestCanGrant(t *testing.T) {
	for _, c := range []struct {
		granter, role string
		want          bool
	}{
		{"admin", "admin", true}, {"admin", "metrics", true}, {"admin", "viewer", true},
		{"developer", "admin", false}, {"developer", "metrics", false}, {"developer", "user", true},
		{"viewer", "metrics", false}, {"metrics", "viewer", false}, {"metrics", "metrics", true},
		{"admin", "root", false}, {"", "viewer", false},
	} {
		if got := identity.CanGrant(c.granter, c.role); got != c.want {
			t.Errorf("CanGrant(%s, %s) = %v", c.granter, c.role, got)
		}
	}
}
