package identity_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/identity"
)

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		k, err := identity.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if !identity.LooksLikeKey(k) || len(k) != 46 || !strings.HasPrefix(k, "rk_") {
			t.Fatalf("bad key shape %q", identity.MaskKey(k))
		}
		if seen[k] {
			t.Fatal("duplicate key")
		}
		seen[k] = true
	}
}

func TestLooksLikeKeyAndMask(t *testing.T) {
	k, _ := identity.NewKey()
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{k, true}, {"rk_short", false}, {"sk_" + k[3:], false}, {k[:45] + "-", false}, {k + "A", false}, {"", false},
	} {
		if got := identity.LooksLikeKey(tc.in); got != tc.want {
			t.Errorf("LooksLikeKey(%q) = %v", tc.in, got)
		}
	}
	m := identity.MaskKey(k)
	if strings.Contains(m, k[9:]) || !strings.HasPrefix(m, k[:9]) {
		t.Fatalf("MaskKey = %q", m)
	}
	if identity.MaskKey("rk_ab") != "rk_…" || identity.MaskKey("xyz") != "…" {
		t.Fatal("short masks reveal too much")
	}
}

func TestHasherDiffersByPepper(t *testing.T) {
	h1, _ := identity.NewHasher([]byte("0123456789abcdef0123"))
	h2, _ := identity.NewHasher([]byte("0123456789abcdef0124"))
	if string(h1.Hash("rk_x")) == string(h2.Hash("rk_x")) || len(h1.Hash("rk_x")) != 32 {
		t.Fatal("pepper not applied")
	}
	if a, b := h1.Hash("rk_x"), h1.Hash("rk_x"); string(a) != string(b) {
		t.Fatal("hash not deterministic")
	}
	if _, err := identity.NewHasher([]byte("short")); err == nil {
		t.Fatal("short pepper accepted")
	}
}

func TestLoadPepperFile(t *testing.T) {
	t.Setenv(identity.PepperEnv, "")
	dir := filepath.Join(t.TempDir(), "data")
	p1, err := identity.LoadPepper(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, identity.PepperFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("pepper file mode %v, want 0600", st.Mode().Perm())
	}
	p2, err := identity.LoadPepper(dir)
	if err != nil || string(p1) != string(p2) || len(p1) != 64 {
		t.Fatalf("pepper not stable: %v", err)
	}
	t.Setenv(identity.PepperEnv, "an-env-pepper-of-enough-length")
	p3, err := identity.LoadPepper(dir)
	if err != nil || string(p3) != "an-env-pepper-of-enough-length" {
		t.Fatalf("env pepper ignored: %v", err)
	}
	t.Setenv(identity.PepperEnv, "short")
	if _, err := identity.LoadPepper(dir); err == nil {
		t.Fatal("short env pepper accepted")
	}
}

func TestParseDuration(t *testing.T) {
	for in, ok := range map[string]bool{"30d": true, "24h": true, "0s": true, "-1h": false, "x": false, "-3d": false, "99999d": false, "1.5d": false} {
		if _, err := identity.ParseDuration(in); (err == nil) != ok {
			t.Errorf("ParseDuration(%q) err = %v", in, err)
		}
	}
}
