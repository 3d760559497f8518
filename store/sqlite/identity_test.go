package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/sqlite"
	"github.com/rampart-ai/rampart/store/storetest"
)

func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestNoPlaintextKeyInFile creates keys through the identity service and
// then searches the raw database files (main file, WAL, shared memory) for
// any part of a key past its display prefix.
func TestNoPlaintextKeyInFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, sqlite.FileName)
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := identity.NewService(identity.Config{}, db, bytes.Repeat([]byte("p"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTenant(ctx, identity.Tenant{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < 20; i++ {
		k, _, err := svc.CreateKey(ctx, identity.KeySpec{Name: "k", Tenant: "acme", Role: identity.RoleUser})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	k, _, err := svc.RotateKey(ctx, mustFirstID(t, db), 0)
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, k)
	raw := readAll(t, path, path+"-wal", path+"-shm") // while open: WAL holds recent pages
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw = append(raw, readAll(t, path)...)
	if len(raw) == 0 {
		t.Fatal("read nothing")
	}
	for _, k := range keys {
		secret := k[len(identity.DisplayPrefix(k)):] // the part never stored
		for i := 0; i+12 <= len(secret); i += 4 {
			if bytes.Contains(raw, []byte(secret[i:i+12])) {
				t.Fatalf("database file contains part of a plaintext key (%s)", identity.MaskKey(k))
			}
		}
		if !bytes.Contains(raw, []byte(identity.DisplayPrefix(k))) {
			t.Fatalf("display prefix not stored (the search would not find stored text)")
		}
	}
}

func mustFirstID(t *testing.T, db *sqlite.DB) string {
	ks, err := db.ListKeys(context.Background(), "acme")
	if err != nil || len(ks) == 0 {
		t.Fatal(err)
	}
	return ks[0].ID
}

func readAll(t *testing.T, paths ...string) []byte {
	var out []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil && !strings.Contains(err.Error(), "no such file") {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}
