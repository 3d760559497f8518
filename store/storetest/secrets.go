package storetest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
)

// SecretsStore is what the secrets suite needs.
type SecretsStore interface {
	store.SecretStore
	Close() error
}

// Dump returns the text of every row of every table of s (bytes columns
// as written; the suite also searches for their hex and base64 forms).
type Dump func(t *testing.T) []string

// RunSecrets runs the secret-store contract through package secrets
// (envelope encryption, master key rotation); open returns a fresh, empty
// store and a function that dumps its raw rows.
func RunSecrets(t *testing.T, open func(t *testing.T) (SecretsStore, Dump)) {
	t.Run("RoundTrip", func(t *testing.T) { s, d := open(t); testSecretsRoundTrip(t, s, d) })
	t.Run("Rotate", func(t *testing.T) { s, _ := open(t); testSecretsRotate(t, s) })
	t.Run("RotateAtomic", func(t *testing.T) { s, _ := open(t); testSecretsRotateAtomic(t, s) })
}

// MasterKeyForTest returns a fixed-looking but distinct master key per b.
func MasterKeyForTest(t *testing.T, b byte) *secrets.MasterKey {
	t.Helper()
	k, err := secrets.ParseMasterKey(hex.EncodeToString(bytes.Repeat([]byte{b}, secrets.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// KeyringForTest builds a keyring or fails the test.
func KeyringForTest(t *testing.T, cur, prev *secrets.MasterKey) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.NewKeyring(cur, prev)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Contains reports whether any row holds needle as text, hex or base64.
func Contains(rows []string, needle []byte) bool {
	forms := []string{string(needle), hex.EncodeToString(needle), strings.ToUpper(hex.EncodeToString(needle)),
		base64.StdEncoding.EncodeToString(needle), base64.RawStdEncoding.EncodeToString(needle)}
	for _, r := range rows {
		for _, f := range forms {
			if strings.Contains(r, f) {
				return true
			}
		}
	}
	return false
}

const plainCredential = "sk-live-PLAINTEXT-credential-0123456789"

func testSecretsRoundTrip(t *testing.T, s SecretsStore, dump Dump) {
	defer s.Close()
	mk := MasterKeyForTest(t, 0x11)
	m := secrets.NewManager(s, KeyringForTest(t, mk, nil))
	if _, err := m.Get(ctx, "openai"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	if err := m.Set(ctx, "openai", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "openai", []byte(plainCredential)); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "anthropic.prod", []byte("other-value")); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "openai")
	if err != nil || string(got) != plainCredential {
		t.Fatalf("Get = %q, %v", got, err)
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "anthropic.prod" || list[1].Name != "openai" ||
		list[1].CreatedAt.IsZero() || list[1].UpdatedAt.Before(list[1].CreatedAt) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	rows := dump(t)
	if !Contains(rows, []byte("anthropic.prod")) {
		t.Fatal("sanity: the dump does not show secret names; it is not reading the tables")
	}
	// Neither the value, nor the replaced value, nor the master key is
	// stored in any form.
	for _, needle := range [][]byte{[]byte(plainCredential), []byte("first"), []byte("other-value"), bytes.Repeat([]byte{0x11}, secrets.KeySize)} {
		if Contains(rows, needle) {
			t.Fatalf("the store holds %q in clear", needle)
		}
	}
	// The replaced value's data key is gone: one data key per secret.
	n, err := s.RewrapDataKeys(ctx, func(dk store.DataKey) ([]byte, string, error) { return dk.Wrapped, dk.MasterID, nil })
	if err != nil || n != 2 {
		t.Fatalf("data keys = %d, %v; want 2", n, err)
	}
	// Another master key cannot read it.
	other := secrets.NewManager(s, KeyringForTest(t, MasterKeyForTest(t, 0x22), nil))
	if _, err := other.Get(ctx, "openai"); err == nil {
		t.Fatal("a different master key decrypted the secret")
	}
	// A ciphertext and its wrapped data key copied to another row (another
	// name and data key id) do not decrypt: both are bound to their row.
	a, dka, _ := s.GetSecret(ctx, "openai")
	b, _, _ := s.GetSecret(ctx, "anthropic.prod")
	if err := s.PutSecret(ctx, store.DataKey{ID: "dk_swap", MasterID: dka.MasterID, Wrapped: dka.Wrapped, Purpose: dka.Purpose, CreatedAt: time.Now()},
		store.Secret{Name: "anthropic.prod", DataKeyID: "dk_swap", Ciphertext: a.Ciphertext, CreatedAt: b.CreatedAt, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "anthropic.prod"); err == nil {
		t.Fatal("a ciphertext moved to another name (and data key) decrypted")
	}
	if err := m.Delete(ctx, "openai"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "openai"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("second Delete = %v", err)
	}
	if _, err := m.Get(ctx, "openai"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
	// Without a master key nothing is stored.
	none := secrets.NewManager(s, nil)
	if err := none.Set(ctx, "x", []byte("v")); !errors.Is(err, secrets.ErrNoMasterKey) {
		t.Fatalf("Set without master key = %v", err)
	}
}

func testSecretsRotate(t *testing.T, s SecretsStore) {
	defer s.Close()
	oldK, newK := MasterKeyForTest(t, 0x01), MasterKeyForTest(t, 0x02)
	old := secrets.NewManager(s, KeyringForTest(t, oldK, nil))
	for _, n := range []string{"a", "b", "c"} {
		if err := old.Set(ctx, n, []byte("value-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := old.ContentSealer()
	if err != nil {
		t.Fatal(err)
	}
	kid, ct, err := cs.Seal(ctx, "req-1", []byte("captured"))
	if err != nil {
		t.Fatal(err)
	}
	// During the rotation: new current + old previous reads old keys, and
	// writes new ones under the new key.
	both := secrets.NewManager(s, KeyringForTest(t, newK, oldK))
	if v, err := both.Get(ctx, "b"); err != nil || string(v) != "value-b" {
		t.Fatalf("rotating keyring Get = %q, %v", v, err)
	}
	if err := both.Set(ctx, "d", []byte("value-d")); err != nil {
		t.Fatal(err)
	}
	n, err := both.RotateMaster(ctx)
	if err != nil || n != 5 {
		t.Fatalf("RotateMaster = %d, %v; want 5 data keys", n, err)
	}
	newOnly := secrets.NewManager(s, KeyringForTest(t, newK, nil))
	oldOnly := secrets.NewManager(s, KeyringForTest(t, oldK, nil))
	for _, name := range []string{"a", "b", "c", "d"} {
		if v, err := newOnly.Get(ctx, name); err != nil || string(v) != "value-"+name {
			t.Fatalf("new key Get(%s) = %q, %v", name, v, err)
		}
		if _, err := oldOnly.Get(ctx, name); err == nil {
			t.Fatalf("old master key still decrypts %s after rotation", name)
		}
	}
	ncs, _ := newOnly.ContentSealer()
	if p, err := ncs.Open(ctx, kid, "req-1", ct); err != nil || string(p) != "captured" {
		t.Fatalf("audit content after rotation = %q, %v", p, err)
	}
	ocs, _ := oldOnly.ContentSealer()
	if _, err := ocs.Open(ctx, kid, "req-1", ct); err == nil {
		t.Fatal("old master key still opens audit content after rotation")
	}
	if _, err := ncs.Open(ctx, kid, "req-2", ct); err == nil {
		t.Fatal("audit content opened under another request id")
	}
	// Rotating again is harmless.
	if n, err := newOnly.RotateMaster(ctx); err != nil || n != 5 {
		t.Fatalf("second RotateMaster = %d, %v", n, err)
	}
}

func testSecretsRotateAtomic(t *testing.T, s SecretsStore) {
	defer s.Close()
	oldK, newK := MasterKeyForTest(t, 0x03), MasterKeyForTest(t, 0x04)
	old := secrets.NewManager(s, KeyringForTest(t, oldK, nil))
	for _, n := range []string{"a", "b", "c"} {
		if err := old.Set(ctx, n, []byte("value-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	// A data key whose id sorts between the others and that cannot be
	// unwrapped (corrupt bytes): the rotation fails in the middle.
	var ids []string
	_, _ = s.RewrapDataKeys(ctx, func(dk store.DataKey) ([]byte, string, error) {
		ids = append(ids, dk.ID)
		return dk.Wrapped, dk.MasterID, nil
	})
	if len(ids) != 3 {
		t.Fatalf("%d data keys", len(ids))
	}
	bad := store.DataKey{ID: ids[1] + "0", MasterID: oldK.ID(), Wrapped: bytes.Repeat([]byte{7}, 60), Purpose: secrets.PurposeAudit, CreatedAt: time.Now()}
	if err := s.PutDataKey(ctx, bad); err != nil {
		t.Fatal(err)
	}
	both := secrets.NewManager(s, KeyringForTest(t, newK, oldK))
	if _, err := both.RotateMaster(ctx); err == nil || !strings.Contains(err.Error(), bad.ID) {
		t.Fatalf("RotateMaster with a corrupt key = %v, want an error naming %s", err, bad.ID)
	}
	// Nothing changed: the old key alone still reads everything.
	for _, n := range []string{"a", "b", "c"} {
		if v, err := old.Get(ctx, n); err != nil || string(v) != "value-"+n {
			t.Fatalf("after failed rotation, old key Get(%s) = %q, %v", n, v, err)
		}
	}
	_, _ = s.RewrapDataKeys(ctx, func(dk store.DataKey) ([]byte, string, error) {
		if dk.MasterID != oldK.ID() {
			t.Errorf("data key %s moved to %s in a failed rotation", dk.ID, dk.MasterID)
		}
		return dk.Wrapped, dk.MasterID, nil
	})
}
