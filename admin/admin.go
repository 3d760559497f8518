package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/internal/statuswriter"
	"github.com/rampart-ai/rampart/netguard"
	"github.com/rampart-ai/rampart/store"
)

// AuditReader is the audit query the admin API needs (store.AuditStore
// implementations provide it).
type AuditReader interface {
	QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditRecord, error)
}

// Route is one admin endpoint.
type Route struct {
	Method  string
	Pattern string // net/http ServeMux path pattern
}

// Routes are every admin endpoint, as registered by NewHandler. Each has a
// row in identity's permission table.
func Routes() []Route {
	return []Route{
		{http.MethodGet, "/admin/roles"},
		{http.MethodGet, "/admin/keys"},
		{http.MethodPost, "/admin/keys"},
		{http.MethodDelete, "/admin/keys/{id}"},
		{http.MethodPost, "/admin/keys/{id}/rotate"},
		{http.MethodPatch, "/admin/keys/{id}"},
		{http.MethodGet, "/admin/tenants"},
		{http.MethodPost, "/admin/tenants"},
		{http.MethodPatch, "/admin/tenants/{id}"},
		{http.MethodGet, "/admin/audit"},
		{http.MethodGet, "/admin/spend"},
		{http.MethodDelete, "/admin/subjects/{id}"},
		{http.MethodGet, "/admin/blocks"},
		{http.MethodPost, "/admin/blocks"},
		{http.MethodDelete, "/admin/blocks/{id}"},
		{http.MethodGet, "/admin/mcp/tools"},
		{http.MethodPost, "/admin/mcp/tools/decide"},
		{http.MethodGet, "/admin/whoami"},
		{http.MethodGet, "/admin/feedback"},
		{http.MethodPost, "/admin/feedback"},
	}
}

// Option gives the admin API an optional service (see the With...
// functions); endpoints whose service is missing answer 503.
type Option func(*handler)

// eraseTimeout bounds DELETE /admin/subjects/{id}.
const eraseTimeout = 30 * time.Second

// maxFilterLen bounds one audit filter value.
const maxFilterLen = 256

// maxBody bounds an admin request body.
const maxBody = 64 << 10

type handler struct {
	audit AuditReader
	svc   *identity.Service
	log   *slog.Logger
	mux   *http.ServeMux

	eraser SubjectEraser // DELETE /admin/subjects/{id} (subjects.go)

	blocks      store.BlockStore // /admin/blocks (blocks.go)
	blocksAudit AuditWriter      // audit records of block changes (nil: logged only)

	actionsAudit AuditWriter            // audit records of every administrative action (actions.go)
	policies     func(name string) bool // known policy names (nil: none)
	gate         Gate                   // e.g. the blocklist (nil: none)

	spend    store.SpendStore    // GET /admin/spend (spend.go)
	feedback store.FeedbackStore // /admin/feedback (feedback.go)
	opener   audit.ContentCipher // opens captured content for admins (GET /admin/audit?content=open)
	mcpTools store.MCPToolStore  // /admin/mcp/tools (mcp.go)
}

// NewHandler returns the admin API. Mount it at "/admin/" (it matches full
// paths). audit may be nil, in which case /admin/audit answers 503.
//
// log receives the admin actions (who created or revoked which key id;
// never a key); nil means slog.Default().
func NewHandler(audit AuditReader, svc *identity.Service, log *slog.Logger, opts ...Option) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{audit: audit, svc: svc, log: log, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	handlers := map[string]func(w http.ResponseWriter, r *http.Request, p *identity.Principal){
		"GET /admin/roles":             h.roles,
		"GET /admin/keys":              h.listKeys,
		"POST /admin/keys":             h.createKey,
		"DELETE /admin/keys/{id}":      h.revokeKey,
		"POST /admin/keys/{id}/rotate": h.rotateKey,
		"PATCH /admin/keys/{id}":       h.patchKey,
		"PATCH /admin/tenants/{id}":    h.patchTenant,
		"GET /admin/tenants":           h.listTenants,
		"POST /admin/tenants":          h.createTenant,
		"GET /admin/audit":             h.queryAudit,
		"GET /admin/spend":             h.querySpend,
		"DELETE /admin/subjects/{id}":  h.eraseSubject,
		"GET /admin/blocks":            h.listBlocks,
		"POST /admin/blocks":           h.createBlock,
		"DELETE /admin/blocks/{id}":    h.removeBlock,
		"GET /admin/mcp/tools":         h.listMCPTools,
		"POST /admin/mcp/tools/decide": h.decideMCPTool,
		"GET /admin/whoami":            h.whoami,
		"GET /admin/feedback":          h.listFeedback,
		"POST /admin/feedback":         h.addFeedback,
	}
	for _, rt := range Routes() {
		fn := handlers[rt.Method+" "+rt.Pattern]
		h.mux.Handle(rt.Method+" "+rt.Pattern, h.authed(rt.Pattern, fn))
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "Unknown admin endpoint.")
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The mux answers 405 for a known path with another method; keep the
	// error shape consistent by checking the table first.
	if _, pattern := h.mux.Handler(r); pattern == "" || pattern == "/" {
		if allow := h.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				"Method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or ")+".")
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "Unknown admin endpoint.")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// allowed lists the methods with which r's path is an admin endpoint.
func (h *handler) allowed(r *http.Request) []string {
	var out []string
	seen := map[string]bool{}
	for _, rt := range Routes() {
		if seen[rt.Method] {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = rt.Method
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != "/" {
			seen[rt.Method] = true
			out = append(out, rt.Method)
		}
	}
	return out
}

// clientIP is the client address the gateway's network guard resolved
// (trusted-proxy aware, see netguard.Handler), else the TCP peer's.
func clientIP(r *http.Request) string { return netguard.ClientIP(r) }

// authed authenticates the caller, checks the permission table and the
// gate, and audits every administrative action (a changing call by an
// authenticated caller, refused or not).
func (h *handler) authed(pattern string, fn func(http.ResponseWriter, *http.Request, *identity.Principal)) http.Handler {
	// Every store call of an admin request is bounded (the identity
	// service's store_timeout); erasure deletes many rows and gets longer.
	limit := h.svc.Config().StoreTimeout
	if pattern == "/admin/subjects/{id}" {
		limit = max(limit, eraseTimeout)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		ctx, cancel := context.WithTimeout(r.Context(), limit)
		defer cancel()
		r = r.WithContext(ctx)
		if !audited(r.Method) {
			if p, ok := authorize(w, r, h.svc, h.log, h.gate); ok && plainRequest(w, r) {
				fn(w, r, p)
			}
			return
		}
		a := &action{}
		r = r.WithContext(context.WithValue(r.Context(), actionKey{}, a))
		sw := &statuswriter.Writer{ResponseWriter: w}
		p, ok := authorize(sw, r, h.svc, h.log, h.gate)
		if ok && p.Replaced {
			// A leaked key that was rotated with a grace period must not
			// mint or rotate keys (its holder would keep the access).
			writeError(sw, http.StatusForbidden, "key_replaced",
				"This key was rotated out: during its grace period it keeps working for model calls and reads, but changes nothing; use the key that replaced it.")
			ok = false
		}
		if ok && plainRequest(sw, r) {
			fn(sw, r, p)
		}
		if p != nil {
			status := sw.Status
			if status == 0 {
				status = http.StatusOK
			}
			h.auditAction(r, w.Header().Get("X-Request-Id"), p, pattern, *a, status)
		}
	})
}

// RequirePermission authenticates the caller (API key, JWT or client
// certificate) and checks identity's permission table for the request's
// method and path, then each gate, before calling fn: 401 without valid
// credentials, 429 while the client IP is locked out, 403 without the
// permission or when a gate refuses (a blocked key), 503 when the identity
// store is unavailable (fail closed). Errors are OpenAI-shaped. The
// gateway uses it for its non-proxied authenticated routes too.
func RequirePermission(svc *identity.Service, log *slog.Logger, fn func(http.ResponseWriter, *http.Request, *identity.Principal), gates ...Gate) http.Handler {
	var gate Gate
	if len(gates) > 0 {
		gate = gates[0]
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := authorize(w, r, svc, log, gate); ok {
			fn(w, r, p)
		}
	})
}

// authorize answers a refused call and returns false; the principal is
// returned whenever the caller authenticated (also when refused, so that
// the refusal can be audited).
func authorize(w http.ResponseWriter, r *http.Request, svc *identity.Service, log *slog.Logger, gate Gate) (*identity.Principal, bool) {
	p, den, err := svc.Authorize(r.Context(), identity.Credentials{Header: r.Header, ClientIP: clientIP(r), TLS: r.TLS},
		r.Method, r.URL.Path, false)
	switch {
	case err != nil:
		log.Error("authentication failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "identity_unavailable", "Authentication is temporarily unavailable.")
		return nil, false
	case den == nil && p != nil && gate != nil:
		den = gate(r, p)
	}
	switch {
	case den != nil:
		for k, v := range den.Headers {
			w.Header().Set(k, v)
		}
		writeError(w, den.Status, den.Code, den.Message)
		return p, false
	case p == nil:
		// A public route needs no handler that takes a principal.
		writeError(w, http.StatusUnauthorized, "invalid_api_key", "Missing credentials: send 'Authorization: Bearer <key>'.")
		return nil, false
	}
	return p, true
}

// errorBody is the OpenAI error shape.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Message, b.Error.Code = msg, code
	b.Error.Type = "invalid_request_error"
	switch {
	case status == http.StatusUnauthorized:
		b.Error.Type = "authentication_error"
	case status == http.StatusForbidden:
		b.Error.Type = "permission_error"
	case status == http.StatusTooManyRequests:
		b.Error.Type = "rate_limit_error"
	case status >= 500:
		b.Error.Type = "server_error"
	}
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// storeError maps a store/service error to an answer.
func (h *handler) storeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, identity.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such object.")
	case errors.Is(err, identity.ErrConflict):
		writeError(w, http.StatusConflict, "already_exists", "It already exists.")
	case errors.Is(err, identity.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		h.log.Error("admin: store error", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is temporarily unavailable.")
	}
}

func decode(w http.ResponseWriter, r *http.Request, into any) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "Request body could not be read: "+err.Error())
		return false
	}
	if !jsonText(body) {
		writeError(w, http.StatusBadRequest, "invalid_json", "Request body holds a NUL character or invalid UTF-8, which no field accepts.")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "Request body is not valid JSON for this endpoint: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_json", "Request body has trailing data.")
		return false
	}
	return true
}

// textOK reports whether s is valid UTF-8 without NUL bytes: the stores
// hold nothing else (PostgreSQL's text type refuses NUL), so such a value
// in a path, a query or a body is bad input (400), not a store error (503).
func textOK(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// jsonText reports whether b is UTF-8 and every string (member names too)
// of the JSON in it is textOK once decoded (a \u0000 escape is a NUL
// byte); b that is not JSON passes, for the decoder to refuse.
func jsonText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	if !bytes.Contains(b, []byte(`\u`)) {
		return true // no escapes: JSON holds no raw NUL byte in a string
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		if s, ok := tok.(string); ok && !textOK(s) {
			return false
		}
	}
}

// plainRequest answers 400 and returns false unless r's path and query
// parameters are textOK.
func plainRequest(w http.ResponseWriter, r *http.Request) bool {
	ok := textOK(r.URL.Path)
	for k, vs := range r.URL.Query() {
		ok = ok && textOK(k)
		for _, v := range vs {
			ok = ok && textOK(v)
		}
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request", "The path or a query parameter holds a NUL character or invalid UTF-8.")
	}
	return ok
}

// scope returns the tenant a request may act on: the caller's own tenant,
// or for a global admin the requested one ("" meaning all).
func scope(p *identity.Principal, requested string) (string, bool) {
	if p.Global() {
		return requested, true
	}
	if requested != "" && requested != p.Tenant {
		return "", false
	}
	return p.Tenant, true
}

type roleInfo struct {
	Name        string                `json:"name"`
	Permissions []identity.Permission `json:"permissions"`
}

func (h *handler) roles(w http.ResponseWriter, _ *http.Request, _ *identity.Principal) {
	var out []roleInfo
	for _, r := range identity.Roles() {
		out = append(out, roleInfo{Name: r, Permissions: identity.RolePermissions(r)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

// intParam parses an optional integer query parameter that must be at
// least least (0 when absent); it answers 400 and returns false otherwise.
func intParam(w http.ResponseWriter, v, name string, least int64) (int64, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < least {
		what := "a non-negative integer"
		if least > 0 {
			what = "a positive integer"
		}
		writeError(w, http.StatusBadRequest, "invalid_request", name+" must be "+what)
		return 0, false
	}
	return n, true
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func (h *handler) queryAudit(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.audit == nil {
		writeError(w, http.StatusServiceUnavailable, "audit_unavailable", "The audit log is not enabled.")
		return
	}
	q := r.URL.Query()
	tenant, ok := scope(p, q.Get("tenant"))
	if !ok {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only read your own tenant's audit log.")
		return
	}
	f := store.AuditFilter{Tenant: tenant}
	if !identity.RoleHas(p.Role, identity.PermWrite) {
		// A viewer reads its own audit trail only (docs/PERMISSIONS.md):
		// its key's records, or a token's subject's within its tenant.
		f.Tenant = p.Tenant
		if p.Global() {
			f.Tenant = ""
		}
		if p.KeyID != "" {
			f.KeyID = p.KeyID
		} else {
			f.Subject = p.Subject
			if f.Subject == "" {
				writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []*store.AuditRecord{}})
				return
			}
		}
	}
	var err error
	if f.Since, err = parseTime(q.Get("since")); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "since must be an RFC 3339 time")
		return
	}
	if f.Until, err = parseTime(q.Get("until")); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "until must be an RFC 3339 time")
		return
	}
	var limit int64
	if f.AfterID, ok = intParam(w, q.Get("after_id"), "after_id", 0); !ok {
		return
	}
	if f.BeforeID, ok = intParam(w, q.Get("before_id"), "before_id", 0); !ok {
		return
	}
	if limit, ok = intParam(w, q.Get("limit"), "limit", 1); !ok {
		return
	}
	f.Limit = int(min(limit, int64(store.MaxAuditLimit)))
	f.RequestID, f.Layer, f.Rule, f.Decision = q.Get("request_id"), q.Get("layer"), q.Get("rule"), q.Get("decision")
	if !store.ValidDecision(f.Decision) {
		writeError(w, http.StatusBadRequest, "invalid_request", "decision must be blocked, allowed, would_block or flagged")
		return
	}
	for _, v := range []string{f.RequestID, f.Layer, f.Rule, q.Get("key_id"), q.Get("subject")} {
		if len(v) > maxFilterLen {
			writeError(w, http.StatusBadRequest, "invalid_request", "a filter value is over 256 bytes")
			return
		}
	}
	// A viewer's own key and subject stay forced; others may narrow.
	if f.KeyID == "" {
		f.KeyID = q.Get("key_id")
	}
	if f.Subject == "" {
		f.Subject = q.Get("subject")
	}
	f.Latest = q.Get("latest") == "true" || q.Get("latest") == "1"
	recs, err := h.audit.QueryAudit(r.Context(), f)
	if err != nil {
		h.log.Error("admin: audit query", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The audit log is temporarily unavailable.")
		return
	}
	if recs == nil {
		recs = []*store.AuditRecord{}
	}
	if q.Get("content") == "open" {
		if !h.openContent(w, r, p, recs) {
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": recs})
}
