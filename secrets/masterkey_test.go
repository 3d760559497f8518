package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var key32 = bytes.Repeat([]byte{0xab}, KeySize)

func TestParseMasterKey(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"hex", hex.EncodeToString(key32), true},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key32)), true},
		{"base64", base64.StdEncoding.EncodeToString(key32), true},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(key32), true},
		{"base64url", base64.URLEncoding.EncodeToString(key32), true},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(key32), true},
		{"surrounding newline", "\n " + base64.StdEncoding.EncodeToString(key32) + "\n", true},
		{"empty", "", false},
		{"spaces", "   ", false},
		{"short", base64.StdEncoding.EncodeToString(key32[:16]), false},
		{"long", base64.StdEncoding.EncodeToString(append(key32, 1)), false},
		{"hex 31 bytes", hex.EncodeToString(key32[:31]), false},
		{"passphrase", "correct horse battery staple!!", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseMasterKey(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("ParseMasterKey = %v, %v; want ok=%v", k, err, c.ok)
			}
			if err != nil {
				if s := strings.TrimSpace(c.in); len(s) > 4 && strings.Contains(err.Error(), s) {
					t.Fatalf("error reveals the input: %v", err)
				}
				return
			}
			if !bytes.Equal(k.key, key32) || k.ID() != fingerprint(key32) || !strings.HasPrefix(k.ID(), "mk_") {
				t.Fatalf("decoded %x id %s", k.key, k.ID())
			}
			for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
				if strings.Contains(strings.ToLower(s), "abab") {
					t.Fatalf("formatting reveals the key: %s", s)
				}
			}
		})
	}
	a, _ := ParseMasterKey(hex.EncodeToString(key32))
	b, _ := ParseMasterKey(hex.EncodeToString(bytes.Repeat([]byte{1}, KeySize)))
	if a.ID() == b.ID() {
		t.Fatal("different keys share a fingerprint")
	}
}

func FuzzParseMasterKey(f *testing.F) {
	for _, s := range []string{hex.EncodeToString(key32), base64.StdEncoding.EncodeToString(key32), "", "  ", "zz", "====", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseMasterKey(s)
		if err != nil {
			if k != nil {
				t.Fatal("key with error")
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error reveals the input: %v", err)
			}
			return
		}
		if len(k.key) != KeySize || !strings.HasPrefix(k.ID(), "mk_") {
			t.Fatalf("bad key %d bytes id %q", len(k.key), k.ID())
		}
	})
}

func TestSourceLoad(t *testing.T) {
	dir := t.TempDir()
	cur := base64.StdEncoding.EncodeToString(key32)
	prev := hex.EncodeToString(bytes.Repeat([]byte{0x01}, KeySize))
	curFile := filepath.Join(dir, "master.key")
	if err := os.WriteFile(curFile, []byte(cur+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.key")
	_ = os.WriteFile(big, bytes.Repeat([]byte("a"), maxKeyFileBytes+1), 0o600)
	env := map[string]string{"CUR": cur, "PREV": prev, "BAD": "not-a-key-at-all"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name     string
		src      Source
		wantErr  error // nil: ok; errAny: some error
		wantPrev bool
	}{
		{"env", Source{Env: "CUR"}, nil, false},
		{"env with previous", Source{Env: "CUR", PreviousEnv: "PREV"}, nil, true},
		{"file wins over env", Source{Env: "BAD", File: curFile}, nil, false},
		{"unset", Source{Env: "NONE"}, ErrNoMasterKey, false},
		{"previous only", Source{Env: "NONE", PreviousEnv: "PREV"}, errAny, false},
		{"bad env", Source{Env: "BAD"}, errAny, false},
		{"missing file", Source{File: filepath.Join(dir, "nope")}, errAny, false},
		{"oversized file", Source{File: big}, errAny, false},
		{"same key twice", Source{Env: "CUR", PreviousFile: curFile}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.src.Getenv = getenv
			kr, err := c.src.Load()
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatal(err)
			case c.wantErr == errAny && err == nil, c.wantErr != nil && c.wantErr != errAny && !errors.Is(err, c.wantErr):
				t.Fatalf("Load = %v, want %v", err, c.wantErr)
			}
			if err != nil {
				for _, v := range env {
					if strings.Contains(err.Error(), v) {
						t.Fatalf("error reveals a key: %v", err)
					}
				}
				return
			}
			if kr.CurrentID() != fingerprint(key32) || (kr.PreviousID() != "") != c.wantPrev {
				t.Fatalf("keyring current %s previous %q", kr.CurrentID(), kr.PreviousID())
			}
		})
	}
}

var errAny = errors.New("any error")

func TestSealBinding(t *testing.T) {
	ct, err := seal(key32, []byte("value"), adSecret+"a")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := open(key32, ct, adSecret+"a"); err != nil || string(p) != "value" {
		t.Fatalf("open = %q, %v", p, err)
	}
	other := bytes.Repeat([]byte{1}, KeySize)
	flipped := append([]byte(nil), ct...)
	flipped[len(flipped)-1] ^= 1
	for name, f := range map[string]func() ([]byte, error){
		"other name":  func() ([]byte, error) { return open(key32, ct, adSecret+"b") },
		"other kind":  func() ([]byte, error) { return open(key32, ct, adContent+"a") },
		"other key":   func() ([]byte, error) { return open(other, ct, adSecret+"a") },
		"tampered":    func() ([]byte, error) { return open(key32, flipped, adSecret+"a") },
		"truncated":   func() ([]byte, error) { return open(key32, ct[:10], adSecret+"a") },
		"empty input": func() ([]byte, error) { return open(key32, nil, adSecret+"a") },
	} {
		if _, err := f(); !errors.Is(err, errOpen) {
			t.Errorf("%s: open = %v, want errOpen", name, err)
		}
	}
	ct2, _ := seal(key32, []byte("value"), adSecret+"a")
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
}
