package admin

import (
	"net/http"
	"strconv"

	"github.com/rampart-ai/rampart/identity"
)

type tenantView struct {
	Object string `json:"object"`
	identity.Tenant
}

func (h *handler) listTenants(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var out []tenantView
	if p.Global() {
		ts, err := h.svc.Store().ListTenants(r.Context())
		if err != nil {
			h.storeError(w, err)
			return
		}
		for _, t := range ts {
			out = append(out, tenantView{"tenant", t})
		}
	} else {
		t, err := h.svc.Store().GetTenant(r.Context(), p.Tenant)
		if err != nil {
			h.storeError(w, err)
			return
		}
		out = append(out, tenantView{"tenant", t})
	}
	if out == nil {
		out = []tenantView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

// CreateTenantRequest is the body of POST /admin/tenants.
type CreateTenantRequest struct {
	ID     string           `json:"id"`
	Models []string         `json:"models,omitempty"`
	Policy string           `json:"policy,omitempty"`
	Limits map[string]int64 `json:"limits,omitempty"`
}

func (h *handler) createTenant(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !p.Global() {
		writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin creates tenants.")
		return
	}
	var req CreateTenantRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Policy != "" && (h.policies == nil || !h.policies(req.Policy)) {
		writeError(w, http.StatusBadRequest, "unknown_policy", "No policy named "+strconv.Quote(req.Policy)+" is configured.")
		return
	}
	if !knownLimits(w, req.Limits) {
		return
	}
	t, err := h.svc.CreateTenant(r.Context(), identity.Tenant{ID: req.ID, Models: req.Models, Policy: req.Policy, Limits: req.Limits})
	if err != nil {
		h.storeError(w, err)
		return
	}
	note(r, "tenant_created", t.ID, t.ID, "tenant "+t.ID+limitsText(t.Policy, t.Limits))
	writeJSON(w, http.StatusCreated, tenantView{"tenant", t})
}

// patchTenant replaces a tenant's limits (global admins only).
func (h *handler) patchTenant(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !p.Global() {
		writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin changes a tenant's limits.")
		return
	}
	lim, ok := decodeLimits(w, r)
	if !ok {
		return
	}
	t, err := h.svc.Store().GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		h.storeError(w, err)
		return
	}
	if err := h.svc.SetTenantLimits(r.Context(), t.ID, lim); err != nil {
		h.storeError(w, err)
		return
	}
	note(r, "tenant_limits_changed", t.ID, t.ID, "limits"+limitsText("", t.Limits)+" -> "+limitsText("", lim))
	t.Limits = lim
	writeJSON(w, http.StatusOK, tenantView{"tenant", t})
}
