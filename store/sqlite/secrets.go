package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-ai/rampart/store"
)

var _ store.SecretStore = (*DB)(nil)

func insertDataKey(ctx context.Context, tx *sql.Tx, dk store.DataKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO secret_data_keys (id, master_id, wrapped, purpose, created_at)
		VALUES (?, ?, ?, ?, ?)`, dk.ID, dk.MasterID, dk.Wrapped, dk.Purpose, dk.CreatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: data key: insert: %w", err)
	}
	return nil
}

// PutSecret stores s and its data key, replacing a secret of the same name.
func (db *DB) PutSecret(ctx context.Context, dk store.DataKey, s store.Secret) error {
	return db.inTx(ctx, false, func(tx *sql.Tx) error {
		if err := insertDataKey(ctx, tx, dk); err != nil {
			return err
		}
		var old string
		err := tx.QueryRowContext(ctx, `SELECT data_key_id FROM secrets WHERE name = ?`, s.Name).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO secrets (name, data_key_id, ciphertext, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, s.Name, dk.ID, s.Ciphertext, s.CreatedAt.UnixNano(), s.UpdatedAt.UnixNano())
		case err == nil:
			_, err = tx.ExecContext(ctx, `UPDATE secrets SET data_key_id = ?, ciphertext = ?, updated_at = ? WHERE name = ?`,
				dk.ID, s.Ciphertext, s.UpdatedAt.UnixNano(), s.Name)
			if err == nil {
				_, err = tx.ExecContext(ctx, `DELETE FROM secret_data_keys WHERE id = ?`, old)
			}
		}
		if err != nil {
			return fmt.Errorf("sqlite: secret: put: %w", err)
		}
		return nil
	})
}

// GetSecret returns a secret and its data key.
func (db *DB) GetSecret(ctx context.Context, name string) (store.Secret, store.DataKey, error) {
	var (
		s          store.Secret
		dk         store.DataKey
		sc, su, dc int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT s.name, s.data_key_id, s.ciphertext, s.created_at, s.updated_at,
		k.id, k.master_id, k.wrapped, k.purpose, k.created_at
		FROM secrets s JOIN secret_data_keys k ON k.id = s.data_key_id WHERE s.name = ?`, name).
		Scan(&s.Name, &s.DataKeyID, &s.Ciphertext, &sc, &su, &dk.ID, &dk.MasterID, &dk.Wrapped, &dk.Purpose, &dc)
	if errors.Is(err, sql.ErrNoRows) {
		return s, dk, store.ErrSecretNotFound
	}
	if err != nil {
		return s, dk, fmt.Errorf("sqlite: secret: get: %w", err)
	}
	s.CreatedAt, s.UpdatedAt, dk.CreatedAt = fromNanos(sc), fromNanos(su), fromNanos(dc)
	return s, dk, nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// ListSecrets lists secret names and dates by name.
func (db *DB) ListSecrets(ctx context.Context) ([]store.SecretInfo, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, created_at, updated_at FROM secrets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: secret: list: %w", err)
	}
	defer rows.Close()
	var out []store.SecretInfo
	for rows.Next() {
		var i store.SecretInfo
		var c, u int64
		if err := rows.Scan(&i.Name, &c, &u); err != nil {
			return nil, fmt.Errorf("sqlite: secret: list: %w", err)
		}
		i.CreatedAt, i.UpdatedAt = fromNanos(c), fromNanos(u)
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: secret: list: %w", err)
	}
	return out, nil
}

// DeleteSecret deletes a secret and its data key.
func (db *DB) DeleteSecret(ctx context.Context, name string) error {
	return db.inTx(ctx, false, func(tx *sql.Tx) error {
		var dk string
		err := tx.QueryRowContext(ctx, `DELETE FROM secrets WHERE name = ? RETURNING data_key_id`, name).Scan(&dk)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrSecretNotFound
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM secret_data_keys WHERE id = ?`, dk)
		}
		if err != nil {
			return fmt.Errorf("sqlite: secret: delete: %w", err)
		}
		return nil
	})
}

// PutDataKey stores a data key not tied to a secret.
func (db *DB) PutDataKey(ctx context.Context, dk store.DataKey) error {
	return db.inTx(ctx, false, func(tx *sql.Tx) error { return insertDataKey(ctx, tx, dk) })
}

// GetDataKey returns one data key.
func (db *DB) GetDataKey(ctx context.Context, id string) (store.DataKey, error) {
	var dk store.DataKey
	var c int64
	err := db.r.QueryRowContext(ctx, `SELECT id, master_id, wrapped, purpose, created_at FROM secret_data_keys WHERE id = ?`, id).
		Scan(&dk.ID, &dk.MasterID, &dk.Wrapped, &dk.Purpose, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return dk, store.ErrSecretNotFound
	}
	if err != nil {
		return dk, fmt.Errorf("sqlite: data key: get: %w", err)
	}
	dk.CreatedAt = fromNanos(c)
	return dk, nil
}

// RewrapDataKeys rewraps every data key in one write transaction; the
// writer lock keeps new data keys out until it commits.
func (db *DB) RewrapDataKeys(ctx context.Context, fn store.Rewrap) (int, error) {
	n := 0
	err := db.inTx(ctx, false, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, master_id, wrapped, purpose, created_at FROM secret_data_keys ORDER BY id`)
		if err != nil {
			return fmt.Errorf("sqlite: data key: rewrap: %w", err)
		}
		var keys []store.DataKey
		for rows.Next() {
			var dk store.DataKey
			var c int64
			if err := rows.Scan(&dk.ID, &dk.MasterID, &dk.Wrapped, &dk.Purpose, &c); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: data key: rewrap: %w", err)
			}
			dk.CreatedAt = fromNanos(c)
			keys = append(keys, dk)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: data key: rewrap: %w", err)
		}
		for _, dk := range keys {
			wrapped, mid, err := fn(dk)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE secret_data_keys SET wrapped = ?, master_id = ? WHERE id = ?`, wrapped, mid, dk.ID); err != nil {
				return fmt.Errorf("sqlite: data key: rewrap: %w", err)
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
