package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

func TestEraseIsAuditedWithoutTheID(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const victim = "alice.victim@example.org"
	now := time.Now()
	var recs []*store.AuditRecord
	for i, subj := range []string{victim, "bob", victim, "carol"} {
		recs = append(recs, &store.AuditRecord{RequestID: "req-" + string(rune('a'+i)), Time: now, Subject: subj, KeyID: "key_x"})
	}
	if err := db.WriteAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	key := bytes.Repeat([]byte{5}, 32)
	e, err := NewEraser(db, db, key, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Erase(context.Background(), victim, Actor{KeyID: "key_admin", Tenant: "*", ClientIP: "127.0.0.1"}, "DELETE /admin/subjects/{id}")
	if err != nil || res.AuditRecords != 2 {
		t.Fatalf("Erase = %+v, %v", res, err)
	}
	all, err := db.QueryAudit(context.Background(), store.AuditFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("%d records left, %v", len(all), err)
	}
	er := all[2]
	if er.Route != "DELETE /admin/subjects/{id}" || er.KeyID != "key_admin" || er.ContentMAC != SubjectMAC(key, victim) ||
		len(er.Decisions) != 1 || !strings.Contains(er.Decisions[0].Findings[0].Text, "audit_records=2") {
		t.Fatalf("erasure record = %+v", er)
	}
	js, _ := json.Marshal(all)
	if bytes.Contains(js, []byte(victim)) || bytes.Contains(logs.Bytes(), []byte(victim)) {
		t.Fatal("the erased id appears in the audit log or the logs")
	}
	if !bytes.Contains(logs.Bytes(), []byte(SubjectMAC(key, victim))) {
		t.Fatalf("log does not name the erasure by its MAC: %s", logs.String())
	}
	// Erasing one's own key leaves the actor fields empty rather than
	// naming it.
	if _, err := e.Erase(context.Background(), "key_admin", Actor{KeyID: "key_admin", Subject: "key_admin"}, ""); err != nil {
		t.Fatal(err)
	}
	all, _ = db.QueryAudit(context.Background(), store.AuditFilter{})
	js, _ = json.Marshal(all)
	if bytes.Contains(js, []byte("key_admin")) {
		t.Fatalf("self-erasure left the id: %s", js)
	}
	if last := all[len(all)-1]; last.Route != EraseRoute || last.ContentMAC != SubjectMAC(key, "key_admin") {
		t.Fatalf("self-erasure record = %+v", last)
	}
	db.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, sqlite.FileName))
	wal, _ := os.ReadFile(filepath.Join(dir, sqlite.FileName+"-wal"))
	if bytes.Contains(append(raw, wal...), []byte(victim)) {
		t.Fatal("the erased id is still in the database file")
	}
	if _, err := e.Erase(context.Background(), "", Actor{}, ""); err == nil {
		t.Fatal("empty id accepted")
	}
	if _, err := e.Erase(context.Background(), strings.Repeat("x", MaxSubjectIDBytes+1), Actor{}, ""); err == nil {
		t.Fatal("oversized id accepted")
	}
	if _, err := NewEraser(db, db, nil, nil); err == nil {
		t.Fatal("eraser without key accepted")
	}
}

// BenchmarkSealContent measures redacting and encrypting one captured
// record of about 2 KiB (done in the audit writer, off the request path).
func BenchmarkSealContent(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	mk, _ := secrets.ParseMasterKey(strings.Repeat("ab", secrets.KeySize))
	kr, _ := secrets.NewKeyring(mk, nil)
	cs, _ := secrets.NewManager(db, kr).ContentSealer()
	red, err := NewRedactor()
	if err != nil {
		b.Fatal(err)
	}
	p := &protection{redactor: red, cipher: cs}
	text := strings.Repeat("Please summarise the meeting notes; contact jane@example.org or +1 415 555 0100. ", 25)
	c := &store.AuditContent{Request: []store.ContentSegment{{Role: "user", Text: text}}, Response: text[:512]}
	b.SetBytes(int64(len(text) + 512))
	for b.Loop() {
		if _, err := sealContent(p, "req", c); err != nil {
			b.Fatal(err)
		}
	}
}
