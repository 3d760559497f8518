package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// tenantQuery passes a page's ?tenant= on to the admin API (a global
// admin's choice; the API refuses another tenant to anyone else).
func tenantQuery(r *http.Request) url.Values {
	q := url.Values{}
	if t := r.URL.Query().Get("tenant"); t != "" {
		q.Set("tenant", t)
	}
	return q
}

// list calls a GET of the admin API that answers {"data": [...]} and
// decodes the list; it answers the failure and returns false otherwise.
func list[T any](h *Handler, w http.ResponseWriter, r *http.Request, x *reqCtx, path string, q url.Values) ([]T, bool) {
	res := h.call(r, x.c, http.MethodGet, path, q, nil)
	if !res.OK() {
		h.apiFail(w, r, x.c, x.who, res)
		return nil, false
	}
	var body struct {
		Data []T `json:"data"`
	}
	if err := res.decode(&body); err != nil {
		h.errorPage(w, r, x.who, http.StatusBadGateway, "bad_answer", "The admin API's answer could not be read.")
		return nil, false
	}
	return body.Data, true
}

// ---- keys and tenants ----

type keyRow struct {
	identity.Key
	Status string
}

type keysData struct {
	Keys    []keyRow
	Tenants []identity.Tenant
	Tenant  string
	Roles   []string
	NewKey  *newKey
}

type newKey struct {
	ID, Secret, Why string
}

// createdKey is the key a successful create or rotate answered (nil
// otherwise), to be shown once.
func createdKey(res *apiResult, why string) *newKey {
	if !res.OK() {
		return nil
	}
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if res.decode(&k) != nil || k.Key == "" {
		return nil
	}
	return &newKey{ID: k.ID, Secret: k.Key, Why: why}
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.keysPage(w, r, x, http.StatusOK, "", "", nil)
}

// keysPage renders the keys page (after an action: its flash, error and
// a key to show once).
func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, x *reqCtx, status int, flash, errMsg string, nk *newKey) {
	q := tenantQuery(r)
	if t := r.PostFormValue("view_tenant"); t != "" {
		q.Set("tenant", t)
	}
	keys, ok := list[identity.Key](h, w, r, x, "/admin/keys", q)
	if !ok {
		return
	}
	d := &keysData{Tenant: q.Get("tenant"), NewKey: nk}
	now := h.o.Now()
	for _, k := range keys {
		st := "active"
		switch {
		case k.ReplacedBy != "" && !k.Usable(now):
			st = "rotated out"
		case k.ReplacedBy != "":
			st = "rotated (grace)"
		case !k.RevokedAt.IsZero():
			st = "revoked"
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			st = "expired"
		}
		d.Keys = append(d.Keys, keyRow{Key: k, Status: st})
	}
	sort.SliceStable(d.Keys, func(i, j int) bool { return d.Keys[i].CreatedAt.After(d.Keys[j].CreatedAt) })
	if x.who.Can("admin") {
		if tr := h.call(r, x.c, http.MethodGet, "/admin/tenants", nil, nil); tr.OK() {
			var tl struct {
				Data []identity.Tenant `json:"data"`
			}
			if tr.decode(&tl) == nil {
				d.Tenants = tl.Data
			}
		}
	}
	for _, role := range identity.Roles() {
		if identity.CanGrant(x.who.Role, role) {
			d.Roles = append(d.Roles, role)
		}
	}
	h.render(w, r, status, "keys", &page{Title: "Keys and tenants", Nav: "keys", Who: x.who, Flash: flash, Error: errMsg, Data: d})
}

// parseLimits reads "rpm=60, tpm=10000" into a limits map.
func parseLimits(s string) (map[string]int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]int64{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errBadLimits
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil || strings.TrimSpace(name) == "" {
			return nil, errBadLimits
		}
		out[strings.TrimSpace(name)] = n
	}
	return out, nil
}

type uiError string

func (e uiError) Error() string { return string(e) }

const errBadLimits = uiError("Limits are name=value pairs separated by commas, e.g. rpm=60, tpm=10000.")

// act carries out one admin API call for a form and renders the result:
// a browser gets the page again with a message; an API client gets the
// page on success and the admin API's JSON error otherwise.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, x *reqCtx, res *apiResult, okMsg string,
	again func(status int, flash, errMsg string)) bool {
	if res.OK() {
		again(http.StatusOK, okMsg, "")
		return true
	}
	if res.Status == http.StatusUnauthorized || !wantsHTML(r) {
		h.apiFail(w, r, x.c, x.who, res)
		return false
	}
	_, msg := res.message()
	again(res.Status, "", msg)
	return false
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	lim, err := parseLimits(r.PostFormValue("limits"))
	if err != nil {
		h.formError(w, r, x, err.Error(), func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nil) })
		return
	}
	body := map[string]any{"name": r.PostFormValue("name"), "role": r.PostFormValue("role")}
	for _, f := range []string{"tenant", "expires_in", "policy"} {
		if v := strings.TrimSpace(r.PostFormValue(f)); v != "" {
			body[f] = v
		}
	}
	if lim != nil {
		body["limits"] = lim
	}
	res := h.call(r, x.c, http.MethodPost, "/admin/keys", nil, body)
	nk := createdKey(res, "created")
	h.act(w, r, x, res, "Key created.", func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nk) })
}

// formError answers a form the console could not turn into an API call.
func (h *Handler) formError(w http.ResponseWriter, r *http.Request, x *reqCtx, msg string, again func(int, string, string)) {
	if !wantsHTML(r) {
		h.errorPage(w, r, x.who, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	again(http.StatusBadRequest, "", msg)
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	id := r.PathValue("id")
	res := h.call(r, x.c, http.MethodDelete, "/admin/keys/"+url.PathEscape(id), nil, nil)
	h.act(w, r, x, res, "Key "+id+" revoked.", func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nil) })
}

func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	id := r.PathValue("id")
	body := map[string]any{}
	if g := strings.TrimSpace(r.PostFormValue("grace")); g != "" {
		body["grace"] = g
	}
	res := h.call(r, x.c, http.MethodPost, "/admin/keys/"+url.PathEscape(id)+"/rotate", nil, body)
	nk := createdKey(res, "replaces "+id)
	h.act(w, r, x, res, "Key "+id+" rotated.", func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nk) })
}

// setKeyLimits replaces a key's limits and budgets (PATCH
// /admin/keys/{id}: the admin API decides what the caller may give; an
// empty field clears the key's own limits, so the tenant's apply, or the
// caller's own where its key's are tighter).
func (h *Handler) setKeyLimits(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.setLimits(w, r, x, "/admin/keys/", "Limits of key ")
}

// setTenantLimits replaces a tenant's limits and budgets (PATCH
// /admin/tenants/{id}: global admins only, decided by the admin API).
func (h *Handler) setTenantLimits(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.setLimits(w, r, x, "/admin/tenants/", "Limits of tenant ")
}

func (h *Handler) setLimits(w http.ResponseWriter, r *http.Request, x *reqCtx, api, okMsg string) {
	again := func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nil) }
	lim, err := parseLimits(r.PostFormValue("limits"))
	if err != nil {
		h.formError(w, r, x, err.Error(), again)
		return
	}
	if lim == nil {
		lim = map[string]int64{}
	}
	id := r.PathValue("id")
	res := h.call(r, x.c, http.MethodPatch, api+url.PathEscape(id), nil, map[string]any{"limits": lim})
	h.act(w, r, x, res, okMsg+id+" changed.", again)
}

func (h *Handler) createTenant(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	lim, err := parseLimits(r.PostFormValue("limits"))
	if err != nil {
		h.formError(w, r, x, err.Error(), func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nil) })
		return
	}
	body := map[string]any{"id": strings.TrimSpace(r.PostFormValue("id"))}
	if v := strings.TrimSpace(r.PostFormValue("policy")); v != "" {
		body["policy"] = v
	}
	if lim != nil {
		body["limits"] = lim
	}
	res := h.call(r, x.c, http.MethodPost, "/admin/tenants", nil, body)
	h.act(w, r, x, res, "Tenant created.", func(s int, f, e string) { h.keysPage(w, r, x, s, f, e, nil) })
}

// ---- blocks and incidents ----

type blockRow struct {
	store.Block
	Auto    bool
	TTL     string
	History []incidentRow
}

type incidentRow struct {
	Time      time.Time
	Subject   string
	Threshold string
	Action    string
	Score     float64
	Reason    string
}

type blocksData struct {
	Blocks    []blockRow
	Incidents []incidentRow
	Tenant    string
}

func (h *Handler) blocks(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.blocksPage(w, r, x, http.StatusOK, "", "")
}

func (h *Handler) blocksPage(w http.ResponseWriter, r *http.Request, x *reqCtx, status int, flash, errMsg string) {
	q := tenantQuery(r)
	blocks, ok := list[store.Block](h, w, r, x, "/admin/blocks", q)
	if !ok {
		return
	}
	d := &blocksData{Tenant: q.Get("tenant")}
	// Incident response's audit records: each automatic action with the
	// score that crossed its threshold.
	aq := url.Values{"layer": {"incident"}, "latest": {"true"}, "limit": {"200"}}
	if t := q.Get("tenant"); t != "" {
		aq.Set("tenant", t)
	}
	if ar := h.call(r, x.c, http.MethodGet, "/admin/audit", aq, nil); ar.OK() {
		var recs struct {
			Data []*store.AuditRecord `json:"data"`
		}
		if ar.decode(&recs) == nil {
			for i := len(recs.Data) - 1; i >= 0; i-- {
				rec := recs.Data[i]
				for _, o := range rec.Decisions {
					if o.Layer != "incident" {
						continue
					}
					row := incidentRow{Time: rec.Time, Threshold: o.Rule, Action: o.Action, Subject: firstNonEmpty(rec.KeyID, rec.Subject, rec.ClientIP)}
					for _, f := range o.Findings {
						row.Score, row.Reason = f.Score, f.Text
					}
					d.Incidents = append(d.Incidents, row)
				}
			}
		}
	}
	now := h.o.Now()
	for _, b := range blocks {
		br := blockRow{Block: b, Auto: b.CreatedBy == store.CreatedByAuto, TTL: b.ExpiresAt.Sub(now).Round(time.Second).String()}
		if br.Auto {
			for _, in := range d.Incidents {
				if in.Subject == b.Value {
					br.History = append(br.History, in)
				}
			}
		}
		d.Blocks = append(d.Blocks, br)
	}
	h.render(w, r, status, "blocks", &page{Title: "Blocks and incidents", Nav: "blocks", Who: x.who, Flash: flash, Error: errMsg, Data: d})
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func (h *Handler) createBlock(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	body := map[string]any{}
	for _, f := range []string{"kind", "value", "tenant", "action", "ttl", "reason"} {
		if v := strings.TrimSpace(r.PostFormValue(f)); v != "" {
			body[f] = v
		}
	}
	rpm, err := formInt(r, "rpm")
	if err != nil || rpm < 0 {
		h.formError(w, r, x, "rpm must be a whole number.", func(s int, f, e string) { h.blocksPage(w, r, x, s, f, e) })
		return
	}
	if rpm > 0 {
		body["rpm"] = rpm
	}
	res := h.call(r, x.c, http.MethodPost, "/admin/blocks", nil, body)
	h.act(w, r, x, res, "Block added.", func(s int, f, e string) { h.blocksPage(w, r, x, s, f, e) })
}

func (h *Handler) removeBlock(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	id := r.PathValue("id")
	res := h.call(r, x.c, http.MethodDelete, "/admin/blocks/"+url.PathEscape(id), nil, nil)
	h.act(w, r, x, res, "Block "+id+" removed.", func(s int, f, e string) { h.blocksPage(w, r, x, s, f, e) })
}

// ---- audit search and would-block review ----

// auditFilters are the search fields of the audit and review pages.
var auditFilters = []string{"tenant", "key_id", "subject", "decision", "layer", "rule", "request_id"}

type auditData struct {
	Records  []*recordView
	Filter   map[string]string
	Since    string
	Until    string
	Older    string // link to the next (older) page; "" at the end
	Newest   string
	Export   string
	Decision []string
	Roles    []string
}

type recordView struct {
	*store.AuditRecord
	Outcomes []outcomeView
	Segments []segmentView // clear captured content with finding spans marked
	Sealed   bool
	Feedback map[string]string // layer/rule -> verdict
}

type outcomeView struct {
	engine.Outcome
	WouldBlock bool
	Key        string // layer/rule
	Verdict    string // review feedback already given
	Text, Role string // the captured text its first finding is in (clear content only)
}

type segmentView struct {
	Role  string
	Parts []part
}

// parseWhen reads a datetime-local (UTC) or RFC 3339 time.
func parseWhen(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// auditQuery turns a page's search form into the admin API query.
func auditQuery(r *http.Request, d *auditData) (url.Values, string) {
	in := r.URL.Query()
	q := url.Values{"latest": {"true"}, "limit": {strconv.Itoa(pageSize)}}
	d.Filter = map[string]string{}
	for _, f := range auditFilters {
		if v := strings.TrimSpace(in.Get(f)); v != "" {
			q.Set(f, v)
			d.Filter[f] = v
		}
	}
	d.Since, d.Until = in.Get("since"), in.Get("until")
	for _, tf := range []struct{ name, val string }{{"since", d.Since}, {"until", d.Until}} {
		t, ok := parseWhen(tf.val)
		if !ok {
			return nil, tf.name + " must be a date and time such as 2026-12-07T10:00 (UTC)."
		}
		if !t.IsZero() {
			q.Set(tf.name, t.Format(time.RFC3339Nano))
		}
	}
	if v := in.Get("before_id"); v != "" {
		q.Set("before_id", v)
	}
	return q, ""
}

// pageLinks sets the paging links: older continues below the oldest row.
func pageLinks(r *http.Request, d *auditData, recs []*store.AuditRecord) {
	in := r.URL.Query()
	in.Del("before_id")
	d.Newest = "?" + in.Encode()
	if len(recs) == pageSize {
		in.Set("before_id", strconv.FormatInt(recs[0].ID, 10))
		d.Older = "?" + in.Encode()
	}
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.auditPage(w, r, x, "audit", http.StatusOK, "", "")
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.auditPage(w, r, x, "review", http.StatusOK, "", "")
}

// auditPage renders the audit search (name "audit") or the would-block
// review ("review": decision would_block, with feedback forms).
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, x *reqCtx, name string, status int, flash, errMsg string) {
	d := &auditData{Decision: []string{"", store.DecisionBlocked, store.DecisionWouldBlock, store.DecisionFlagged, store.DecisionAllowed},
		Roles: scanRoles}
	q, bad := auditQuery(r, d)
	title := "Audit search"
	if name == "review" {
		title = "Would-block review"
		q.Set("decision", store.DecisionWouldBlock)
		d.Export = "/ui/review/export?" + tenantQuery(r).Encode()
		if x.who.Can("admin") {
			q.Set("content", "open") // captured text, for admins (the read is audited)
		}
	}
	if bad != "" {
		h.errorPage(w, r, x.who, http.StatusBadRequest, "invalid_request", bad)
		return
	}
	recs, ok := list[*store.AuditRecord](h, w, r, x, "/admin/audit", q)
	if !ok {
		return
	}
	pageLinks(r, d, recs)
	verdicts := map[string]string{}
	if name == "review" && x.who.Can("write") {
		if fr := h.call(r, x.c, http.MethodGet, "/admin/feedback", tenantQuery(r), nil); fr.OK() {
			var fl struct {
				Data []store.Feedback `json:"data"`
			}
			if fr.decode(&fl) == nil {
				for _, f := range fl.Data {
					verdicts[f.RequestID+"\x00"+f.Layer+"/"+f.Rule] = f.Verdict
				}
			}
		}
	}
	for i := len(recs) - 1; i >= 0; i-- { // newest first
		rec := recs[i]
		rv := &recordView{AuditRecord: rec}
		for _, o := range rec.Decisions {
			ov := outcomeView{Outcome: o, WouldBlock: store.WouldBlock(o), Key: o.Layer + "/" + o.Rule}
			ov.Verdict = verdicts[rec.RequestID+"\x00"+ov.Key]
			rv.Outcomes = append(rv.Outcomes, ov)
		}
		if c := rec.Content; c != nil {
			if c.Sealed != nil {
				rv.Sealed = true
			} else {
				for i := range rv.Outcomes {
					o := &rv.Outcomes[i]
					for _, f := range o.Findings {
						for _, seg := range c.Request {
							if seg.Message == f.Message && o.Text == "" {
								o.Text, o.Role = seg.Text, seg.Role
							}
						}
					}
				}
				for _, seg := range c.Request {
					var spans []span
					for _, o := range rec.Decisions {
						for _, f := range o.Findings {
							if f.Message == seg.Message && f.End > f.Start {
								spans = append(spans, span{f.Start, f.End, f.Layer + "/" + f.Rule})
							}
						}
					}
					rv.Segments = append(rv.Segments, segmentView{Role: seg.Role, Parts: highlight(seg.Text, spans)})
				}
			}
		}
		d.Records = append(d.Records, rv)
	}
	h.render(w, r, status, name, &page{Title: title, Nav: name, Who: x.who, Flash: flash, Error: errMsg, Data: d})
}

// feedback records a verdict on a would-be block (POST /admin/feedback).
func (h *Handler) feedback(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	body := map[string]any{"verdict": store.FeedbackFalsePositive}
	for _, f := range []string{"request_id", "layer", "rule", "verdict", "role", "text", "note"} {
		if v := r.PostFormValue(f); strings.TrimSpace(v) != "" {
			body[f] = v
		}
	}
	res := h.call(r, x.c, http.MethodPost, "/admin/feedback", nil, body)
	msg := "Marked as a false positive."
	if body["verdict"] == store.FeedbackTruePositive {
		msg = "Confirmed as a true positive."
	}
	h.act(w, r, x, res, msg, func(s int, f, e string) { h.auditPage(w, r, x, "review", s, f, e) })
}

// export downloads the review feedback as JSON lines for rampart eval.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	q := tenantQuery(r)
	q.Set("format", "jsonl")
	res := h.call(r, x.c, http.MethodGet, "/admin/feedback", q, nil)
	if !res.OK() {
		h.apiFail(w, r, x.c, x.who, res)
		return
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "X-Rampart-Feedback-Without-Text"} {
		if v := res.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Body)
}

// ---- scan playground ----

type scanData struct {
	Text, Direction, Role string
	Roles                 []string
	Result                *scanResult
	Parts                 []part
}

type scanResult struct {
	Flagged  bool    `json:"flagged"`
	Score    float64 `json:"score"`
	Findings []struct {
		Layer    string  `json:"layer"`
		Rule     string  `json:"rule"`
		Severity string  `json:"severity"`
		Score    float64 `json:"score"`
		Start    int     `json:"start"`
		End      int     `json:"end"`
		Message  string  `json:"message"`
		Decoding string  `json:"decoding"`
		Entity   string  `json:"entity"`
	} `json:"findings"`
	Redacted string `json:"redacted"`
	Error    string `json:"error"`
}

var scanRoles = []string{"user", "system", "assistant", "document", "tool"}

func (h *Handler) scanPage(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	h.render(w, r, http.StatusOK, "scan", &page{Title: "Scan playground", Nav: "scan", Who: x.who,
		Data: &scanData{Direction: "input", Role: "user", Roles: scanRoles}})
}

func (h *Handler) scan(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	d := &scanData{Text: r.PostFormValue("text"), Direction: r.PostFormValue("direction"), Role: r.PostFormValue("role"), Roles: scanRoles}
	if d.Direction == "" {
		d.Direction = "input"
	}
	if d.Role == "" {
		d.Role = "user"
	}
	again := func(status int, errMsg string) {
		h.render(w, r, status, "scan", &page{Title: "Scan playground", Nav: "scan", Who: x.who, Error: errMsg, Data: d})
	}
	if len(d.Text) > maxScanText {
		h.formError(w, r, x, "The text is over 256 KiB.", func(s int, _, e string) { again(s, e) })
		return
	}
	res := h.call(r, x.c, http.MethodPost, "/v1/scan", nil, map[string]any{"text": d.Text, "role": d.Role, "direction": d.Direction})
	if !res.OK() {
		if res.Status == http.StatusUnauthorized || !wantsHTML(r) {
			h.apiFail(w, r, x.c, x.who, res)
			return
		}
		_, msg := res.message()
		again(res.Status, msg)
		return
	}
	var sr scanResult
	if err := json.Unmarshal(res.Body, &sr); err != nil {
		h.errorPage(w, r, x.who, http.StatusBadGateway, "bad_answer", "The scan answer could not be read.")
		return
	}
	d.Result = &sr
	var spans []span
	for _, f := range sr.Findings {
		if f.End > f.Start {
			spans = append(spans, span{f.Start, f.End, f.Layer + "/" + f.Rule})
		}
	}
	d.Parts = highlight(d.Text, spans)
	again(http.StatusOK, "")
}

// ---- finding spans ----

// span is a finding's code-point range in a text.
type span struct {
	Start, End int
	Label      string
}

// part is a run of text, marked when a finding covers it.
type part struct {
	Text  string
	Mark  bool
	Label string
}

// highlight splits text into runs at finding spans (code-point offsets,
// clamped to the text; overlapping spans merge).
func highlight(text string, spans []span) []part {
	rs := []rune(text)
	if len(spans) == 0 {
		return []part{{Text: text}}
	}
	label := make([]string, len(rs))
	for _, s := range spans {
		a, b := max(0, s.Start), min(len(rs), s.End)
		for i := a; i < b; i++ {
			if label[i] == "" {
				label[i] = s.Label
			} else if !strings.Contains(label[i], s.Label) {
				label[i] += ", " + s.Label
			}
		}
	}
	var out []part
	start := 0
	for i := 1; i <= len(rs); i++ {
		if i == len(rs) || (label[i] == "") != (label[start] == "") || label[i] != label[start] {
			out = append(out, part{Text: string(rs[start:i]), Mark: label[start] != "", Label: label[start]})
			start = i
		}
	}
	return out
}
