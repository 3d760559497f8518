package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/rampart-ai/rampart/engine"
)

// SpendRow is spend added up over a period and the dimensions grouped by;
// dimensions not grouped by are empty.
type SpendRow struct {
	// Period is the UTC day (2026-12-07) or month (2026-12) when grouped
	// by one, else empty.
	Period  string `json:"period,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	Subject string `json:"user,omitempty"`
	Model   string `json:"model,omitempty"`
	// Requests counts audited model calls (refused ones too); Unpriced
	// those that used tokens of a model without a price (cost 0).
	Requests         int64 `json:"requests"`
	Unpriced         int64 `json:"unpriced,omitempty"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	// CostNanos is the cost in nano-USD (1e-9 USD).
	CostNanos int64 `json:"cost_nanos"`
}

// Spend grouping dimensions.
const (
	GroupDay    = "day"
	GroupMonth  = "month"
	GroupTenant = "tenant"
	GroupKey    = "key"
	GroupUser   = "user"
	GroupModel  = "model"
)

// SpendFilter selects and groups spend. Zero fields do not filter.
type SpendFilter struct {
	// Since and Until bound the UTC days: Since's day <= day < Until's day.
	Since, Until time.Time
	Tenant       string
	KeyID        string
	Subject      string
	Model        string
	// GroupBy lists dimensions (GroupDay or GroupMonth, GroupTenant,
	// GroupKey, GroupUser, GroupModel); none: one total row.
	GroupBy []string
	// Limit caps the rows (<= 0: DefaultSpendLimit; at most MaxSpendLimit),
	// largest cost first.
	Limit int
}

const (
	DefaultSpendLimit = 1000
	MaxSpendLimit     = 10000
)

// ErrBadSpendFilter rejects an unknown or repeated grouping.
var ErrBadSpendFilter = errors.New("spend: group by day, month, tenant, key, user or model (each once; not day and month together)")

// Validate checks f's grouping.
func (f SpendFilter) Validate() error {
	seen := map[string]bool{}
	for _, g := range f.GroupBy {
		switch g {
		case GroupDay, GroupMonth, GroupTenant, GroupKey, GroupUser, GroupModel:
		default:
			return ErrBadSpendFilter
		}
		if seen[g] {
			return ErrBadSpendFilter
		}
		seen[g] = true
	}
	if seen[GroupDay] && seen[GroupMonth] {
		return ErrBadSpendFilter
	}
	return nil
}

// EffectiveLimit is the limit a backend applies for f.Limit.
func (f SpendFilter) EffectiveLimit() int {
	return effectiveLimit(f.Limit, DefaultSpendLimit, MaxSpendLimit)
}

// SpendStore reads spend, which the audit log adds up as it writes
// records (AuditStore.WriteAudit). Implementations are safe for
// concurrent use.
type SpendStore interface {
	QuerySpend(ctx context.Context, f SpendFilter) ([]SpendRow, error)
}

// SpendDelta is what a batch of audit records adds to one spend_daily row.
type SpendDelta struct {
	Day                                       string
	Tenant, KeyID, Subject, Model             string
	Requests, Unpriced                        int64
	PromptTokens, CompletionTokens, CostNanos int64
}

// SpendDeltas adds recs up per UTC day, tenant, key, user and model,
// sorted by those (so that concurrent writers, other replicas included,
// lock the rows they share in one order and never deadlock). Only model
// calls count (records with a model);
// a request is unpriced when it used tokens its model has no price for.
func SpendDeltas(recs []*AuditRecord) []SpendDelta {
	type k struct{ day, tenant, key, subject, model string }
	idx := map[k]int{}
	var out []SpendDelta
	for _, r := range recs {
		if r.Model == "" {
			continue // admin actions, model listings, scans
		}
		key := k{r.Time.UTC().Format(time.DateOnly), r.Tenant, r.KeyID, r.Subject, r.Model}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, SpendDelta{Day: key.day, Tenant: key.tenant, KeyID: key.key, Subject: key.subject, Model: key.model})
		}
		d := &out[i]
		d.Requests++
		if !r.Priced && (r.PromptTokens > 0 || r.CompletionTokens > 0 || r.TotalTokens > 0) {
			d.Unpriced++
		}
		d.PromptTokens += int64(max(r.PromptTokens, 0))
		d.CompletionTokens += int64(max(r.CompletionTokens, 0))
		d.CostNanos += max(r.CostNanos, 0)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.KeyID, b.KeyID),
			cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Model, b.Model)) < 0
	})
	return out
}

// EncodeAttempts is the attempts column: JSON, or "" for none.
func EncodeAttempts(as []engine.Attempt) (string, error) {
	if len(as) == 0 {
		return "", nil
	}
	// encoding/json's encoding, written without reflection (every
	// proxied request has at least one attempt).
	b := make([]byte, 0, 64*len(as))
	b = append(b, '[')
	for i := range as {
		a := &as[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"upstream":`...)
		b = appendString(b, a.Upstream)
		if a.Status != 0 {
			b = append(b, `,"status":`...)
			b = strconv.AppendInt(b, int64(a.Status), 10)
		}
		if a.Reason != "" {
			b = append(b, `,"reason":`...)
			b = appendString(b, a.Reason)
		}
		b = append(b, `,"duration_ns":`...)
		b = strconv.AppendInt(b, int64(a.Duration), 10)
		b = append(b, '}')
	}
	return string(append(b, ']')), nil
}

// DecodeAttempts reads the attempts column.
func DecodeAttempts(s string) ([]engine.Attempt, error) {
	if s == "" {
		return nil, nil
	}
	var as []engine.Attempt
	if err := json.Unmarshal([]byte(s), &as); err != nil {
		return nil, err
	}
	return as, nil
}
