package audit

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rampart-ai/rampart/config"
)

const (
	// KeyFileName is the generated content-HMAC key's file in the data
	// directory (used when audit.hmac_key_env is unset).
	KeyFileName = "audit-hmac.key"
	// generatedKeyBytes is the size of a generated key.
	generatedKeyBytes = 32
	// MinKeyBytes is the shortest key accepted from the environment.
	MinKeyBytes = 16
)

// ContentKey returns the key for the content HMAC in audit records (the
// gateway passes it to the engine): the value of the environment variable
// named by cfg.HMACKeyEnv, or else a random key generated once and kept in
// dataDir/KeyFileName (mode 0600), so that MACs stay comparable across
// restarts.
func ContentKey(cfg config.Audit, dataDir string) ([]byte, error) {
	if cfg.HMACKeyEnv != "" {
		v := os.Getenv(cfg.HMACKeyEnv)
		if len(v) < MinKeyBytes {
			return nil, fmt.Errorf("audit: hmac_key_env names %s, which must hold at least %d bytes (it holds %d)", cfg.HMACKeyEnv, MinKeyBytes, len(v))
		}
		return []byte(v), nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: content key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		key := make([]byte, generatedKeyBytes)
		_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
		_, werr := f.Write(key)
		cerr := f.Close()
		if err := errors.Join(werr, cerr); err != nil {
			_ = os.Remove(path)
			return nil, fmt.Errorf("audit: write content key: %w", err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("audit: content key: %w", err)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: content key: %w", err)
	}
	if len(key) != generatedKeyBytes {
		return nil, fmt.Errorf("audit: content key %s has %d bytes, want %d (delete it to generate a new one)", path, len(key), generatedKeyBytes)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("audit: content key: %w", err)
	}
	return key, nil
}
