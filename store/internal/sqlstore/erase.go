package sqlstore

import (
	"context"

	"github.com/rampart-ai/rampart/store"
)

// eraseSQL holds the statements of a subject erasure, in the order they
// run; each takes the erased id as ?1.
type eraseSQL [7]string

func newEraseSQL(d Dialect) eraseSQL {
	pos := d.Position
	return eraseSQL{
		d.sql(`DELETE FROM audit_log WHERE subject = ?1 OR key_id = ?1`),
		d.sql(`DELETE FROM api_keys WHERE id = ?1`),
		d.sql(`UPDATE api_keys SET replaced_by = '' WHERE replaced_by = ?1`),
		d.sql(`DELETE FROM blocks WHERE value = ?1`),
		d.sql(`UPDATE blocks SET created_by = CASE WHEN created_by = ?1 THEN '' ELSE created_by END,
			reason = CASE WHEN ` + pos + `(reason, ?1) > 0 THEN '' ELSE reason END
			WHERE created_by = ?1 OR ` + pos + `(reason, ?1) > 0`),
		// Spend: fold the id's rows into rows without it, then delete them.
		d.sql(`INSERT INTO spend_daily (day, tenant, key_id, subject, model, requests, unpriced,
			prompt_tokens, completion_tokens, cost_nanos)
			SELECT day, tenant, CASE WHEN key_id = ?1 THEN '' ELSE key_id END,
				CASE WHEN subject = ?1 THEN '' ELSE subject END, model,
				SUM(requests), SUM(unpriced), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_nanos)
			FROM spend_daily WHERE subject = ?1 OR key_id = ?1
			GROUP BY day, tenant, CASE WHEN key_id = ?1 THEN '' ELSE key_id END,
				CASE WHEN subject = ?1 THEN '' ELSE subject END, model
			ON CONFLICT (day, tenant, key_id, subject, model) DO UPDATE SET
			requests = spend_daily.requests + excluded.requests,
			unpriced = spend_daily.unpriced + excluded.unpriced,
			prompt_tokens = spend_daily.prompt_tokens + excluded.prompt_tokens,
			completion_tokens = spend_daily.completion_tokens + excluded.completion_tokens,
			cost_nanos = spend_daily.cost_nanos + excluded.cost_nanos`),
		d.sql(`DELETE FROM spend_daily WHERE subject = ?1 OR key_id = ?1`),
	}
}

// EraseIn runs the statements of store.SubjectEraser's EraseSubject in tx
// (which the backend begins and commits): it deletes audit records, the
// API key and blocks naming id, clears references to it, and bumps the
// identity generation and the blocks version when those changed.
func EraseIn(ctx context.Context, s *Store, tx Querier, id string) (store.Erasure, error) {
	var e store.Erasure
	var folded int64
	counts := [len(s.erase)]*int64{&e.AuditRecords, &e.Keys, &e.KeyReferences, &e.Blocks, &e.BlockReferences, &folded, &e.SpendRows}
	for i, q := range s.erase {
		n, err := tx.Exec(ctx, q, id)
		if err != nil {
			return e, s.errorf("erase: %w", err)
		}
		*counts[i] = n
	}
	if e.Keys > 0 || e.KeyReferences > 0 {
		if _, err := tx.Exec(ctx, bumpGeneration); err != nil {
			return e, s.errorf("erase: identity generation: %w", err)
		}
	}
	if e.Blocks > 0 || e.BlockReferences > 0 {
		if _, err := tx.Exec(ctx, bumpBlocksVersion); err != nil {
			return e, s.errorf("erase: blocks version: %w", err)
		}
	}
	return e, nil
}
