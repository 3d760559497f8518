package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

func runCLIIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := Main(args, strings.NewReader(stdin), &out, &errb)
	return rc, out.String(), errb.String()
}

// newDataDir creates a data directory with an empty rampart database.
func newDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dir
}

func diskBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		all = append(all, b...)
	}
	return all
}

func TestSecretsCommands(t *testing.T) {
	dir := newDataDir(t)
	const value = "sk-cli-SECRET-value-0123456789abcdef"
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := hex.EncodeToString(bytes.Repeat([]byte{2}, 32))
	t.Setenv(config.DefaultMasterKeyEnv, "")
	t.Setenv(config.DefaultPreviousMasterKeyEnv, "")
	var outputs strings.Builder
	run := func(stdin string, args ...string) (int, string, string) {
		rc, out, e := runCLIIn(t, stdin, args...)
		outputs.WriteString(out + e)
		return rc, out, e
	}
	if rc, _, e := run(value, "secrets", "set", "openai", "--data", dir); rc != 1 || !strings.Contains(e, "no master key") {
		t.Fatalf("set without master key: %d %s", rc, e)
	}
	t.Setenv(config.DefaultMasterKeyEnv, oldKey)
	if rc, out, e := run(value+"\n", "secrets", "set", "openai", "--data", dir); rc != 0 || !strings.Contains(out, `"openai" stored`) {
		t.Fatalf("set: %d %s %s", rc, out, e)
	}
	if rc, _, e := run("", "secrets", "set", "empty", "--data", dir); rc != 1 || !strings.Contains(e, "empty value") {
		t.Fatalf("set empty: %d %s", rc, e)
	}
	if rc, _, e := run("v", "secrets", "set", "bad name", "--data", dir); rc != 1 || !strings.Contains(e, "invalid name") {
		t.Fatalf("set bad name: %d %s", rc, e)
	}
	if rc, _, _ := run("v", "secrets", "set", "--data", dir); rc != 2 {
		t.Fatalf("set without NAME: %d", rc)
	}
	rc, out, _ := run("", "secrets", "list", "--data", dir)
	if rc != 0 || !strings.Contains(out, "openai") || !strings.Contains(out, "UPDATED") {
		t.Fatalf("list: %d %s", rc, out)
	}
	// The stored value trimmed the newline and reads back.
	checkValue := func(masterEnv string) (string, error) {
		db, err := sqlite.Open(sqlite.PathIn(dir))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		mk, err := secrets.ParseMasterKey(masterEnv)
		if err != nil {
			t.Fatal(err)
		}
		kr, _ := secrets.NewKeyring(mk, nil)
		v, err := secrets.NewManager(db, kr).Get(context.Background(), "openai")
		return string(v), err
	}
	if v, err := checkValue(oldKey); err != nil || v != value {
		t.Fatalf("stored value = %q, %v", v, err)
	}
	// Rotation: new key current, old key previous.
	t.Setenv(config.DefaultMasterKeyEnv, newKey)
	if rc, _, e := run("", "secrets", "rotate-master", "--data", dir); rc != 1 || !strings.Contains(e, "nothing was changed") {
		t.Fatalf("rotate without the previous key: %d %s", rc, e)
	}
	t.Setenv(config.DefaultPreviousMasterKeyEnv, oldKey)
	if rc, out, e := run("", "secrets", "rotate-master", "--data", dir); rc != 0 || !strings.Contains(out, "re-wrapped 1 data keys") {
		t.Fatalf("rotate: %d %s %s", rc, out, e)
	}
	if v, err := checkValue(newKey); err != nil || v != value {
		t.Fatalf("after rotation, new key reads %q, %v", v, err)
	}
	if _, err := checkValue(oldKey); err == nil {
		t.Fatal("after rotation the old key alone still decrypts")
	}
	for _, needle := range []string{value, oldKey, newKey} {
		if strings.Contains(outputs.String(), needle) || bytes.Contains(diskBytes(t, dir), []byte(needle)) {
			t.Fatalf("%.10q... appears in the output or the data directory", needle)
		}
	}
	if rc, out, _ := run("", "secrets", "delete", "openai", "--data", dir); rc != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %d %s", rc, out)
	}
	if rc, _, e := run("", "secrets", "delete", "openai", "--data", dir); rc != 1 || !strings.Contains(e, "no secret named") {
		t.Fatalf("second delete: %d %s", rc, e)
	}
	if rc, _, e := run("", "secrets", "list", "--data", filepath.Join(dir, "nope")); rc != 1 || !strings.Contains(e, "no rampart database") {
		t.Fatalf("list in an empty dir: %d %s", rc, e)
	}
}

func TestAuditEraseAndSealedContent(t *testing.T) {
	dir := newDataDir(t)
	t.Setenv(config.DefaultPreviousMasterKeyEnv, "")
	master := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	db, err := sqlite.Open(sqlite.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := secrets.ParseMasterKey(master)
	kr, _ := secrets.NewKeyring(mk, nil)
	sealer, _ := secrets.NewManager(db, kr).ContentSealer()
	kid, ct, err := sealer.Seal(context.Background(), "req-sealed", []byte(`{"response":"the sealed answer"}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.WriteAudit(context.Background(), []*store.AuditRecord{
		{RequestID: "req-sealed", Time: now, Subject: "bob",
			Content: &store.AuditContent{Sealed: &store.SealedContent{KeyID: kid, Data: ct}}},
		{RequestID: "req-v1", Time: now, Subject: "victim-42"},
		{RequestID: "req-v2", Time: now, KeyID: "victim-42"},
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	rc, out, e := runCLIIn(t, "", "audit", "erase", "victim-42", "--data", dir)
	if rc != 0 || !strings.Contains(out, "erased: 2 audit records") {
		t.Fatalf("audit erase: %d %s %s", rc, out, e)
	}
	if strings.Contains(out, "victim-42") || bytes.Contains(diskBytes(t, dir), []byte("victim-42")) {
		t.Fatal("the erased id remains in the output or the data directory")
	}
	t.Setenv(config.DefaultMasterKeyEnv, "")
	rc, out, e = runCLIIn(t, "", "audit", "tail", "--data", dir, "--n", "10")
	if rc != 0 || !strings.Contains(e, "encrypted") || strings.Contains(out, "the sealed answer") || !strings.Contains(out, `"sealed"`) {
		t.Fatalf("tail without key: %d\n%s\n%s", rc, out, e)
	}
	t.Setenv(config.DefaultMasterKeyEnv, master)
	rc, out, e = runCLIIn(t, "", "audit", "export", "--since", "1h", "--data", dir)
	if rc != 0 || !strings.Contains(out, "the sealed answer") || strings.Contains(out, `"sealed"`) || e != "" {
		t.Fatalf("export with key: %d\n%s\n%s", rc, out, e)
	}
	if !strings.Contains(out, `"route":"cli: rampart audit erase"`) {
		t.Fatalf("the erasure is not audited: %s", out)
	}
}
