package admin

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/layers/ratelimit"
)

// keyView is a key's metadata as the API shows it (never the hash).
type keyView struct {
	Object string `json:"object"`
	identity.Key
	// Key is the plain key, present only in the answer that created it.
	Secret string `json:"key,omitempty"`
}

func view(k identity.Key, secret string) keyView {
	return keyView{Object: "api_key", Key: k, Secret: secret}
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	tenant, ok := scope(p, r.URL.Query().Get("tenant"))
	if !ok {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only list your own tenant's keys.")
		return
	}
	keys, err := h.svc.Store().ListKeys(r.Context(), tenant)
	if err != nil {
		h.storeError(w, err)
		return
	}
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, view(k, ""))
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

// CreateKeyRequest is the body of POST /admin/keys.
type CreateKeyRequest struct {
	Name   string `json:"name"`
	Tenant string `json:"tenant,omitempty"` // default: the caller's tenant
	Role   string `json:"role"`
	// Models narrows the tenant's model allow-list (globs).
	Models []string         `json:"models,omitempty"`
	Policy string           `json:"policy,omitempty"`
	Limits map[string]int64 `json:"limits,omitempty"`
	// ExpiresIn is a lifetime such as "30d" or "720h"; empty: never.
	ExpiresIn string `json:"expires_in,omitempty"`
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var req CreateKeyRequest
	if !decode(w, r, &req) {
		return
	}
	tenant := req.Tenant
	if tenant == "" {
		tenant = p.Tenant
	}
	if _, ok := scope(p, tenant); !ok || (tenant == identity.GlobalTenant && !p.Global()) {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only create keys in your own tenant.")
		return
	}
	if !identity.ValidRole(req.Role) {
		writeError(w, http.StatusBadRequest, "invalid_request", "role must be one of "+strings.Join(identity.Roles(), ", "))
		return
	}
	if !identity.CanGrant(p.Role, req.Role) {
		writeError(w, http.StatusForbidden, "permission_denied", "You may not create a key with permissions you do not hold.")
		return
	}
	if !knownLimits(w, req.Limits) {
		return
	}
	lim, ok := h.grantable(w, r, p, tenant, req.Policy, req.Limits)
	if !ok {
		return
	}
	models, ok := p.GrantModels(req.Models)
	if !ok {
		writeError(w, http.StatusForbidden, "permission_denied", "A key may admit only models your own key may use.")
		return
	}
	spec := identity.KeySpec{Name: req.Name, Tenant: tenant, Role: req.Role, Models: models, Policy: req.Policy, Limits: lim}
	if req.ExpiresIn != "" {
		d, err := identity.ParseDuration(req.ExpiresIn)
		if err != nil || d == 0 {
			writeError(w, http.StatusBadRequest, "invalid_request", "expires_in must be a positive duration such as 30d or 720h")
			return
		}
		spec.ExpiresAt = time.Now().Add(d)
	}
	// A key that expires grants no longer life than its own.
	if !p.ExpiresAt.IsZero() && (spec.ExpiresAt.IsZero() || spec.ExpiresAt.After(p.ExpiresAt)) {
		spec.ExpiresAt = p.ExpiresAt
	}
	secret, k, err := h.svc.CreateKey(r.Context(), spec)
	if err != nil {
		h.storeError(w, err)
		return
	}
	note(r, "key_created", k.ID, k.Tenant, "role "+k.Role+limitsText(k.Policy, k.Limits))
	writeJSON(w, http.StatusCreated, view(k, secret))
}

// keyInScope loads a key and hides keys of other tenants (404).
func (h *handler) keyInScope(w http.ResponseWriter, r *http.Request, p *identity.Principal) (identity.Key, bool) {
	k, err := h.svc.Store().GetKey(r.Context(), r.PathValue("id"))
	if err != nil {
		h.storeError(w, err)
		return k, false
	}
	if !p.Global() && k.Tenant != p.Tenant {
		writeError(w, http.StatusNotFound, "not_found", "No such object.")
		return k, false
	}
	return k, true
}

// keyToChange loads a key in the caller's scope (keyInScope) that the
// caller may act on as verb ("rotate", "change"): only a key whose role's
// permissions the caller holds all of (else 403).
func (h *handler) keyToChange(w http.ResponseWriter, r *http.Request, p *identity.Principal, verb string) (identity.Key, bool) {
	k, ok := h.keyInScope(w, r, p)
	if !ok {
		return k, false
	}
	if !identity.CanGrant(p.Role, k.Role) {
		writeError(w, http.StatusForbidden, "permission_denied", "You may not "+verb+" a key with permissions you do not hold.")
		return k, false
	}
	return k, true
}

func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	k, ok := h.keyInScope(w, r, p)
	if !ok {
		return
	}
	if err := h.svc.RevokeKey(r.Context(), k.ID); err != nil {
		h.storeError(w, err)
		return
	}
	k, err := h.svc.Store().GetKey(r.Context(), k.ID)
	if err != nil {
		h.storeError(w, err)
		return
	}
	note(r, "key_revoked", k.ID, k.Tenant, "revoked key "+k.ID)
	writeJSON(w, http.StatusOK, view(k, ""))
}

// RotateKeyRequest is the (optional) body of POST /admin/keys/{id}/rotate.
type RotateKeyRequest struct {
	// Grace is how long the old key keeps working, e.g. "24h"; default 0.
	Grace string `json:"grace,omitempty"`
}

func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var req RotateKeyRequest
	if r.ContentLength != 0 && !decode(w, r, &req) {
		return
	}
	var grace time.Duration
	if req.Grace != "" {
		var err error
		if grace, err = identity.ParseDuration(req.Grace); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "grace must be a duration such as 24h")
			return
		}
	}
	k, ok := h.keyToChange(w, r, p, "rotate")
	if !ok {
		return
	}
	if !p.Global() {
		t, err := h.svc.Store().GetTenant(r.Context(), k.Tenant)
		if err != nil {
			h.storeError(w, err)
			return
		}
		if !withinCaller(p, t, k) {
			writeError(w, http.StatusForbidden, "permission_denied", "You may not rotate a key with higher limits or more models than your own (the new secret would be yours).")
			return
		}
	}
	if !p.ExpiresAt.IsZero() && (k.ExpiresAt.IsZero() || k.ExpiresAt.After(p.ExpiresAt)) {
		writeError(w, http.StatusForbidden, "permission_denied", "A key that expires may not rotate a key that outlives it (the new secret would).")
		return
	}
	secret, next, err := h.svc.RotateKey(r.Context(), k.ID, grace)
	if err != nil {
		h.storeError(w, err)
		return
	}
	note(r, "key_rotated", k.ID, k.Tenant, "replaced by "+next.ID+", old key valid for "+grace.String())
	writeJSON(w, http.StatusCreated, view(next, secret))
}

// grantable checks the policy and limits a caller gives a key of tenant
// (answering the refusal) and returns the limits to store: a caller never
// grants more than it has.
//   - A policy name must be one the configuration defines (else 400).
//   - Only a global admin chooses a policy; a tenant's admin may only name
//     the tenant's own policy (or none, which inherits it).
//   - Only a global admin lifts a limit (a negative value) or sets one that
//     neither the tenant nor the caller's own key has; a tenant's admin may
//     only set a limit to a positive value no higher than the tenant's and
//     no higher than its own key's.
//   - A limit the caller's own key holds tighter than the tenant's is
//     filled in where lim leaves it out (0 or missing would inherit the
//     tenant's, which is more than the caller has).
func (h *handler) grantable(w http.ResponseWriter, r *http.Request, p *identity.Principal, tenant, policy string, lim map[string]int64) (map[string]int64, bool) {
	if policy != "" && (h.policies == nil || !h.policies(policy)) {
		writeError(w, http.StatusBadRequest, "unknown_policy", "No policy named "+strconv.Quote(policy)+" is configured.")
		return nil, false
	}
	if p.Global() {
		return lim, true
	}
	t, err := h.svc.Store().GetTenant(r.Context(), tenant)
	if errors.Is(err, identity.ErrNotFound) {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only create keys in your own tenant.")
		return nil, false
	}
	if err != nil {
		h.storeError(w, err)
		return nil, false
	}
	if policy != "" && policy != t.Policy {
		writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin chooses a key's policy; keys of this tenant use the tenant's policy.")
		return nil, false
	}
	names := make([]string, 0, len(lim))
	for n := range lim {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := lim[n]
		if v == 0 {
			continue // 0 keeps the tenant's limit (or the caller's, below)
		}
		tl, ok := t.Limits[n]
		own := p.Limits[n] // the caller's own limit (its key's, else the tenant's)
		switch {
		case v < 0:
			writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin may lift a limit ("+n+").")
			return nil, false
		case (!ok || tl <= 0) && own <= 0:
			writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin may set "+n+": the tenant has no "+n+" limit for a key's to stay within.")
			return nil, false
		case ok && tl > 0 && v > tl:
			writeError(w, http.StatusForbidden, "permission_denied", "A key's "+n+" may not exceed the tenant's ("+strconv.FormatInt(tl, 10)+").")
			return nil, false
		case own > 0 && v > own:
			writeError(w, http.StatusForbidden, "permission_denied", "A key's "+n+" may not exceed your own key's ("+strconv.FormatInt(own, 10)+").")
			return nil, false
		}
	}
	out, copied := lim, false
	for n, own := range p.Limits {
		if own <= 0 || lim[n] != 0 || strings.HasPrefix(n, "tenant_") {
			continue
		}
		if tl := t.Limits[n]; tl > 0 && tl <= own {
			continue // inheriting the tenant's is no more than the caller has
		}
		if !copied {
			out, copied = make(map[string]int64, len(lim)+1), true
			for k, v := range lim {
				out[k] = v
			}
		}
		out[n] = own
	}
	return out, true
}

// withinCaller reports whether key k (of tenant t) holds no more than
// caller p: rotating it hands the caller a fresh secret of k, so a tenant's
// admin may rotate only keys whose limits and models are within its own.
func withinCaller(p *identity.Principal, t identity.Tenant, k identity.Key) bool {
	if p.Global() {
		return true
	}
	for n, own := range p.Limits {
		if own <= 0 || strings.HasPrefix(n, "tenant_") {
			continue
		}
		v, set := k.Limits[n]
		if !set || v == 0 {
			v = t.Limits[n]
		}
		if v <= 0 || v > own {
			return false
		}
	}
	if len(k.Models) == 0 { // k admits what its tenant admits: more than a caller whose key narrows the models
		own, _ := p.GrantModels(nil)
		return len(own) == 0
	}
	_, ok := p.GrantModels(k.Models)
	return ok
}

// limitsText describes a key's policy and limits for its audit record.
func limitsText(policy string, lim map[string]int64) string {
	var b strings.Builder
	if policy != "" {
		b.WriteString(", policy " + policy)
	}
	names := make([]string, 0, len(lim))
	for n := range lim {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(", " + n + "=" + strconv.FormatInt(lim[n], 10))
	}
	return b.String()
}

// PatchLimitsRequest is the body of PATCH /admin/keys/{id} and
// PATCH /admin/tenants/{id}: the object's new limits, replacing the old.
type PatchLimitsRequest struct {
	Limits map[string]int64 `json:"limits"`
}

// decodeLimits reads a PatchLimitsRequest and refuses unknown limit names.
func decodeLimits(w http.ResponseWriter, r *http.Request) (map[string]int64, bool) {
	var req PatchLimitsRequest
	if !decode(w, r, &req) {
		return nil, false
	}
	if req.Limits == nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "limits is required.")
		return nil, false
	}
	return req.Limits, knownLimits(w, req.Limits)
}

// knownLimits answers 400 and returns false when lim names a limit the
// rate-limit layer does not apply (a typo would otherwise be stored and
// silently not enforced, or an internal name such as
// tenant_budget_usd_day would be set on a key).
func knownLimits(w http.ResponseWriter, lim map[string]int64) bool {
	for n := range lim {
		if !ratelimit.KnownLimit(n) {
			writeError(w, http.StatusBadRequest, "invalid_request", "Unknown limit "+strconv.Quote(n)+".")
			return false
		}
	}
	return true
}

// patchKey replaces a key's limits, under the same grant rules as
// POST /admin/keys.
func (h *handler) patchKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	lim, ok := decodeLimits(w, r)
	if !ok {
		return
	}
	k, ok := h.keyToChange(w, r, p, "change")
	if !ok {
		return
	}
	if lim, ok = h.grantable(w, r, p, k.Tenant, "", lim); !ok {
		return
	}
	if err := h.svc.SetKeyLimits(r.Context(), k.ID, lim); err != nil {
		h.storeError(w, err)
		return
	}
	note(r, "key_limits_changed", k.ID, k.Tenant, "limits"+limitsText("", k.Limits)+" -> "+limitsText("", lim))
	k.Limits = lim
	writeJSON(w, http.StatusOK, view(k, ""))
}
