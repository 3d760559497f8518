package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// The backends embed Store and add Close: they are the store.AuditStore.

const auditColumns = `id, request_id, ts, route, model, upstream, tenant, key_id, subject,
	client_ip, status, latency_ns, prompt_tokens, completion_tokens, total_tokens,
	request_bytes, response_bytes, content_mac, decisions, blocked, error, content, trace_id,
	attempts, cost_nanos, priced`

// auditSQL are the audit statements in the backend's dialect.
type auditSQL struct {
	insert, spend, purge string
}

func newAuditSQL(d Dialect) auditSQL {
	return auditSQL{
		insert: d.sql(`INSERT INTO audit_log (request_id, ts, route, model, upstream,
	tenant, key_id, subject, client_ip, status, latency_ns, prompt_tokens,
	completion_tokens, total_tokens, request_bytes, response_bytes, content_mac,
	decisions, blocked, error, content, trace_id, attempts, cost_nanos, priced)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING id`),
		spend: SpendUpsert(d),
		purge: d.sql(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE ts < ? LIMIT ?)`),
	}
}

// WriteAudit stores recs and their spend in one transaction and sets the
// records' IDs.
func (s *Store) WriteAudit(ctx context.Context, recs []*store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	args := make([][]any, len(recs))
	for i, r := range recs {
		store.CleanAuditRecord(r)
		a, err := s.auditArgs(r)
		if err != nil {
			return err
		}
		args[i] = a
	}
	var ids []int64
	err := s.inTx(ctx, false, func(tx Tx) error {
		var err error
		if ids, err = tx.InsertMany(ctx, s.aud.insert, args); err != nil {
			return s.errorf("audit: insert: %w", err)
		}
		for _, d := range store.SpendDeltas(recs) {
			if _, err := tx.Exec(ctx, s.aud.spend, d.Day, d.Tenant, d.KeyID, d.Subject, d.Model,
				d.Requests, d.Unpriced, d.PromptTokens, d.CompletionTokens, d.CostNanos); err != nil {
				return s.errorf("spend: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		if s.d.IsDataError != nil && s.d.IsDataError(err) {
			return errors.Join(store.ErrRecordRefused, err)
		}
		return err
	}
	for i, r := range recs {
		r.ID = ids[i]
	}
	return nil
}

// auditArgs are the insert's arguments for r.
func (s *Store) auditArgs(r *store.AuditRecord) ([]any, error) {
	decisions := r.Decisions
	if decisions == nil {
		decisions = []engine.Outcome{}
	}
	dj, err := store.EncodeDecisions(decisions)
	if err != nil {
		return nil, s.errorf("audit: encode decisions: %w", err)
	}
	attempts, err := store.EncodeAttempts(r.Attempts)
	if err != nil {
		return nil, s.errorf("audit: encode attempts: %w", err)
	}
	var content *string
	if r.Content != nil {
		cj, err := json.Marshal(r.Content)
		if err != nil {
			return nil, s.errorf("audit: encode content: %w", err)
		}
		c := string(cj)
		content = &c
	}
	return []any{r.RequestID, r.Time.UnixNano(), r.Route, r.Model,
		r.Upstream, r.Tenant, r.KeyID, r.Subject, r.ClientIP, r.Status,
		int64(r.Latency), r.PromptTokens, r.CompletionTokens, r.TotalTokens,
		r.RequestBytes, r.ResponseBytes, r.ContentMAC, dj, r.Blocked,
		r.Error, content, r.TraceID, attempts, r.CostNanos, r.Priced}, nil
}

// QueryAudit returns matching records in ascending ID order (the latest
// ones with f.Latest, still in ascending order).
func (s *Store) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if !f.Since.IsZero() {
		add("ts >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("ts < ?", f.Until.UnixNano())
	}
	if f.Tenant != "" {
		add("tenant = ?", f.Tenant)
	}
	if f.KeyID != "" {
		add("key_id = ?", f.KeyID)
	}
	if f.Subject != "" {
		add("subject = ?", f.Subject)
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	if f.RequestID != "" {
		add("request_id = ?", f.RequestID)
	}
	// Decisions are JSON text written by encoding/json (field order
	// layer, phase, action, monitor, rule): a substring of that encoding
	// selects them in both backends.
	pos := s.d.Position + "(decisions, ?) > 0"
	if f.Layer != "" {
		add(pos, `"layer":`+jsonString(f.Layer))
	}
	if f.Rule != "" {
		add(pos, `"rule":`+jsonString(f.Rule))
	}
	switch f.Decision {
	case store.DecisionBlocked:
		add("blocked = ?", true)
	case store.DecisionAllowed:
		add("blocked = ?", false)
	case store.DecisionWouldBlock:
		add(pos, `"action":"block","monitor":true`)
	case store.DecisionFlagged:
		add(pos, `"action":"flag"`)
	}
	q := "SELECT " + auditColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Latest {
		q += " ORDER BY id DESC"
	} else {
		q += " ORDER BY id ASC"
	}
	q += " LIMIT ?"
	args = append(args, f.EffectiveLimit())
	// The filter decides the statement, so it is rewritten per query (an
	// administrator's read, not a model request's path).
	rows, err := s.read.Query(ctx, s.d.sql(q), args...)
	out, err := collect(rows, err, s.scanAudit)
	if err != nil {
		return nil, s.errorf("audit: query: %w", err)
	}
	if f.Latest {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// jsonString is s as encoding/json writes it.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (s *Store) scanAudit(row Row) (*store.AuditRecord, error) {
	var (
		r          store.AuditRecord
		ts, lat    int64
		pt, ct, tt int64
		decisions  string
		content    *string
		attempts   string
	)
	err := row.Scan(&r.ID, &r.RequestID, &ts, &r.Route, &r.Model, &r.Upstream,
		&r.Tenant, &r.KeyID, &r.Subject, &r.ClientIP, &r.Status, &lat,
		&pt, &ct, &tt, &r.RequestBytes,
		&r.ResponseBytes, &r.ContentMAC, &decisions, &r.Blocked, &r.Error, &content, &r.TraceID,
		&attempts, &r.CostNanos, &r.Priced)
	if err != nil {
		return nil, err
	}
	r.PromptTokens, r.CompletionTokens, r.TotalTokens = int(pt), int(ct), int(tt)
	r.Time = time.Unix(0, ts).UTC()
	r.Latency = time.Duration(lat)
	if err := json.Unmarshal([]byte(decisions), &r.Decisions); err != nil {
		return nil, s.errorf("audit: record %d: decode decisions: %w", r.ID, err)
	}
	if r.Attempts, err = store.DecodeAttempts(attempts); err != nil {
		return nil, s.errorf("audit: record %d: decode attempts: %w", r.ID, err)
	}
	if content != nil {
		r.Content = new(store.AuditContent)
		if err := json.Unmarshal([]byte(*content), r.Content); err != nil {
			return nil, s.errorf("audit: record %d: decode content: %w", r.ID, err)
		}
	}
	return &r, nil
}

// purgeChunk bounds how many rows one purge statement deletes, so that a
// large purge does not hold the write lock for long.
const purgeChunk = 5000

// PurgeAudit deletes records older than before, one chunk per transaction.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.inTx(ctx, false, func(tx Tx) error {
			var err error
			n, err = tx.Exec(ctx, s.aud.purge, before.UnixNano(), purgeChunk)
			return err
		})
		if err != nil {
			return total, s.errorf("audit: purge: %w", err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
