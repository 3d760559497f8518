package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rampart-ai/rampart/store"
)

var _ store.SecretStore = (*Store)(nil)

// secretSQL holds the secret store's statements in the backend's dialect.
type secretSQL struct {
	insertKey, lockSecret, insertSecret, updateSecret, deleteKey      string
	getSecret, listSecrets, deleteSecret, getKey, listKeys, rewrapKey string
}

const dataKeyColumns = `id, master_id, wrapped, purpose, created_at`

func newSecretSQL(d Dialect) secretSQL {
	return secretSQL{
		insertKey:    d.sql(`INSERT INTO secret_data_keys (` + dataKeyColumns + `) VALUES (?, ?, ?, ?, ?)`),
		lockSecret:   d.sql(`SELECT data_key_id FROM secrets WHERE name = ?` + d.ForUpdate),
		insertSecret: d.sql(`INSERT INTO secrets (name, data_key_id, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
		updateSecret: d.sql(`UPDATE secrets SET data_key_id = ?, ciphertext = ?, updated_at = ? WHERE name = ?`),
		deleteKey:    d.sql(`DELETE FROM secret_data_keys WHERE id = ?`),
		getSecret: d.sql(`SELECT s.name, s.data_key_id, s.ciphertext, s.created_at, s.updated_at,
			k.id, k.master_id, k.wrapped, k.purpose, k.created_at
			FROM secrets s JOIN secret_data_keys k ON k.id = s.data_key_id WHERE s.name = ?`),
		listSecrets:  `SELECT name, created_at, updated_at FROM secrets ORDER BY name`,
		deleteSecret: d.sql(`DELETE FROM secrets WHERE name = ? RETURNING data_key_id`),
		getKey:       d.sql(`SELECT ` + dataKeyColumns + ` FROM secret_data_keys WHERE id = ?`),
		listKeys:     `SELECT ` + dataKeyColumns + ` FROM secret_data_keys ORDER BY id`,
		rewrapKey:    d.sql(`UPDATE secret_data_keys SET wrapped = ?, master_id = ? WHERE id = ?`),
	}
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func scanDataKey(r Row) (store.DataKey, error) {
	var dk store.DataKey
	var c int64
	err := r.Scan(&dk.ID, &dk.MasterID, &dk.Wrapped, &dk.Purpose, &c)
	dk.CreatedAt = fromNanos(c)
	return dk, err
}

func (s *Store) insertDataKey(ctx context.Context, tx Tx, dk store.DataKey) error {
	_, err := tx.Exec(ctx, s.sec.insertKey, dk.ID, dk.MasterID, dk.Wrapped, dk.Purpose, dk.CreatedAt.UnixNano())
	if err != nil {
		return s.errorf("data key: insert: %w", err)
	}
	return nil
}

// PutSecret stores sec and its data key, replacing a secret of the same name.
func (s *Store) PutSecret(ctx context.Context, dk store.DataKey, sec store.Secret) error {
	return s.inTx(ctx, false, func(tx Tx) error {
		if err := s.insertDataKey(ctx, tx, dk); err != nil {
			return err
		}
		var old string
		err := tx.QueryRow(ctx, s.sec.lockSecret, sec.Name).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, s.sec.insertSecret, sec.Name, dk.ID, sec.Ciphertext, sec.CreatedAt.UnixNano(), sec.UpdatedAt.UnixNano())
		case err == nil:
			_, err = tx.Exec(ctx, s.sec.updateSecret, dk.ID, sec.Ciphertext, sec.UpdatedAt.UnixNano(), sec.Name)
			if err == nil {
				_, err = tx.Exec(ctx, s.sec.deleteKey, old)
			}
		}
		if err != nil {
			return s.errorf("secret: put: %w", err)
		}
		return nil
	})
}

// GetSecret returns a secret and its data key.
func (s *Store) GetSecret(ctx context.Context, name string) (store.Secret, store.DataKey, error) {
	var (
		sec        store.Secret
		dk         store.DataKey
		sc, su, dc int64
	)
	err := s.read.QueryRow(ctx, s.sec.getSecret, name).
		Scan(&sec.Name, &sec.DataKeyID, &sec.Ciphertext, &sc, &su, &dk.ID, &dk.MasterID, &dk.Wrapped, &dk.Purpose, &dc)
	if errors.Is(err, sql.ErrNoRows) {
		return sec, dk, store.ErrSecretNotFound
	}
	if err != nil {
		return sec, dk, s.errorf("secret: get: %w", err)
	}
	sec.CreatedAt, sec.UpdatedAt, dk.CreatedAt = fromNanos(sc), fromNanos(su), fromNanos(dc)
	return sec, dk, nil
}

// ListSecrets lists secret names and dates by name.
func (s *Store) ListSecrets(ctx context.Context) ([]store.SecretInfo, error) {
	rows, err := s.read.Query(ctx, s.sec.listSecrets)
	out, err := collect(rows, err, func(r Row) (store.SecretInfo, error) {
		var i store.SecretInfo
		var c, u int64
		err := r.Scan(&i.Name, &c, &u)
		i.CreatedAt, i.UpdatedAt = fromNanos(c), fromNanos(u)
		return i, err
	})
	if err != nil {
		return nil, s.errorf("secret: list: %w", err)
	}
	return out, nil
}

// DeleteSecret deletes a secret and its data key.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	return s.inTx(ctx, false, func(tx Tx) error {
		var dk string
		err := tx.QueryRow(ctx, s.sec.deleteSecret, name).Scan(&dk)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrSecretNotFound
		}
		if err == nil {
			_, err = tx.Exec(ctx, s.sec.deleteKey, dk)
		}
		if err != nil {
			return s.errorf("secret: delete: %w", err)
		}
		return nil
	})
}

// PutDataKey stores a data key not tied to a secret.
func (s *Store) PutDataKey(ctx context.Context, dk store.DataKey) error {
	return s.inTx(ctx, false, func(tx Tx) error { return s.insertDataKey(ctx, tx, dk) })
}

// GetDataKey returns one data key.
func (s *Store) GetDataKey(ctx context.Context, id string) (store.DataKey, error) {
	dk, err := scanDataKey(s.read.QueryRow(ctx, s.sec.getKey, id))
	if errors.Is(err, sql.ErrNoRows) {
		return dk, store.ErrSecretNotFound
	}
	if err != nil {
		return dk, s.errorf("data key: get: %w", err)
	}
	return dk, nil
}

// RewrapDataKeys rewraps every data key in one write transaction. New data
// keys wait for its commit (SQLite's single writer; PostgreSQL's table
// lock, Dialect.LockDataKeys); readers keep reading the old wrapping until
// then, which the previous master key still opens.
func (s *Store) RewrapDataKeys(ctx context.Context, fn store.Rewrap) (int, error) {
	n := 0
	err := s.inTx(ctx, false, func(tx Tx) error {
		if s.d.LockDataKeys != "" {
			if _, err := tx.Exec(ctx, s.d.LockDataKeys); err != nil {
				return s.errorf("data key: rewrap: lock: %w", err)
			}
		}
		rows, err := tx.Query(ctx, s.sec.listKeys)
		keys, err := collect(rows, err, scanDataKey)
		if err != nil {
			return s.errorf("data key: rewrap: %w", err)
		}
		for _, dk := range keys {
			wrapped, mid, err := fn(dk)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, s.sec.rewrapKey, wrapped, mid, dk.ID); err != nil {
				return s.errorf("data key: rewrap: %w", err)
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
