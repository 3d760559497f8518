package admin

import (
	"context"
	"errors"
	"net/http"
	"unicode"

	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// SubjectEraser erases every record of a user id or API key id and audits
// the erasure (audit.Eraser implements it).
type SubjectEraser interface {
	Erase(ctx context.Context, id string, by audit.Actor, route string) (store.Erasure, error)
}

// WithEraser enables DELETE /admin/subjects/{id} (without it: 503).
func WithEraser(e SubjectEraser) Option { return func(h *handler) { h.eraser = e } }

// eraseRoute is how the erasure's audit record names this endpoint.
const eraseRoute = "DELETE /admin/subjects/{id}"

// validSubjectID accepts 1..audit.MaxSubjectIDBytes bytes of printable
// text (user ids come from JWT subjects and certificates, so no stricter
// shape can be assumed).
func validSubjectID(id string) bool {
	if id == "" || len(id) > audit.MaxSubjectIDBytes {
		return false
	}
	for _, r := range id {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// eraseSubject answers DELETE /admin/subjects/{id}: it deletes every audit
// record of the user id or key id, the key itself and blocks naming it,
// then audits the erasure without the id in clear. Erasure crosses
// tenants, so only global admins may call it. The id is never logged.
func (h *handler) eraseSubject(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.eraser == nil {
		writeError(w, http.StatusServiceUnavailable, "erasure_unavailable", "Subject erasure is not enabled on this gateway.")
		return
	}
	if !p.Global() {
		writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin may erase subjects (erasure crosses tenants).")
		return
	}
	id := r.PathValue("id")
	if !validSubjectID(id) {
		writeError(w, http.StatusBadRequest, "invalid_request", "The subject id must be 1 to 512 bytes of printable UTF-8.")
		return
	}
	audits(r) // the eraser writes the erasure's record (without the id in clear)
	res, err := h.eraser.Erase(r.Context(), id, audit.Actor{KeyID: p.KeyID, Subject: p.Subject, Tenant: p.Tenant, ClientIP: clientIP(r)}, eraseRoute)
	switch {
	case errors.Is(err, audit.ErrNotAudited):
		h.svc.Invalidate(r.Context())
		h.log.Error("admin: subject erased but not audited", "by_key", p.KeyID)
		writeError(w, http.StatusServiceUnavailable, "audit_unavailable", "The subject was erased, but the erasure could not be audited.")
		return
	case err != nil:
		h.log.Error("admin: erasure failed", "by_key", p.KeyID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is temporarily unavailable; nothing was erased.")
		return
	}
	if res.Keys > 0 {
		h.svc.Invalidate(r.Context()) // effective at once on this replica, like a revocation
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "erasure", "erased": res, "total": res.Total()})
}
