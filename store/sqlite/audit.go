package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlstore"
)

var _ store.AuditStore = (*DB)(nil)

var upsertSpend = sqlstore.SpendUpsert(dialect)

const auditColumns = `id, request_id, ts, route, model, upstream, tenant, key_id, subject,
	client_ip, status, latency_ns, prompt_tokens, completion_tokens, total_tokens,
	request_bytes, response_bytes, content_mac, decisions, blocked, error, content, trace_id,
	attempts, cost_nanos, priced`

const insertAudit = `INSERT INTO audit_log (request_id, ts, route, model, upstream,
	tenant, key_id, subject, client_ip, status, latency_ns, prompt_tokens,
	completion_tokens, total_tokens, request_bytes, response_bytes, content_mac,
	decisions, blocked, error, content, trace_id, attempts, cost_nanos, priced)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// WriteAudit stores recs in one transaction and sets their IDs.
func (db *DB) WriteAudit(ctx context.Context, recs []*store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	w, err := db.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: audit: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	stmt, err := tx.PrepareContext(ctx, insertAudit)
	if err != nil {
		return fmt.Errorf("sqlite: audit: prepare: %w", err)
	}
	defer stmt.Close()
	ids := make([]int64, len(recs))
	for i, r := range recs {
		decisions := r.Decisions
		if decisions == nil {
			decisions = []engine.Outcome{}
		}
		dj, err := json.Marshal(decisions)
		if err != nil {
			return fmt.Errorf("sqlite: audit: encode decisions: %w", err)
		}
		attempts, err := store.EncodeAttempts(r.Attempts)
		if err != nil {
			return fmt.Errorf("sqlite: audit: encode attempts: %w", err)
		}
		var content sql.NullString
		if r.Content != nil {
			cj, err := json.Marshal(r.Content)
			if err != nil {
				return fmt.Errorf("sqlite: audit: encode content: %w", err)
			}
			content = sql.NullString{String: string(cj), Valid: true}
		}
		res, err := stmt.ExecContext(ctx, r.RequestID, r.Time.UnixNano(), r.Route, r.Model,
			r.Upstream, r.Tenant, r.KeyID, r.Subject, r.ClientIP, r.Status,
			int64(r.Latency), r.PromptTokens, r.CompletionTokens, r.TotalTokens,
			r.RequestBytes, r.ResponseBytes, r.ContentMAC, string(dj), r.Blocked,
			r.Error, content, r.TraceID, attempts, r.CostNanos, r.Priced)
		if err != nil {
			return fmt.Errorf("sqlite: audit: insert: %w", err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: audit: insert id: %w", err)
		}
	}
	for _, d := range store.SpendDeltas(recs) {
		if _, err := tx.ExecContext(ctx, upsertSpend, d.Day, d.Tenant, d.KeyID, d.Subject, d.Model,
			d.Requests, d.Unpriced, d.PromptTokens, d.CompletionTokens, d.CostNanos); err != nil {
			return fmt.Errorf("sqlite: spend: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: audit: commit: %w", err)
	}
	for i, r := range recs {
		r.ID = ids[i]
	}
	return nil
}

// QueryAudit returns matching records in ascending ID order.
func (db *DB) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditRecord, error) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "ts >= ?"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "ts < ?"), append(args, f.Until.UnixNano())
	}
	if f.Tenant != "" {
		where, args = append(where, "tenant = ?"), append(args, f.Tenant)
	}
	if f.KeyID != "" {
		where, args = append(where, "key_id = ?"), append(args, f.KeyID)
	}
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	if f.AfterID > 0 {
		where, args = append(where, "id > ?"), append(args, f.AfterID)
	}
	q := "SELECT " + auditColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY id ASC"
	if f.Latest {
		order = " ORDER BY id DESC"
	}
	q += order + " LIMIT ?"
	args = append(args, f.EffectiveLimit())

	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit: query: %w", err)
	}
	defer rows.Close()
	var out []*store.AuditRecord
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit: query: %w", err)
	}
	if f.Latest {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

func scanAudit(rows *sql.Rows) (*store.AuditRecord, error) {
	var (
		r         store.AuditRecord
		ts, lat   int64
		decisions string
		content   sql.NullString
		attempts  string
	)
	err := rows.Scan(&r.ID, &r.RequestID, &ts, &r.Route, &r.Model, &r.Upstream,
		&r.Tenant, &r.KeyID, &r.Subject, &r.ClientIP, &r.Status, &lat,
		&r.PromptTokens, &r.CompletionTokens, &r.TotalTokens, &r.RequestBytes,
		&r.ResponseBytes, &r.ContentMAC, &decisions, &r.Blocked, &r.Error, &content, &r.TraceID,
		&attempts, &r.CostNanos, &r.Priced)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit: scan: %w", err)
	}
	r.Time = time.Unix(0, ts).UTC()
	r.Latency = time.Duration(lat)
	if err := json.Unmarshal([]byte(decisions), &r.Decisions); err != nil {
		return nil, fmt.Errorf("sqlite: audit: record %d: decode decisions: %w", r.ID, err)
	}
	if r.Attempts, err = store.DecodeAttempts(attempts); err != nil {
		return nil, fmt.Errorf("sqlite: audit: record %d: decode attempts: %w", r.ID, err)
	}
	if content.Valid {
		r.Content = new(store.AuditContent)
		if err := json.Unmarshal([]byte(content.String), r.Content); err != nil {
			return nil, fmt.Errorf("sqlite: audit: record %d: decode content: %w", r.ID, err)
		}
	}
	return &r, nil
}

// purgeChunk bounds how many rows one purge statement deletes, so that a
// large purge does not hold the write lock for long.
const purgeChunk = 5000

// PurgeAudit deletes records older than before, in chunks.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	w, err := db.writer()
	if err != nil {
		return 0, err
	}
	var total int64
	for {
		res, err := w.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE ts < ? LIMIT ?)`, before.UnixNano(), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("sqlite: audit: purge: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: audit: purge: %w", err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
