package sqlstore

import (
	"context"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
)

var _ store.FeedbackStore = (*Store)(nil)

const feedbackCols = `id, ts, tenant, request_id, layer, rule, verdict, role, text, note, by_whom`

// AddFeedback stores f, replacing an earlier judgement of the same request
// id, layer and rule.
func (s *Store) AddFeedback(ctx context.Context, f store.Feedback) (store.Feedback, error) {
	if err := store.CheckFeedback(f); err != nil {
		return f, err
	}
	if f.Time.IsZero() {
		f.Time = time.Now()
	}
	f.Time = f.Time.UTC()
	q := s.d.sql(`INSERT INTO feedback (ts, tenant, request_id, layer, rule, verdict, role, text, note, by_whom)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (request_id, layer, rule) DO UPDATE SET ts = excluded.ts, tenant = excluded.tenant,
	verdict = excluded.verdict, role = excluded.role, text = excluded.text, note = excluded.note, by_whom = excluded.by_whom
	RETURNING id`)
	err := s.inTx(ctx, false, func(tx Tx) error {
		return tx.QueryRow(ctx, q, f.Time.UnixNano(), f.Tenant, f.RequestID, f.Layer, f.Rule, f.Verdict, f.Role,
			f.Text, f.Note, f.By).Scan(&f.ID)
	})
	if err != nil {
		return f, s.errorf("feedback: add: %w", err)
	}
	return f, nil
}

// ListFeedback returns matching records in ascending ID order.
func (s *Store) ListFeedback(ctx context.Context, f store.FeedbackFilter) ([]store.Feedback, error) {
	q := s.d.sql(`SELECT ` + feedbackCols + ` FROM feedback WHERE (? = '' OR tenant = ?) AND id > ? ORDER BY id LIMIT ?`)
	rows, err := s.read.Query(ctx, q, f.Tenant, f.Tenant, f.AfterID, f.EffectiveLimit())
	out, err := collect(rows, err, func(r Row) (store.Feedback, error) {
		var fb store.Feedback
		var ts int64
		err := r.Scan(&fb.ID, &ts, &fb.Tenant, &fb.RequestID, &fb.Layer, &fb.Rule, &fb.Verdict, &fb.Role, &fb.Text,
			&fb.Note, &fb.By)
		fb.Time = sqlcodec.FromNanos(ts)
		return fb, err
	})
	if err != nil {
		return nil, s.errorf("feedback: list: %w", err)
	}
	return out, nil
}
