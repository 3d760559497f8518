package secrets

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/store/sqlite"
)

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	kr, err := NewKeyring(&MasterKey{id: fingerprint(key32), key: key32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSetValidation(t *testing.T) {
	m := NewManager(openStore(t), testKeyring(t))
	ctx := context.Background()
	cases := []struct {
		name  string
		value []byte
		ok    bool
	}{
		{"openai", []byte("v"), true},
		{"a.b-c_d9", []byte("v"), true},
		{strings.Repeat("n", 128), []byte("v"), true},
		{strings.Repeat("n", 129), []byte("v"), false},
		{"", []byte("v"), false},
		{".hidden", []byte("v"), false},
		{"has space", []byte("v"), false},
		{"slash/name", []byte("v"), false},
		{"ok", nil, false},
		{"ok", make([]byte, MaxValueBytes+1), false},
		{"ok", make([]byte, MaxValueBytes), true},
	}
	for _, c := range cases {
		err := m.Set(ctx, c.name, c.value)
		if (err == nil) != c.ok {
			t.Errorf("Set(%q, %d bytes) = %v, want ok=%v", c.name, len(c.value), err, c.ok)
		}
	}
	if _, err := m.Get(ctx, "bad name"); err == nil {
		t.Fatal("Get with an invalid name accepted")
	}
	none := NewManager(openStore(t), nil)
	if _, err := none.Get(ctx, "openai"); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("Get without key = %v", err)
	}
	if _, err := none.RotateMaster(ctx); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("RotateMaster without key = %v", err)
	}
	if _, err := none.ContentSealer(); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("ContentSealer without key = %v", err)
	}
}

func TestContentSealerKeyPerDay(t *testing.T) {
	db := openStore(t)
	m := NewManager(db, testKeyring(t))
	day := time.Date(2026, 5, 1, 23, 59, 0, 0, time.UTC)
	m.now = func() time.Time { return day }
	cs, err := m.ContentSealer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k1, c1, err := cs.Seal(ctx, "r1", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	k2, _, _ := cs.Seal(ctx, "r2", []byte("two"))
	day = day.Add(2 * time.Minute) // next UTC day
	k3, c3, _ := cs.Seal(ctx, "r3", []byte("three"))
	if k1 != k2 || k1 == k3 {
		t.Fatalf("keys %s %s %s: want one per day", k1, k2, k3)
	}
	// A fresh sealer (another process) opens both through the store.
	other, _ := NewManager(db, testKeyring(t)).ContentSealer()
	if p, err := other.Open(ctx, k1, "r1", c1); err != nil || string(p) != "one" {
		t.Fatalf("Open = %q, %v", p, err)
	}
	if p, err := other.Open(ctx, k3, "r3", c3); err != nil || string(p) != "three" {
		t.Fatalf("Open = %q, %v", p, err)
	}
	if _, err := other.Open(ctx, "dk_missing", "r1", c1); err == nil {
		t.Fatal("Open with an unknown key id succeeded")
	}
	// A secret's data key cannot be used to open audit content.
	if err := m.Set(ctx, "s", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s, _, _ := db.GetSecret(ctx, "s")
	if _, err := other.Open(ctx, s.DataKeyID, "r1", c1); err == nil || !strings.Contains(err.Error(), "not an audit") {
		t.Fatalf("Open with a secret's data key = %v", err)
	}
	if bytes.Contains(c1, []byte("one")) {
		t.Fatal("ciphertext holds the plaintext")
	}
}

// BenchmarkContentSeal measures sealing 4 KiB of captured content (the data
// key is cached after the first call, as in the audit writer).
func BenchmarkContentSeal(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	kr, _ := NewKeyring(&MasterKey{id: fingerprint(key32), key: key32}, nil)
	cs, _ := NewManager(db, kr).ContentSealer()
	p := bytes.Repeat([]byte("a"), 4096)
	ctx := context.Background()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, _, err := cs.Seal(ctx, "req", p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet measures reading one stored secret (store read, unwrap,
// decrypt), as the gateway does per upstream at start and reload.
func BenchmarkGet(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	kr, _ := NewKeyring(&MasterKey{id: fingerprint(key32), key: key32}, nil)
	m := NewManager(db, kr)
	ctx := context.Background()
	if err := m.Set(ctx, "s", []byte("sk-value")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Get(ctx, "s"); err != nil {
			b.Fatal(err)
		}
	}
}
