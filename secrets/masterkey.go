package secrets

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// KeySize is the size of master and data keys (AES-256).
const KeySize = 32

// maxKeyFileBytes bounds how much of a master key file is read.
const maxKeyFileBytes = 4096

// ErrNoMasterKey means no master key is configured: secrets cannot be
// stored or read, and audit content cannot be captured.
var ErrNoMasterKey = errors.New("secrets: no master key configured (set $RAMPART_MASTER_KEY or secrets.master_key_file; generate one with `openssl rand -base64 32`)")

// MasterKey is a 256-bit key-encryption key. Its String and GoString
// never show the key.
type MasterKey struct {
	id  string
	key []byte
}

// ParseMasterKey decodes a master key given as 64 hex digits or as base64
// (standard or URL alphabet, padded or not) of exactly 32 bytes. Leading
// and trailing white space is ignored. Errors never contain the input.
func ParseMasterKey(s string) (*MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secrets: master key is empty")
	}
	var key []byte
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			key = b
		}
	}
	if key == nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				key = b
				break
			}
		}
	}
	if key == nil {
		return nil, errors.New("secrets: master key is neither 64 hex digits nor base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: master key decodes to %d bytes, want %d", len(key), KeySize)
	}
	return &MasterKey{id: fingerprint(key), key: key}, nil
}

// fingerprint identifies a master key without revealing it: a keyed hash
// of a fixed label under the key, so it says nothing about the key to
// anyone without it.
func fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("rampart master key fingerprint v1"))
	return "mk_" + hex.EncodeToString(m.Sum(nil)[:8])
}

// ID is the key's fingerprint ("mk_" + 16 hex digits), stored next to the
// data keys it wraps.
func (k *MasterKey) ID() string { return k.id }

// String implements fmt.Stringer without revealing the key.
func (k *MasterKey) String() string { return "MasterKey(" + k.id + ")" }

// GoString implements fmt.GoStringer without revealing the key.
func (k *MasterKey) GoString() string { return k.String() }

// Source says where the master keys come from.
type Source struct {
	// Env names the variable with the current master key; File, when set,
	// is read instead.
	Env, File string
	// PreviousEnv and PreviousFile are the same for the previous master
	// key during a rotation (optional).
	PreviousEnv, PreviousFile string
	// Getenv looks up variables (default os.Getenv).
	Getenv func(string) string
}

// Load returns the keyring the source describes. With no current key it
// returns ErrNoMasterKey; only a previous key is another error (a keyring
// that could decrypt but never encrypt is a misconfiguration).
func (s Source) Load() (*Keyring, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cur, err := loadOne(s.Env, s.File, getenv)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	prev, err := loadOne(s.PreviousEnv, s.PreviousFile, getenv)
	if err != nil {
		return nil, fmt.Errorf("previous master key: %w", err)
	}
	if cur == nil {
		if prev != nil {
			return nil, errors.New("secrets: a previous master key is set without a current one (set the new key as the current master key)")
		}
		return nil, ErrNoMasterKey
	}
	return NewKeyring(cur, prev)
}

func loadOne(env, file string, getenv func(string) string) (*MasterKey, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
		if err != nil {
			return nil, fmt.Errorf("secrets: read %s: %w", file, err)
		}
		if len(b) > maxKeyFileBytes {
			return nil, fmt.Errorf("secrets: %s is larger than %d bytes; it should hold only the key", file, maxKeyFileBytes)
		}
		k, err := ParseMasterKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return k, nil
	}
	if env == "" {
		return nil, nil
	}
	v := getenv(env)
	if v == "" {
		return nil, nil
	}
	k, err := ParseMasterKey(v)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", env, err)
	}
	return k, nil
}

// Keyring holds the current master key and, during a rotation, the
// previous one. It is immutable and safe for concurrent use.
type Keyring struct {
	current, previous *MasterKey
}

// NewKeyring builds a keyring; previous may be nil.
func NewKeyring(current, previous *MasterKey) (*Keyring, error) {
	if current == nil {
		return nil, ErrNoMasterKey
	}
	if previous != nil && previous.id == current.id {
		previous = nil // the same key twice: nothing to rotate from
	}
	return &Keyring{current: current, previous: previous}, nil
}

// CurrentID is the fingerprint of the current master key.
func (k *Keyring) CurrentID() string { return k.current.id }

// PreviousID is the fingerprint of the previous master key, or "".
func (k *Keyring) PreviousID() string {
	if k.previous == nil {
		return ""
	}
	return k.previous.id
}

// byID returns the master key with this fingerprint.
func (k *Keyring) byID(id string) (*MasterKey, error) {
	switch {
	case id == k.current.id:
		return k.current, nil
	case k.previous != nil && id == k.previous.id:
		return k.previous, nil
	}
	return nil, fmt.Errorf("secrets: data key is wrapped by master key %s, which is neither the current (%s) nor the previous master key; configure it as secrets.previous_master_key", id, k.current.id)
}
