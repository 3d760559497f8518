package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// WithAudit writes an audit record for every administrative action (each
// call of a route that changes something: keys, tenants, blocks) to aw:
// who (key id, subject, tenant, address), what (the action), on which
// object, and the result (HTTP status). Without it actions are only
// logged. WithBlocks' writer is used when WithAudit is not given.
func WithAudit(aw AuditWriter) Option { return func(h *handler) { h.actionsAudit = aw } }

// WithPolicies makes the admin API refuse policy names known does not
// admit (the named policies of the configuration in force), for tenants
// and keys alike. Without it every policy name is refused: a name that no
// layer defines would silently fall back to the base policy.
func WithPolicies(known func(name string) bool) Option {
	return func(h *handler) { h.policies = known }
}

// Gate is an extra check on every authenticated admin call, after the
// permission table: a non-nil Denial refuses the call (the gateway passes
// the blocklist, so a blocked key loses the admin API too).
type Gate func(r *http.Request, p *identity.Principal) *identity.Denial

// WithGate adds g to every authenticated admin call (and RequirePermission
// callers that pass it).
func WithGate(g Gate) Option { return func(h *handler) { h.gate = g } }

// action is what an admin handler says about the action it carried out,
// for its audit record.
type action struct {
	name   string // e.g. key_created
	object string // id of the key, tenant or block acted on
	tenant string // tenant of the object
	detail string // what changed (no secrets)
	self   bool   // the handler wrote the audit record itself (erasure)
}

type actionKey struct{}

// note records the action of the request being served (a no-op for
// requests that are not audited).
func note(r *http.Request, name, object, tenant, detail string) {
	if a, ok := r.Context().Value(actionKey{}).(*action); ok {
		*a = action{name: name, object: object, tenant: tenant, detail: detail}
	}
}

// audits says the request's handler wrote its own audit record.
func audits(r *http.Request) {
	if a, ok := r.Context().Value(actionKey{}).(*action); ok {
		a.self = true
	}
}

// audited reports whether calls of method are administrative actions
// (everything but reads).
func audited(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// auditAction writes the audit record of one administrative action: route
// is the endpoint's pattern, the decision's code the action (or, for a
// refused call, "denied"), its rule the object id, and its finding what
// changed. Refused calls (4xx) are recorded as blocked.
func (h *handler) auditAction(r *http.Request, reqID string, p *identity.Principal, pattern string, a action, status int) {
	if reqID == "" {
		reqID = engine.NewRequestID()
	}
	if a.self {
		return
	}
	name := a.name
	if name == "" {
		name = "denied"
		if status < 400 {
			name = "done"
		}
	}
	tenant := a.tenant
	if tenant == "" && p != nil {
		tenant = p.Tenant
	}
	h.log.Info("admin: "+name, "route", pattern, "object", a.object, "tenant", tenant, "status", status,
		"by_key", principalKey(p))
	aw := h.actionsAudit
	if aw == nil {
		aw = h.blocksAudit
	}
	if aw == nil {
		return
	}
	act := engine.Allow
	if status >= 400 {
		act = engine.Block
	}
	rec := &store.AuditRecord{RequestID: reqID, Time: time.Now(), Route: pattern, Tenant: tenant,
		ClientIP: clientIP(r), Status: status, Blocked: status >= 400,
		Decisions: []engine.Outcome{{Layer: "admin", Phase: engine.PhaseFinish, Action: act.String(), Rule: a.object,
			Code: name, Findings: []engine.Finding{{Layer: "admin", Rule: a.object, Message: -1, Text: a.detail}}}}}
	if p != nil {
		rec.KeyID, rec.Subject = p.KeyID, p.Subject
	}
	// The record is written even when the client has gone (WithoutCancel),
	// but within what is left of the request's store deadline: when the
	// action itself used it up on a hung store, the record goes straight
	// to the audit log's spool instead of holding the answer for another
	// full timeout.
	deadline, ok := r.Context().Deadline()
	if !ok {
		deadline = time.Now().Add(h.svc.Config().StoreTimeout)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(r.Context()), deadline)
	defer cancel()
	if err := aw.WriteAudit(ctx, []*store.AuditRecord{rec}); err != nil {
		h.log.Error("admin: could not audit an administrative action", "route", pattern, "object", a.object, "err", err)
	}
}

func principalKey(p *identity.Principal) string {
	if p == nil {
		return ""
	}
	if p.KeyID != "" {
		return p.KeyID
	}
	return p.Source + ":" + p.Subject
}
