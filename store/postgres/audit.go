package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
	RETURNING id`

// WriteAudit stores recs in one transaction and sets their IDs.
func (db *DB) WriteAudit(ctx context.Context, recs []*store.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]int64, len(recs))
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		for i, r := range recs {
			decisions := r.Decisions
			if decisions == nil {
				decisions = []engine.Outcome{}
			}
			dj, err := json.Marshal(decisions)
			if err != nil {
				return fmt.Errorf("postgres: audit: encode decisions: %w", err)
			}
			attempts, err := store.EncodeAttempts(r.Attempts)
			if err != nil {
				return fmt.Errorf("postgres: audit: encode attempts: %w", err)
			}
			var content *string
			if r.Content != nil {
				cj, err := json.Marshal(r.Content)
				if err != nil {
					return fmt.Errorf("postgres: audit: encode content: %w", err)
				}
				s := string(cj)
				content = &s
			}
			err = tx.QueryRow(ctx, insertAudit, r.RequestID, r.Time.UnixNano(), r.Route, r.Model,
				r.Upstream, r.Tenant, r.KeyID, r.Subject, r.ClientIP, r.Status,
				int64(r.Latency), r.PromptTokens, r.CompletionTokens, r.TotalTokens,
				r.RequestBytes, r.ResponseBytes, r.ContentMAC, string(dj), r.Blocked,
				r.Error, content, r.TraceID, attempts, r.CostNanos, r.Priced).Scan(&ids[i])
			if err != nil {
				return fmt.Errorf("postgres: audit: insert: %w", err)
			}
		}
		for _, d := range store.SpendDeltas(recs) {
			if _, err := tx.Exec(ctx, upsertSpend, d.Day, d.Tenant, d.KeyID, d.Subject, d.Model,
				d.Requests, d.Unpriced, d.PromptTokens, d.CompletionTokens, d.CostNanos); err != nil {
				return fmt.Errorf("postgres: spend: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
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
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if !f.Since.IsZero() {
		add("ts >=", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("ts <", f.Until.UnixNano())
	}
	if f.Tenant != "" {
		add("tenant =", f.Tenant)
	}
	if f.KeyID != "" {
		add("key_id =", f.KeyID)
	}
	if f.Subject != "" {
		add("subject =", f.Subject)
	}
	if f.AfterID > 0 {
		add("id >", f.AfterID)
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
	args = append(args, f.EffectiveLimit())
	q += " LIMIT $" + strconv.Itoa(len(args))

	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit: query: %w", err)
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
		return nil, fmt.Errorf("postgres: audit: query: %w", err)
	}
	if f.Latest {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

func scanAudit(rows pgx.Rows) (*store.AuditRecord, error) {
	var (
		r          store.AuditRecord
		ts, lat    int64
		pt, ct, tt int64
		decisions  string
		content    *string
		attempts   string
	)
	err := rows.Scan(&r.ID, &r.RequestID, &ts, &r.Route, &r.Model, &r.Upstream,
		&r.Tenant, &r.KeyID, &r.Subject, &r.ClientIP, &r.Status, &lat,
		&pt, &ct, &tt, &r.RequestBytes,
		&r.ResponseBytes, &r.ContentMAC, &decisions, &r.Blocked, &r.Error, &content, &r.TraceID,
		&attempts, &r.CostNanos, &r.Priced)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit: scan: %w", err)
	}
	r.PromptTokens, r.CompletionTokens, r.TotalTokens = int(pt), int(ct), int(tt)
	r.Time = time.Unix(0, ts).UTC()
	r.Latency = time.Duration(lat)
	if err := json.Unmarshal([]byte(decisions), &r.Decisions); err != nil {
		return nil, fmt.Errorf("postgres: audit: record %d: decode decisions: %w", r.ID, err)
	}
	if r.Attempts, err = store.DecodeAttempts(attempts); err != nil {
		return nil, fmt.Errorf("postgres: audit: record %d: decode attempts: %w", r.ID, err)
	}
	if content != nil {
		r.Content = new(store.AuditContent)
		if err := json.Unmarshal([]byte(*content), r.Content); err != nil {
			return nil, fmt.Errorf("postgres: audit: record %d: decode content: %w", r.ID, err)
		}
	}
	return &r, nil
}

// purgeChunk bounds how many rows one purge statement deletes.
const purgeChunk = 5000

// PurgeAudit deletes records older than before, in chunks.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM audit_log WHERE id IN
			(SELECT id FROM audit_log WHERE ts < $1 LIMIT $2)`, before.UnixNano(), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("postgres: audit: purge: %w", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
