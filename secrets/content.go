package secrets

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// maxCachedContentKeys bounds the unwrapped audit data keys an opener keeps.
const maxCachedContentKeys = 64

// ContentSealer encrypts captured audit content. It uses one data key per
// UTC day and process (created on first use, stored wrapped), so the store
// holds few keys while no key encrypts an unbounded amount of data. Each
// ciphertext is bound to its record's request id. Safe for concurrent use.
type ContentSealer struct {
	m *Manager

	mu     sync.Mutex
	curDay string
	curID  string
	curKey []byte
	opened map[string][]byte // data key id -> unwrapped key (bounded)
}

// ContentSealer returns a sealer over the manager's store and keyring.
// Without a master key it returns ErrNoMasterKey.
func (m *Manager) ContentSealer() (*ContentSealer, error) {
	if m.kr == nil {
		return nil, ErrNoMasterKey
	}
	return &ContentSealer{m: m, opened: map[string][]byte{}}, nil
}

// Seal encrypts plaintext bound to requestID; it returns the id of the
// data key used and the ciphertext.
func (c *ContentSealer) Seal(ctx context.Context, requestID string, plaintext []byte) (string, []byte, error) {
	id, key, err := c.current(ctx)
	if err != nil {
		return "", nil, err
	}
	ct, err := seal(key, plaintext, adContent+requestID)
	return id, ct, err
}

func (c *ContentSealer) current(ctx context.Context) (string, []byte, error) {
	now := c.m.now().UTC()
	day := now.Format(time.DateOnly)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.curDay == day && c.curKey != nil {
		return c.curID, c.curKey, nil
	}
	key, dk, err := c.m.kr.newDataKey(PurposeAudit, now)
	if err != nil {
		return "", nil, err
	}
	if err := c.m.st.PutDataKey(ctx, dk); err != nil {
		return "", nil, fmt.Errorf("secrets: store audit data key: %w", err)
	}
	c.curDay, c.curID, c.curKey = day, dk.ID, key
	c.remember(dk.ID, key)
	return dk.ID, key, nil
}

// remember caches an unwrapped key; the cache is emptied when full.
func (c *ContentSealer) remember(id string, key []byte) {
	if len(c.opened) >= maxCachedContentKeys {
		clear(c.opened)
	}
	c.opened[id] = key
}

// Open decrypts what Seal produced for requestID under data key keyID.
func (c *ContentSealer) Open(ctx context.Context, keyID, requestID string, ciphertext []byte) ([]byte, error) {
	c.mu.Lock()
	key, ok := c.opened[keyID]
	c.mu.Unlock()
	if !ok {
		dk, err := c.m.st.GetDataKey(ctx, keyID)
		if err != nil {
			return nil, fmt.Errorf("secrets: audit data key %s: %w", keyID, err)
		}
		if dk.Purpose != PurposeAudit {
			return nil, fmt.Errorf("secrets: data key %s is not an audit content key", keyID)
		}
		if key, err = c.m.kr.unwrap(dk); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.remember(keyID, key)
		c.mu.Unlock()
	}
	return open(key, ciphertext, adContent+requestID)
}

var _ interface {
	Seal(context.Context, string, []byte) (string, []byte, error)
	Open(context.Context, string, string, []byte) ([]byte, error)
} = (*ContentSealer)(nil)
