package gateway

import (
	"net/http"
	"net/netip"
	"sort"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/layers/blocklist"
	"github.com/rampart-ai/rampart/netguard"
	"github.com/rampart-ai/rampart/store"
)

// breakGlass are the routes a global admin keeps while its address (not
// its key or user) is blocked: enough to see and remove the block that
// locked it out. docs/PERMISSIONS.md documents them.
var breakGlass = map[string]bool{
	"GET /admin/blocks":         true,
	"DELETE /admin/blocks/{id}": true,
}

// blockGate refuses callers the blocklist blocks on the routes the engine
// does not serve (admin API, /metrics): a blocked key, user or address
// loses them as it loses the model routes. The one exception is a global
// admin whose address is blocked but whose key and user are not: it may
// still list and remove blocks (breakGlass). Throttles apply to the model
// routes only.
func blockGate(c *blocklist.Cache) admin.Gate {
	return func(r *http.Request, p *identity.Principal) *identity.Denial {
		if c == nil || p == nil {
			return nil
		}
		if v := c.Lookup(netip.Addr{}, p.KeyID, p.Tenant, p.Subject); v.Block != nil {
			return blockedDenial(v.Block.Kind)
		}
		ip, _ := netip.ParseAddr(netguard.ClientIP(r))
		v := c.Lookup(ip, "", "", "")
		if v.Block == nil {
			return nil
		}
		if p.Global() && p.Role == identity.RoleAdmin && breakGlass[r.Method+" "+adminPattern(r)] {
			return nil
		}
		return blockedDenial(v.Block.Kind)
	}
}

func blockedDenial(kind string) *identity.Denial {
	msg := "Requests from this address are temporarily blocked."
	switch kind {
	case store.BlockKey:
		msg = "This API key is temporarily blocked."
	case store.BlockUser:
		msg = "This user is temporarily blocked."
	}
	return &identity.Denial{Status: http.StatusForbidden, Code: blocklist.CodeBlocked, Message: msg}
}

// adminPattern is the admin route pattern r matches ("" for none).
func adminPattern(r *http.Request) string {
	for _, rt := range admin.Routes() {
		m := http.NewServeMux()
		m.Handle(rt.Method+" "+rt.Pattern, http.NotFoundHandler())
		if _, p := m.Handler(r); p != "" {
			return rt.Pattern
		}
	}
	return ""
}

// policyNames are the named policies the configuration defines: the keys
// of every layer's "policies" option (inputpolicy, topics, …).
func policyNames(cfg *config.Config) []string {
	seen := map[string]bool{}
	for _, l := range cfg.Layers {
		if m, ok := l.Options["policies"].(map[string]any); ok {
			for n := range m {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
