package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
	"strings"

	"github.com/rampart-ai/rampart/identity"
)

var _ identity.Store = (*DB)(nil)

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

const bumpGeneration = `UPDATE identity_generation SET generation = generation + 1 WHERE id = 1`

// CreateTenant stores a new tenant (identity.ErrConflict if it exists).
func (db *DB) CreateTenant(ctx context.Context, t identity.Tenant) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	m, l, err := sqlcodec.EncodeJSON(t.Models, t.Limits)
	if err != nil {
		return fmt.Errorf("sqlite: tenant: %w", err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: tenant: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	_, err = tx.ExecContext(ctx, `INSERT INTO tenants (id, models, policy, limits, created_at)
		VALUES (?, ?, ?, ?, ?)`, t.ID, m, t.Policy, l, sqlcodec.Nanos(t.CreatedAt))
	if isUnique(err) {
		return identity.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlite: tenant: insert: %w", err)
	}
	// A new tenant can turn negative cache entries (JWT/mTLS identities
	// naming it) into valid ones.
	if _, err := tx.ExecContext(ctx, bumpGeneration); err != nil {
		return fmt.Errorf("sqlite: tenant: generation: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: tenant: commit: %w", err)
	}
	return nil
}

const tenantColumns = `id, models, policy, limits, created_at`

func scanTenant(sc interface{ Scan(...any) error }) (identity.Tenant, error) {
	var t identity.Tenant
	var m, l string
	var created int64
	if err := sc.Scan(&t.ID, &m, &t.Policy, &l, &created); err != nil {
		return t, err
	}
	t.CreatedAt = sqlcodec.FromNanos(created)
	if err := sqlcodec.DecodeJSON(m, l, &t.Models, &t.Limits); err != nil {
		return t, fmt.Errorf("sqlite: tenant %s: %w", t.ID, err)
	}
	return t, nil
}

// GetTenant returns one tenant (identity.ErrNotFound if none).
func (db *DB) GetTenant(ctx context.Context, id string) (identity.Tenant, error) {
	t, err := scanTenant(db.r.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, identity.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: tenant: %w", err)
	}
	return t, nil
}

// ListTenants returns all tenants ordered by id.
func (db *DB) ListTenants(ctx context.Context) ([]identity.Tenant, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tenants: %w", err)
	}
	defer rows.Close()
	var out []identity.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
