package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// fakeStore records batches; gate, when set, blocks each write until it
// receives; fail makes the first n writes fail.
type fakeStore struct {
	mu      sync.Mutex
	batches [][]*Record
	entered chan struct{}
	gate    chan struct{}
	fail    int
	writes  int
}

func (f *fakeStore) WriteAudit(ctx context.Context, recs []*Record) error {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.fail > 0 {
		f.fail--
		return errors.New("disk on fire")
	}
	f.batches = append(f.batches, append([]*Record(nil), recs...))
	return nil
}

func (f *fakeStore) QueryAudit(context.Context, store.AuditFilter) ([]*Record, error) {
	return nil, nil
}
func (f *fakeStore) PurgeAudit(context.Context, time.Time) (int64, error) { return 0, nil }
func (f *fakeStore) Close() error                                         { return nil }

func (f *fakeStore) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []int
	for _, b := range f.batches {
		s = append(s, len(b))
	}
	return s
}

func (f *fakeStore) all() []*Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Record
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

func auditCfg(mod func(*config.Audit)) config.Audit {
	c := config.Default().Audit
	if mod != nil {
		mod(&c)
	}
	return c
}

const secretPrompt = "my social security number is 078-05-1120 and the launch code is ZEBRA"

func newTx(id string) *engine.Tx {
	tx := &engine.Tx{
		ID: id, Start: time.Now().Add(-time.Millisecond), Route: "/v1/chat/completions", ClientIP: "10.0.0.1",
		Upstream: "openai", Status: 200, ContentMAC: "deadbeef", RequestBytes: 120, ResponseBytes: 300,
		Usage:    conv.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15},
		Identity: &engine.Identity{Tenant: "acme", KeyID: "key_1", Subject: "alice"},
		Request: &conv.Conversation{Model: "gpt-4o", Messages: []conv.Message{{
			Role: conv.RoleUser, Segments: []conv.Segment{conv.NewSegment(secretPrompt, conv.SourceUser, "messages.0.content")},
		}}},
		Outcomes: []engine.Outcome{{
			Layer: "pii", Phase: engine.PhaseRequest, Action: "flag", Rule: "us_ssn",
			Findings: []engine.Finding{{Layer: "pii", Rule: "us_ssn", Entity: "US_SSN", Start: 29, End: 40}},
		}},
	}
	tx.SetState(StateResponseText, "the answer is 42")
	return tx
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestRecordCopiesTx(t *testing.T) {
	fs := &fakeStore{}
	l, err := New(fs, auditCfg(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	tx := newTx("req-1")
	tx.Err = errors.New(strings.Repeat("e", 5000))
	l.Record(tx)
	// Mutating tx after Record must not change the record.
	tx.Outcomes[0].Findings[0].Rule = "changed"
	tx.Outcomes[0].Layer = "changed"
	tx.Identity.Tenant = "changed"
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := fs.all()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.RequestID != "req-1" || r.Model != "gpt-4o" || r.Tenant != "acme" || r.KeyID != "key_1" || r.Subject != "alice" ||
		r.ClientIP != "10.0.0.1" || r.Status != 200 || r.TotalTokens != 15 || r.ContentMAC != "deadbeef" ||
		r.RequestBytes != 120 || r.ResponseBytes != 300 || r.Latency <= 0 || r.Upstream != "openai" {
		t.Fatalf("record %+v", r)
	}
	if r.Decisions[0].Layer != "pii" || r.Decisions[0].Findings[0].Rule != "us_ssn" {
		t.Fatalf("record shares memory with tx: %+v", r.Decisions)
	}
	if len(r.Error) != maxErrorBytes {
		t.Fatalf("error not bounded: %d bytes", len(r.Error))
	}
	if r.Content != nil {
		t.Fatal("content captured without capture_content")
	}
}

func TestExactlyOncePerRecord(t *testing.T) {
	fs := &fakeStore{}
	l, err := New(fs, auditCfg(func(c *config.Audit) { c.BatchSize = 7; c.QueueSize = 100000 }), nil)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 250
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l.Record(newTx(fmt.Sprintf("%d-%d", g, i)))
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range fs.all() {
		seen[r.RequestID]++
	}
	if len(seen) != goroutines*each {
		t.Fatalf("%d distinct records, want %d", len(seen), goroutines*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("record %s written %d times", id, n)
		}
	}
	for _, s := range fs.sizes() {
		if s > 7 {
			t.Fatalf("batch of %d exceeds batch_size 7", s)
		}
	}
	if l.Dropped() != 0 {
		t.Fatalf("dropped %d", l.Dropped())
	}
}

func TestBatchBySize(t *testing.T) {
	fs := &fakeStore{}
	l, _ := New(fs, auditCfg(func(c *config.Audit) { c.BatchSize = 3; c.FlushInterval = time.Hour }), nil)
	for i := range 7 {
		l.Record(newTx(fmt.Sprint(i)))
	}
	waitFor(t, "two full batches", func() bool { return len(fs.sizes()) == 2 })
	if got := fs.sizes(); got[0] != 3 || got[1] != 3 {
		t.Fatalf("batches %v", got)
	}
	// The seventh waits (flush interval 1h) until Close writes it.
	time.Sleep(20 * time.Millisecond)
	if n := len(fs.sizes()); n != 2 {
		t.Fatalf("partial batch written early: %v", fs.sizes())
	}
	l.Close()
	if got := fs.sizes(); len(got) != 3 || got[2] != 1 {
		t.Fatalf("after Close: %v", got)
	}
}

func TestBatchByInterval(t *testing.T) {
	fs := &fakeStore{}
	l, _ := New(fs, auditCfg(func(c *config.Audit) { c.BatchSize = 1000; c.FlushInterval = 10 * time.Millisecond }), nil)
	defer l.Close()
	l.Record(newTx("a"))
	l.Record(newTx("b"))
	waitFor(t, "interval flush", func() bool { return len(fs.all()) == 2 })
	l.Record(newTx("c"))
	waitFor(t, "second interval flush", func() bool { return len(fs.all()) == 3 })
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	fs := &fakeStore{entered: make(chan struct{}, 10), gate: make(chan struct{})}
	l, _ := New(fs, auditCfg(func(c *config.Audit) { c.BatchSize = 1; c.QueueSize = 2 }), nil)
	l.Record(newTx("first"))
	<-fs.entered // the writer holds "first" and is blocked in the store
	done := make(chan struct{})
	go func() {
		for i := range 12 {
			l.Record(newTx(fmt.Sprint(i))) // 2 fit in the queue, 10 drop
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full queue")
	}
	if l.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", l.Dropped())
	}
	close(fs.gate)
	go func() {
		for range fs.entered {
		}
	}()
	l.Close()
	close(fs.entered)
	if n := len(fs.all()); n != 3 {
		t.Fatalf("written %d, want 3", n)
	}
	l.Record(newTx("late"))
	want := `
# HELP rampart_audit_dropped_total Audit records lost: the queue was full, the log closed, or the store failed and the local spool was off or full.
# TYPE rampart_audit_dropped_total counter
rampart_audit_dropped_total 11
# HELP rampart_audit_written_total Audit records written to the store.
# TYPE rampart_audit_written_total counter
rampart_audit_written_total 3
`
	if err := testutil.CollectAndCompare(l, strings.NewReader(want), "rampart_audit_dropped_total", "rampart_audit_written_total"); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRetriesThenCountsFailure(t *testing.T) {
	fs := &fakeStore{fail: 2}
	l, _ := New(fs, auditCfg(func(c *config.Audit) { c.BatchSize = 1 }), nil)
	l.backoff = time.Millisecond
	l.Record(newTx("retried"))
	if err := l.Close(); err != nil {
		t.Fatalf("two failures then success should succeed: %v", err)
	}
	if len(fs.all()) != 1 || fs.writes != 3 {
		t.Fatalf("records %d writes %d", len(fs.all()), fs.writes)
	}

	fs = &fakeStore{fail: 100}
	l, _ = New(fs, auditCfg(func(c *config.Audit) { c.BatchSize = 1 }), nil)
	l.backoff = time.Millisecond
	l.Record(newTx("lost"))
	if err := l.Close(); err == nil {
		t.Fatal("Close hid a lost record")
	}
	// Without a spool the lost record moves the alert's counter too.
	want := `
# HELP rampart_audit_dropped_total Audit records lost: the queue was full, the log closed, or the store failed and the local spool was off or full.
# TYPE rampart_audit_dropped_total counter
rampart_audit_dropped_total 1
# HELP rampart_audit_write_failures_total Audit records the store failed to write (then spooled, or lost and counted in rampart_audit_dropped_total).
# TYPE rampart_audit_write_failures_total counter
rampart_audit_write_failures_total 1
`
	if err := testutil.CollectAndCompare(l, strings.NewReader(want), "rampart_audit_write_failures_total", "rampart_audit_dropped_total"); err != nil {
		t.Fatal(err)
	}
}

func TestSyncWritesBeforeReturn(t *testing.T) {
	fs := &fakeStore{}
	l, _ := New(fs, auditCfg(func(c *config.Audit) { c.Sync = true }), nil)
	l.Record(newTx("now"))
	if len(fs.all()) != 1 {
		t.Fatal("sync record not written before Record returned")
	}
	l.Close()
	l.Record(newTx("after close"))
	if len(fs.all()) != 1 || l.Dropped() != 1 {
		t.Fatalf("record after Close: written %d dropped %d", len(fs.all()), l.Dropped())
	}
}

func TestDisabled(t *testing.T) {
	off := false
	l, err := New(nil, auditCfg(func(c *config.Audit) { c.Enabled = &off }), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Record(newTx("x"))
	if err := l.Close(); err != nil || l.Dropped() != 0 {
		t.Fatal(err)
	}
	if _, err := New(nil, auditCfg(nil), nil); err == nil {
		t.Fatal("enabled log without store accepted")
	}
}

// TestNoRawContentOnDisk writes through the real SQLite store and checks
// that neither the database nor its WAL holds the prompt or answer text:
// without capture, with capture_content but no master key (nothing is
// captured), and with capture (redacted, then encrypted).
func TestNoRawContentOnDisk(t *testing.T) {
	for _, mode := range []string{"off", "no-key", "capture"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			db, err := sqlite.Open(filepath.Join(dir, sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			l, _ := New(db, auditCfg(func(c *config.Audit) { c.CaptureContent = mode != "off" }), nil)
			var sealer *secrets.ContentSealer
			if mode == "capture" {
				kr, _ := secrets.NewKeyring(testMasterKey(t, 9), nil)
				sealer, _ = secrets.NewManager(db, kr).ContentSealer()
				if err := l.EnableContentCapture(testRedactor(t), sealer); err != nil {
					t.Fatal(err)
				}
			}
			if l.CaptureContent() != (mode == "capture") {
				t.Fatal("CaptureContent mismatch")
			}
			tx := newTx("r1")
			tx.Request.Messages[0].Segments = append(tx.Request.Messages[0].Segments,
				conv.NewSegment("key: "+testAPIKey, conv.SourceUser, "messages.0.content.1"))
			l.Record(tx)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			recs, err := db.QueryAudit(context.Background(), store.AuditFilter{})
			if err != nil || len(recs) != 1 {
				t.Fatalf("%d records, %v", len(recs), err)
			}
			db.Close()
			var disk []byte
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				disk = append(disk, b...)
			}
			if !bytes.Contains(disk, []byte("US_SSN")) {
				t.Fatal("sanity: finding entity not found on disk; the scan is not reading the data")
			}
			for _, raw := range []string{"078-05-1120", "launch code is ZEBRA", "the answer is 42", testAPIKey} {
				if bytes.Contains(disk, []byte(raw)) {
					t.Fatalf("%q stored in clear", raw)
				}
			}
			c := recs[0].Content
			if mode != "capture" {
				if c != nil {
					t.Fatalf("content stored in mode %s: %+v", mode, c)
				}
				return
			}
			if c == nil || c.Sealed == nil || c.Request != nil || c.Response != "" {
				t.Fatalf("capture mode did not store sealed content: %+v", c)
			}
			if err := OpenContent(context.Background(), nil, recs[0]); !errors.Is(err, ErrContentLocked) {
				t.Fatalf("OpenContent without key = %v", err)
			}
			db2, _ := sqlite.OpenReader(filepath.Join(dir, sqlite.FileName))
			defer db2.Close()
			kr, _ := secrets.NewKeyring(testMasterKey(t, 9), nil)
			opener, _ := secrets.NewManager(db2, kr).ContentSealer()
			if err := OpenContent(context.Background(), opener, recs[0]); err != nil {
				t.Fatal(err)
			}
			c = recs[0].Content
			if c.Sealed != nil || len(c.Request) != 2 || c.Request[0].Role != "user" || c.Response != "the answer is 42" ||
				!strings.Contains(c.Request[0].Text, "launch code is ZEBRA") || !strings.Contains(c.Request[0].Text, "security number is [") || !strings.Contains(c.Request[1].Text, "[OPENAI_API_KEY]") ||
				strings.Contains(c.Request[0].Text, "078-05-1120") || strings.Contains(c.Request[1].Text, testAPIKey) {
				t.Fatalf("opened content = %+v", c)
			}
		})
	}
}

const testAPIKey = "sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJ"

func testMasterKey(t *testing.T, b byte) *secrets.MasterKey {
	t.Helper()
	k, err := secrets.ParseMasterKey(strings.Repeat(fmt.Sprintf("%02x", b), secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	redactorOnce sync.Once
	redactor     *Redactor
	redactorErr  error
)

func testRedactor(t *testing.T) *Redactor {
	t.Helper()
	redactorOnce.Do(func() { redactor, redactorErr = NewRedactor() })
	if redactorErr != nil {
		t.Fatal(redactorErr)
	}
	return redactor
}

func TestCaptureBounded(t *testing.T) {
	tx := newTx("big")
	big := strings.Repeat("é", MaxCaptureBytes) // 2 bytes per rune
	tx.Request.Messages = append(tx.Request.Messages, conv.Message{Role: conv.RoleUser,
		Segments: []conv.Segment{conv.NewSegment(big, conv.SourceUser, "p"), conv.NewSegment("more", conv.SourceUser, "q")}})
	r := build(tx, true, time.Now())
	n := len(r.Content.Response)
	for _, s := range r.Content.Request {
		n += len(s.Text)
		if !utf8.ValidString(s.Text) {
			t.Fatal("truncation split a rune")
		}
	}
	if n > MaxCaptureBytes || !r.Content.Truncated {
		t.Fatalf("captured %d bytes, truncated=%v", n, r.Content.Truncated)
	}
}
