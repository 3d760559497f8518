package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/store"
)

var _ store.SubjectEraser = (*DB)(nil)

// EraseSubject deletes, in one transaction, every audit record whose
// subject or key id is id (with its captured content), the API key whose
// id is id (bumping the identity generation so every replica drops it from
// its cache), clears other keys' replaced_by references to it, deletes
// blocks whose value is id and clears block creators and reasons naming it
// (bumping the blocks version).
//
// PostgreSQL keeps deleted row versions in the table files until VACUUM
// reclaims them, and in its WAL and backups until those expire; queries
// never see them again.
func (db *DB) EraseSubject(ctx context.Context, id string) (store.Erasure, error) {
	var e store.Erasure
	if id == "" {
		return e, errors.New("postgres: erase: empty id")
	}
	err := db.inTx(ctx, false, func(tx pgx.Tx) error {
		steps := []struct {
			q   string
			dst *int64
		}{
			{`DELETE FROM audit_log WHERE subject = $1 OR key_id = $1`, &e.AuditRecords},
			{`DELETE FROM api_keys WHERE id = $1`, &e.Keys},
			{`UPDATE api_keys SET replaced_by = '' WHERE replaced_by = $1`, &e.KeyReferences},
			{`DELETE FROM blocks WHERE value = $1`, &e.Blocks},
			{`UPDATE blocks SET created_by = CASE WHEN created_by = $1 THEN '' ELSE created_by END,
				reason = CASE WHEN strpos(reason, $1) > 0 THEN '' ELSE reason END
				WHERE created_by = $1 OR strpos(reason, $1) > 0`, &e.BlockReferences},
		}
		for _, s := range steps {
			tag, err := tx.Exec(ctx, s.q, id)
			if err != nil {
				return fmt.Errorf("postgres: erase: %w", err)
			}
			*s.dst = tag.RowsAffected()
		}
		if e.Keys > 0 || e.KeyReferences > 0 {
			if _, err := tx.Exec(ctx, `UPDATE identity_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
				return fmt.Errorf("postgres: erase: identity generation: %w", err)
			}
		}
		if e.Blocks > 0 || e.BlockReferences > 0 {
			if _, err := tx.Exec(ctx, `UPDATE blocks_version SET version = version + 1 WHERE id = 1`); err != nil {
				return fmt.Errorf("postgres: erase: blocks version: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Erasure{}, err
	}
	return e, nil
}
