package store

import (
	"context"
	"errors"
	"time"
)

// ErrSecretNotFound is returned for a secret or data key that does not exist.
var ErrSecretNotFound = errors.New("store: secret not found")

// DataKey is a 256-bit data key as the store keeps it: wrapped (encrypted)
// under a master key, never in clear. Package secrets creates and unwraps
// them; the store only moves bytes.
type DataKey struct {
	// ID is random and unique ("dk_" + hex).
	ID string
	// MasterID is the fingerprint of the master key that wrapped it, so a
	// replica holding the current and the previous master key knows which
	// one unwraps it.
	MasterID string
	// Wrapped is nonce || AES-256-GCM(master, data key).
	Wrapped []byte
	// Purpose is "secret" (one key per stored secret) or "audit" (shared
	// by the captured audit content of one day and process).
	Purpose   string
	CreatedAt time.Time
}

// Secret is one stored secret: its value encrypted under its data key.
type Secret struct {
	Name      string
	DataKeyID string
	// Ciphertext is nonce || AES-256-GCM(data key, value), with the name
	// as associated data.
	Ciphertext []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SecretInfo is what listing secrets shows: never the value.
type SecretInfo struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Rewrap re-encrypts one wrapped data key; it returns the new wrapped bytes
// and the new master key id.
type Rewrap func(k DataKey) (wrapped []byte, masterID string, err error)

// SecretStore persists encrypted secrets and wrapped data keys.
// Implementations are safe for concurrent use.
type SecretStore interface {
	// PutSecret stores s with its new data key dk in one transaction,
	// replacing a secret of the same name (whose old data key is deleted).
	PutSecret(ctx context.Context, dk DataKey, s Secret) error
	// GetSecret returns the secret and its data key (ErrSecretNotFound).
	GetSecret(ctx context.Context, name string) (Secret, DataKey, error)
	// ListSecrets lists every secret's name and dates, by name.
	ListSecrets(ctx context.Context) ([]SecretInfo, error)
	// DeleteSecret deletes a secret and its data key (ErrSecretNotFound).
	DeleteSecret(ctx context.Context, name string) error
	// PutDataKey stores a data key not tied to a secret (audit content).
	PutDataKey(ctx context.Context, dk DataKey) error
	// GetDataKey returns one data key (ErrSecretNotFound).
	GetDataKey(ctx context.Context, id string) (DataKey, error)
	// RewrapDataKeys calls fn for every data key and stores what it
	// returns, all in one transaction: if fn or the store fails for any
	// key, nothing changes. It reports how many keys were rewrapped.
	RewrapDataKeys(ctx context.Context, fn Rewrap) (int, error)
}
