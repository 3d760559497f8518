package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

func TestContentKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := ContentKey(config.Audit{}, dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("generate: %d bytes, %v", len(k1), err)
	}
	st, _ := os.Stat(filepath.Join(dir, KeyFileName))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	k2, err := ContentKey(config.Audit{}, dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("key not kept across calls (restarts)")
	}
	if k3, _ := ContentKey(config.Audit{}, t.TempDir()); bytes.Equal(k1, k3) {
		t.Fatal("two data directories share a key")
	}

	os.WriteFile(filepath.Join(dir, KeyFileName), []byte("short"), 0o600)
	if _, err := ContentKey(config.Audit{}, dir); err == nil || !strings.Contains(err.Error(), "has 5 bytes") {
		t.Fatalf("corrupt key file: %v", err)
	}

	t.Setenv("RAMPART_TEST_HMAC", "0123456789abcdef0123")
	k, err := ContentKey(config.Audit{HMACKeyEnv: "RAMPART_TEST_HMAC"}, dir)
	if err != nil || string(k) != "0123456789abcdef0123" {
		t.Fatalf("env key: %q %v", k, err)
	}
	t.Setenv("RAMPART_TEST_HMAC", "short")
	if _, err := ContentKey(config.Audit{HMACKeyEnv: "RAMPART_TEST_HMAC"}, dir); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("short env key: %v (and the error must not echo the key)", err)
	}
}
