package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/store"
)

var _ store.SpendStore = (*Store)(nil)

// SpendUpsert adds one store.SpendDelta to its spend_daily row
// (arguments: day, tenant, key_id, subject, model, requests, unpriced,
// prompt_tokens, completion_tokens, cost_nanos). Both backends run it in
// the audit write's transaction.
func SpendUpsert(d Dialect) string {
	return d.sql(`INSERT INTO spend_daily (day, tenant, key_id, subject, model, requests, unpriced,
		prompt_tokens, completion_tokens, cost_nanos) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (day, tenant, key_id, subject, model) DO UPDATE SET
		requests = spend_daily.requests + excluded.requests,
		unpriced = spend_daily.unpriced + excluded.unpriced,
		prompt_tokens = spend_daily.prompt_tokens + excluded.prompt_tokens,
		completion_tokens = spend_daily.completion_tokens + excluded.completion_tokens,
		cost_nanos = spend_daily.cost_nanos + excluded.cost_nanos`)
}

// spendColumns maps a grouping to its SQL expression.
var spendColumns = map[string]string{
	store.GroupDay:    "day",
	store.GroupMonth:  "substr(day, 1, 7)",
	store.GroupTenant: "tenant",
	store.GroupKey:    "key_id",
	store.GroupUser:   "subject",
	store.GroupModel:  "model",
}

// QuerySpend adds spend_daily up as f asks, largest cost first.
func (s *Store) QuerySpend(ctx context.Context, f store.SpendFilter) ([]store.SpendRow, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var where, group []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if !f.Since.IsZero() {
		add("day >= ?", f.Since.UTC().Format(time.DateOnly))
	}
	if !f.Until.IsZero() {
		add("day < ?", f.Until.UTC().Format(time.DateOnly))
	}
	for _, c := range []struct{ col, v string }{{"tenant", f.Tenant}, {"key_id", f.KeyID}, {"subject", f.Subject}, {"model", f.Model}} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	for _, g := range f.GroupBy {
		group = append(group, spendColumns[g])
	}
	sel := make([]string, 0, len(group)+6)
	sel = append(sel, group...)
	// The grouped expressions are fixed strings from spendColumns, never
	// caller input.
	// CAST: PostgreSQL's SUM of BIGINT is NUMERIC.
	q := "SELECT " + strings.Join(append(sel, "CAST(SUM(requests) AS BIGINT)", "CAST(SUM(unpriced) AS BIGINT)",
		"CAST(SUM(prompt_tokens) AS BIGINT)", "CAST(SUM(completion_tokens) AS BIGINT)", "CAST(SUM(cost_nanos) AS BIGINT)"), ", ") +
		" FROM spend_daily"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if len(group) > 0 {
		q += " GROUP BY " + strings.Join(group, ", ")
		q += " ORDER BY SUM(cost_nanos) DESC, " + strings.Join(group, ", ")
	}
	q += " LIMIT ?"
	args = append(args, f.EffectiveLimit())
	qr, qerr := s.read.Query(ctx, s.d.sql(q), args...)
	rows, err := collect(qr, qerr, func(r Row) (store.SpendRow, error) {
		var out store.SpendRow
		dims := make([]string, len(f.GroupBy))
		dest := make([]any, 0, len(dims)+5)
		for i := range dims {
			dest = append(dest, &dims[i])
		}
		// SUM over no rows is NULL: scan into nullable integers.
		var sums [5]*int64
		for i := range sums {
			dest = append(dest, &sums[i])
		}
		if err := r.Scan(dest...); err != nil {
			return out, err
		}
		for i, g := range f.GroupBy {
			switch g {
			case store.GroupDay, store.GroupMonth:
				out.Period = dims[i]
			case store.GroupTenant:
				out.Tenant = dims[i]
			case store.GroupKey:
				out.KeyID = dims[i]
			case store.GroupUser:
				out.Subject = dims[i]
			case store.GroupModel:
				out.Model = dims[i]
			}
		}
		v := func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		}
		out.Requests, out.Unpriced, out.PromptTokens = v(sums[0]), v(sums[1]), v(sums[2])
		out.CompletionTokens, out.CostNanos = v(sums[3]), v(sums[4])
		return out, nil
	})
	if err != nil {
		return nil, s.errorf("spend: %w", err)
	}
	if len(group) == 0 && len(rows) == 1 && rows[0].Requests == 0 {
		return nil, nil
	}
	return rows, nil
}
