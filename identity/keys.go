package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// KeyPrefix starts every rampart API key.
const KeyPrefix = "rk_"

// keyBodyLen is the base62 length of 256 random bits (62^43 > 2^256).
const keyBodyLen = 43

// displayLen is how many characters of a key (prefix included) are kept
// for display: "rk_" + 6 characters.
const displayLen = len(KeyPrefix) + 6

// PepperEnv is the environment variable that holds the key pepper.
const PepperEnv = "RAMPART_KEY_PEPPER"

// PepperFile is the file in the data directory that holds a generated pepper.
const PepperFile = "key_pepper"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewKey returns a fresh API key: "rk_" + 43 base62 characters encoding
// 256 bits from crypto/rand.
func NewKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("identity: reading random bytes: %w", err)
	}
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, keyBodyLen)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := keyBodyLen - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return KeyPrefix + string(out), nil
}

// LooksLikeKey reports whether s has the shape of a rampart key. It does
// not say the key exists.
func LooksLikeKey(s string) bool {
	if len(s) != len(KeyPrefix)+keyBodyLen || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// MaskKey returns the display form of a key or token for logs: its first
// characters followed by "…". It never returns the whole secret.
func MaskKey(s string) string {
	if len(s) <= displayLen {
		if strings.HasPrefix(s, KeyPrefix) {
			return KeyPrefix + "…"
		}
		return "…"
	}
	return s[:displayLen] + "…"
}

// DisplayPrefix is the part of a key stored for display.
func DisplayPrefix(key string) string {
	if len(key) < displayLen {
		return key
	}
	return key[:displayLen]
}

// Hasher computes the stored form of a key: HMAC-SHA256(pepper, key).
// It is safe for concurrent use.
type Hasher struct {
	pool sync.Pool
}

// NewHasher returns a Hasher for pepper (at least 16 bytes).
func NewHasher(pepper []byte) (*Hasher, error) {
	if len(pepper) < 16 {
		return nil, errors.New("identity: key pepper must be at least 16 bytes")
	}
	p := append([]byte(nil), pepper...)
	h := &Hasher{}
	h.pool.New = func() any { return hmac.New(sha256.New, p) }
	return h, nil
}

// Hash returns HMAC-SHA256(pepper, key).
func (h *Hasher) Hash(key string) []byte {
	m := h.pool.Get().(interface {
		Reset()
		Write([]byte) (int, error)
		Sum([]byte) []byte
	})
	m.Reset()
	_, _ = m.Write([]byte(key))
	sum := m.Sum(make([]byte, 0, sha256.Size))
	h.pool.Put(m)
	return sum
}

// LoadPepper returns the key pepper: from RAMPART_KEY_PEPPER when set
// (at least 16 bytes), else from dataDir/key_pepper, which is created with
// 32 random bytes (hex) and mode 0600 on first use. Changing the pepper
// invalidates every stored key.
func LoadPepper(dataDir string) ([]byte, error) {
	if v := os.Getenv(PepperEnv); v != "" {
		if len(v) < 16 {
			return nil, fmt.Errorf("identity: %s must be at least 16 bytes", PepperEnv)
		}
		return []byte(v), nil
	}
	if dataDir == "" {
		return nil, fmt.Errorf("identity: no data directory for the key pepper and %s unset", PepperEnv)
	}
	path := filepath.Join(dataDir, PepperFile)
	if b, err := os.ReadFile(path); err == nil {
		p := strings.TrimSpace(string(b))
		if len(p) < 32 {
			return nil, fmt.Errorf("identity: %s is too short (corrupt?)", path)
		}
		return []byte(p), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("identity: reading key pepper: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: creating data directory: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("identity: reading random bytes: %w", err)
	}
	p := hex.EncodeToString(b[:])
	// Write a temporary file, then link it into place: the link fails if
	// another process won the race, and nobody ever reads a partial file.
	f, err := os.CreateTemp(dataDir, ".key_pepper-*")
	if err != nil {
		return nil, fmt.Errorf("identity: creating key pepper: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("identity: creating key pepper: %w", err)
	}
	if _, err := f.WriteString(p + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("identity: writing key pepper: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("identity: writing key pepper: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("identity: writing key pepper: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first
			return LoadPepper(dataDir)
		}
		return nil, fmt.Errorf("identity: creating key pepper: %w", err)
	}
	return []byte(p), nil
}
