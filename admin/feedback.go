package admin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// WithContentOpener lets GET /admin/audit?content=open return captured
// content (audit.capture_content) decrypted, to callers with the admin
// permission (a tenant's admin for its tenant's records). Every such read
// is itself audited (content_opened). Without it the content stays sealed.
func WithContentOpener(c audit.ContentCipher) Option { return func(h *handler) { h.opener = c } }

// openContent decrypts the records' sealed content for an admin and
// audits the read; it answers the refusal and returns false otherwise.
func (h *handler) openContent(w http.ResponseWriter, r *http.Request, p *identity.Principal, recs []*store.AuditRecord) bool {
	if !identity.RoleHas(p.Role, identity.PermAdmin) {
		writeError(w, http.StatusForbidden, "permission_denied", "Only administrators read captured content.")
		return false
	}
	if h.opener == nil {
		return true // nothing to open with: the content stays sealed
	}
	n := 0
	var ids []string
	for _, rec := range recs {
		if rec.Content == nil || rec.Content.Sealed == nil {
			continue
		}
		if err := audit.OpenContent(r.Context(), h.opener, rec); err != nil {
			h.log.Warn("admin: captured content could not be opened", "request_id", rec.RequestID, "err", err)
			continue
		}
		n++
		if len(ids) < 20 {
			ids = append(ids, rec.RequestID)
		}
	}
	if n > 0 {
		detail := "opened the captured content of " + strconv.Itoa(n) + " records: " + strings.Join(ids, ", ")
		if n > len(ids) {
			detail += ", …"
		}
		h.auditAction(r, w.Header().Get("X-Request-Id"), p, "/admin/audit", action{name: "content_opened", object: "audit", tenant: p.Tenant, detail: detail}, http.StatusOK)
	}
	return true
}

// WithFeedback serves GET/POST /admin/feedback over fs (without it: 503).
func WithFeedback(fs store.FeedbackStore) Option { return func(h *handler) { h.feedback = fs } }

// whoamiView is the caller as the gateway authenticated it.
type whoamiView struct {
	Object      string                `json:"object"`
	KeyID       string                `json:"key_id,omitempty"`
	Subject     string                `json:"subject,omitempty"`
	Source      string                `json:"source"`
	Tenant      string                `json:"tenant"`
	Role        string                `json:"role"`
	Global      bool                  `json:"global"`
	Permissions []identity.Permission `json:"permissions"`
}

// whoami answers who the caller is (GET /admin/whoami): the admin console
// shows and offers only what the role allows (the API still decides).
func (h *handler) whoami(w http.ResponseWriter, _ *http.Request, p *identity.Principal) {
	writeJSON(w, http.StatusOK, whoamiView{Object: "principal", KeyID: p.KeyID, Subject: p.Subject, Source: p.Source,
		Tenant: p.Tenant, Role: p.Role, Global: p.Global(), Permissions: identity.RolePermissions(p.Role)})
}

// FeedbackRequest is the body of POST /admin/feedback.
type FeedbackRequest struct {
	RequestID string `json:"request_id"`
	Layer     string `json:"layer"`
	Rule      string `json:"rule,omitempty"`
	// Verdict is false_positive or true_positive.
	Verdict string `json:"verdict"`
	// Role and Text are the judged text and its role, when the reviewer
	// has it (the audit log keeps content only with capture_content, and
	// sealed); only feedback with text is exported for rampart eval.
	Role string `json:"role,omitempty"`
	Text string `json:"text,omitempty"`
	Note string `json:"note,omitempty"`
}

func (h *handler) feedbackUnavailable(w http.ResponseWriter) bool {
	if h.feedback == nil || h.audit == nil {
		writeError(w, http.StatusServiceUnavailable, "feedback_unavailable", "Review feedback needs the audit log and a store that keeps feedback.")
		return true
	}
	return false
}

// addFeedback records a verdict on one audit record's layer and rule. The
// record must exist in the caller's scope (another tenant's is "not
// found") and have an outcome or finding of that layer and rule.
func (h *handler) addFeedback(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.feedbackUnavailable(w) {
		return
	}
	var req FeedbackRequest
	if !decode(w, r, &req) {
		return
	}
	fb := store.Feedback{RequestID: req.RequestID, Layer: req.Layer, Rule: req.Rule, Verdict: req.Verdict,
		Role: req.Role, Text: req.Text, Note: req.Note, By: principalKey(p)}
	switch req.Role {
	case "", "user", "system", "assistant", "document", "tool":
	default:
		writeError(w, http.StatusBadRequest, "invalid_request", "role must be user, system, assistant, document or tool")
		return
	}
	if err := store.CheckFeedback(fb); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	tenant := ""
	if !p.Global() {
		tenant = p.Tenant
	}
	recs, err := h.audit.QueryAudit(r.Context(), store.AuditFilter{RequestID: req.RequestID, Tenant: tenant, Limit: 10})
	if err != nil {
		h.log.Error("admin: audit query", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The audit log is temporarily unavailable.")
		return
	}
	found := false
	for _, rec := range recs {
		if hasOutcome(rec, req.Layer, req.Rule) {
			found, fb.Tenant = true, rec.Tenant
			break
		}
	}
	switch {
	case len(recs) == 0:
		writeError(w, http.StatusNotFound, "not_found", "No audit record with that request id.")
		return
	case !found:
		writeError(w, http.StatusBadRequest, "invalid_request", "That request has no decision of layer "+strconv.Quote(req.Layer)+
			" and rule "+strconv.Quote(req.Rule)+".")
		return
	}
	stored, err := h.feedback.AddFeedback(r.Context(), fb)
	if err != nil {
		h.log.Error("admin: feedback store", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is temporarily unavailable.")
		return
	}
	note(r, "feedback_added", stored.RequestID, stored.Tenant, stored.Verdict+" on "+stored.Layer+"/"+stored.Rule)
	writeJSON(w, http.StatusCreated, map[string]any{"object": "feedback", "feedback": stored})
}

// hasOutcome reports whether rec has an outcome or finding of layer with
// rule (any rule when rule is empty).
func hasOutcome(rec *store.AuditRecord, layer, rule string) bool {
	for _, o := range rec.Decisions {
		if o.Layer == layer && (rule == "" || o.Rule == rule) {
			return true
		}
		for _, f := range o.Findings {
			if f.Layer == layer && (rule == "" || f.Rule == rule) {
				return true
			}
		}
	}
	return false
}

// EvalRow is one exported feedback line, in the format of `rampart eval
// --file` (text, label 1 attack / 0 not, role), plus where it came from.
type EvalRow struct {
	Text   string `json:"text"`
	Label  int    `json:"label"`
	Role   string `json:"role,omitempty"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
}

// listFeedback lists the feedback of the caller's tenant (a global admin:
// all, or ?tenant=). With ?format=jsonl it exports the feedback of layer
// injection (or ?layer=) that has text as JSON lines for `rampart eval
// --file`: a false positive is label 0, a confirmed block label 1.
func (h *handler) listFeedback(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.feedbackUnavailable(w) {
		return
	}
	q := r.URL.Query()
	tenant, ok := scope(p, q.Get("tenant"))
	if !ok {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only read your own tenant's feedback.")
		return
	}
	f := store.FeedbackFilter{Tenant: tenant}
	var limit int64
	if f.AfterID, ok = intParam(w, q.Get("after_id"), "after_id", 0); !ok {
		return
	}
	if limit, ok = intParam(w, q.Get("limit"), "limit", 1); !ok {
		return
	}
	f.Limit = int(min(limit, int64(store.MaxFeedbackLimit)))
	format := q.Get("format")
	if format != "" && format != "json" && format != "jsonl" {
		writeError(w, http.StatusBadRequest, "invalid_request", "format must be json or jsonl")
		return
	}
	list, err := h.feedback.ListFeedback(r.Context(), f)
	if err != nil {
		h.log.Error("admin: feedback store", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is temporarily unavailable.")
		return
	}
	if format != "jsonl" {
		if list == nil {
			list = []store.Feedback{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": list})
		return
	}
	// rampart eval measures the injection detector: by default only that
	// layer's feedback is exported (?layer= picks another).
	layer := q.Get("layer")
	if layer == "" {
		layer = "injection"
	}
	skipped := 0
	var rows []EvalRow
	for _, fb := range list {
		if fb.Layer != layer {
			continue
		}
		if fb.Text == "" {
			skipped++
			continue
		}
		label := 0
		if fb.Verdict == store.FeedbackTruePositive {
			label = 1
		}
		rows = append(rows, EvalRow{Text: fb.Text, Label: label, Role: fb.Role, Kind: "feedback",
			Source: "rampart-feedback/" + fb.Layer + "/" + fb.Rule + "/" + fb.RequestID})
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="rampart-feedback.jsonl"`)
	w.Header().Set("X-Rampart-Feedback-Without-Text", strconv.Itoa(skipped))
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, row := range rows {
		_ = enc.Encode(row)
	}
}
