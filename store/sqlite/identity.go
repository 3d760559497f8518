package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/identity"
)

var _ identity.Store = (*DB)(nil)

// nanos stores a time as Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func encodeJSON(models []string, limits map[string]int64) (string, string, error) {
	if models == nil {
		models = []string{}
	}
	if limits == nil {
		limits = map[string]int64{}
	}
	m, err := json.Marshal(models)
	if err != nil {
		return "", "", err
	}
	l, err := json.Marshal(limits)
	if err != nil {
		return "", "", err
	}
	return string(m), string(l), nil
}

func decodeJSON(m, l string, models *[]string, limits *map[string]int64) error {
	if err := json.Unmarshal([]byte(m), models); err != nil {
		return err
	}
	if len(*models) == 0 {
		*models = nil
	}
	if err := json.Unmarshal([]byte(l), limits); err != nil {
		return err
	}
	if len(*limits) == 0 {
		*limits = nil
	}
	return nil
}

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
	m, l, err := encodeJSON(t.Models, t.Limits)
	if err != nil {
		return fmt.Errorf("sqlite: tenant: %w", err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: tenant: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	_, err = tx.ExecContext(ctx, `INSERT INTO tenants (id, models, policy, limits, created_at)
		VALUES (?, ?, ?, ?, ?)`, t.ID, m, t.Policy, l, nanos(t.CreatedAt))
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
	t.CreatedAt = fromNanos(created)
	if err := decodeJSON(m, l, &t.Models, &t.Limits); err != nil {
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
