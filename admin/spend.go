package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/pricing"
	"github.com/rampart-ai/rampart/store"
)

// WithSpend serves GET /admin/spend from s (without it: 503).
func WithSpend(s store.SpendStore) Option { return func(h *handler) { h.spend = s } }

// spendView is a spend row with its cost in dollars as a decimal string.
type spendView struct {
	store.SpendRow
	CostUSD string `json:"cost_usd"`
}

// SpendQuery parses the query of GET /admin/spend (also used by
// `rampart spend` on a local store): since and until (YYYY-MM-DD, UTC;
// until exclusive; default: the current month), tenant, key, user, model,
// group_by (comma-separated: day|month, tenant, key, user, model; default
// tenant,model) and limit.
func SpendQuery(q map[string][]string, now time.Time) (store.SpendFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var f store.SpendFilter
	now = now.UTC()
	f.Since = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if v := get("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, errBadQuery("since must be a date such as 2026-12-01")
		}
		f.Since = t
	}
	if v := get("until"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, errBadQuery("until must be a date such as 2027-01-01")
		}
		f.Until = t
	}
	f.Tenant, f.KeyID, f.Subject, f.Model = get("tenant"), get("key"), get("user"), get("model")
	for _, v := range []string{f.Tenant, f.KeyID, f.Subject, f.Model} {
		if len(v) > 256 {
			return f, errBadQuery("filter values are at most 256 bytes")
		}
	}
	group := get("group_by")
	if group == "" {
		group = "tenant,model"
	}
	if group != "none" {
		f.GroupBy = strings.Split(group, ",")
	}
	if err := f.Validate(); err != nil {
		return f, errBadQuery(err.Error())
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, errBadQuery("limit must be a positive integer")
		}
		f.Limit = n
	}
	return f, nil
}

type errBadQuery string

func (e errBadQuery) Error() string { return string(e) }

// SpendViews adds the dollar amount to each row.
func SpendViews(rows []store.SpendRow) []spendView {
	out := make([]spendView, 0, len(rows))
	for _, r := range rows {
		out = append(out, spendView{SpendRow: r, CostUSD: pricing.USD(r.CostNanos)})
	}
	return out
}

// querySpend answers GET /admin/spend. Administrators only (the table
// shows what every key and user of a tenant spent); a tenant
// administrator sees only their tenant.
func (h *handler) querySpend(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.spend == nil {
		writeError(w, http.StatusServiceUnavailable, "spend_unavailable", "Spend is not available (it is added up by the audit log).")
		return
	}
	q := r.URL.Query()
	tenant, ok := scope(p, q.Get("tenant"))
	if !ok {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only read your own tenant's spend.")
		return
	}
	f, err := SpendQuery(q, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	f.Tenant = tenant
	rows, err := h.spend.QuerySpend(r.Context(), f)
	if err != nil {
		h.log.Error("admin: spend query", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is temporarily unavailable.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": SpendViews(rows)})
}
