package secrets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// MaxValueBytes bounds one secret's value.
const MaxValueBytes = 64 << 10

// nameRE is what a secret's name looks like (config.SecretNameRE is the
// same rule for upstreams[].api_key_secret).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidName reports whether name can name a secret.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// ErrNotFound is returned for a secret that does not exist.
var ErrNotFound = store.ErrSecretNotFound

// Manager stores and reads named secrets. It is safe for concurrent use.
type Manager struct {
	st  store.SecretStore
	kr  *Keyring // nil: no master key
	now func() time.Time
}

// NewManager returns a manager over st. kr may be nil (no master key):
// List and Delete still work, Set, Get and RotateMaster return
// ErrNoMasterKey.
func NewManager(st store.SecretStore, kr *Keyring) *Manager {
	return &Manager{st: st, kr: kr, now: time.Now}
}

// Keyring is the manager's keyring (nil without a master key).
func (m *Manager) Keyring() *Keyring { return m.kr }

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("secrets: invalid name %q (letters, digits, '.', '_', '-'; at most 128; starts with a letter or digit)", name)
	}
	return nil
}

// Set stores value under name (replacing any previous value) encrypted
// under a new data key.
func (m *Manager) Set(ctx context.Context, name string, value []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if len(value) == 0 {
		return errors.New("secrets: empty value")
	}
	if len(value) > MaxValueBytes {
		return fmt.Errorf("secrets: value is larger than %d bytes", MaxValueBytes)
	}
	if m.kr == nil {
		return ErrNoMasterKey
	}
	now := m.now().UTC()
	key, dk, err := m.kr.newDataKey(PurposeSecret, now)
	if err != nil {
		return err
	}
	ct, err := seal(key, value, adSecret+name)
	clear(key)
	if err != nil {
		return err
	}
	return m.st.PutSecret(ctx, dk, store.Secret{Name: name, DataKeyID: dk.ID, Ciphertext: ct, CreatedAt: now, UpdatedAt: now})
}

// Get returns the value stored under name (ErrNotFound).
func (m *Manager) Get(ctx context.Context, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if m.kr == nil {
		return nil, ErrNoMasterKey
	}
	s, dk, err := m.st.GetSecret(ctx, name)
	if err != nil {
		return nil, err
	}
	key, err := m.kr.unwrap(dk)
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	defer clear(key)
	v, err := open(key, s.Ciphertext, adSecret+name)
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return v, nil
}

// List returns every secret's name and dates (never a value).
func (m *Manager) List(ctx context.Context) ([]store.SecretInfo, error) {
	return m.st.ListSecrets(ctx)
}

// Delete removes a secret and its data key (ErrNotFound).
func (m *Manager) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return m.st.DeleteSecret(ctx, name)
}

// RotateMaster re-wraps every data key (secrets' and audit content's)
// under the current master key in one store transaction, unwrapping each
// with the master key that wrapped it (current or previous). If any key
// cannot be unwrapped or stored, nothing changes and the error says which.
// It reports how many data keys were re-wrapped.
func (m *Manager) RotateMaster(ctx context.Context) (int, error) {
	if m.kr == nil {
		return 0, ErrNoMasterKey
	}
	return m.st.RewrapDataKeys(ctx, func(dk store.DataKey) ([]byte, string, error) {
		key, err := m.kr.unwrap(dk)
		if err != nil {
			return nil, "", err
		}
		defer clear(key)
		return m.kr.wrap(dk, key)
	})
}
