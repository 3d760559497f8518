package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/store"
)

// TestSpoolKeepsRecordsThroughAnOutage: records the store refuses go to the
// spool file, not lost; they reach the store once it is back; nothing is
// counted as dropped.
func TestSpoolKeepsRecordsThroughAnOutage(t *testing.T) {
	dir := t.TempDir()
	fs := &fakeStore{fail: 1 << 30}
	l, err := New(fs, auditCfg(func(c *config.Audit) {
		c.BatchSize, c.FlushInterval, c.SpoolReplay = 10, 5*time.Millisecond, 20*time.Millisecond
		c.WriteTimeout = 50 * time.Millisecond
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.backoff = time.Millisecond
	if err := l.EnableSpool(dir); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		l.Record(newTx(fmt.Sprint("r", i)))
	}
	waitFor(t, "spool", func() bool { return l.Spooled() == 50 })
	if len(fs.all()) != 0 || l.Dropped() != 0 {
		t.Fatalf("during the outage: %d written, %d dropped", len(fs.all()), l.Dropped())
	}
	// Admin actions written directly go to the spool too.
	if err := l.WriteAudit(context.Background(), []*Record{{RequestID: "admin-1", Time: time.Now()}}); err != nil {
		t.Fatalf("WriteAudit during the outage: %v", err)
	}
	fs.mu.Lock()
	fs.fail = 0 // the store is back
	fs.mu.Unlock()
	waitFor(t, "spool", func() bool { return len(fs.all()) == 51 && l.Spooled() == 0 })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 0 {
		t.Fatalf("dropped %d", l.Dropped())
	}
	if fi, err := os.Stat(filepath.Join(dir, SpoolFile)); err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("spool file after replay: %v %v", fi, err)
	}
}

// TestSpoolBoundedAndSurvivesRestart: a full spool drops (and counts) what
// does not fit; what is in it is replayed by the next process.
func TestSpoolBoundedAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := auditCfg(func(c *config.Audit) {
		c.BatchSize, c.FlushInterval, c.SpoolReplay = 1, time.Millisecond, time.Hour
		c.SpoolMaxBytes = 2048 // a handful of records
	})
	fs := &fakeStore{fail: 1 << 30}
	l, _ := New(fs, cfg, nil)
	l.backoff = time.Millisecond
	if err := l.EnableSpool(dir); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		l.Record(newTx(fmt.Sprint("r", i)))
	}
	waitFor(t, "spool", func() bool { return uint64(l.Spooled())+l.Dropped() == 40 })
	kept := l.Spooled()
	if kept == 0 || l.Dropped() == 0 {
		t.Fatalf("spooled %d, dropped %d", kept, l.Dropped())
	}
	if fi, _ := os.Stat(filepath.Join(dir, SpoolFile)); fi.Size() > 2048 {
		t.Fatalf("spool grew to %d bytes", fi.Size())
	}
	if err := l.Close(); err == nil {
		t.Fatal("Close hid lost records")
	}
	// Next start: the store works; the spooled records are written.
	fs2 := &fakeStore{}
	cfg.SpoolReplay = 10 * time.Millisecond
	l2, _ := New(fs2, cfg, nil)
	if err := l2.EnableSpool(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "spool", func() bool { return len(fs2.all()) == kept })
	l2.Close()
}

// spoolLog is a log over st with a spool that replays every replay, whose
// writes time out after writeTimeout, to which n records (request ids r0,
// r1, ...) were given.
func spoolLog(t *testing.T, st store.AuditStore, n int, replay, writeTimeout time.Duration) *Log {
	t.Helper()
	l, err := New(st, auditCfg(func(c *config.Audit) {
		c.BatchSize, c.FlushInterval, c.SpoolReplay = 10, 5*time.Millisecond, replay
		c.WriteTimeout = writeTimeout
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.backoff = time.Millisecond
	if err := l.EnableSpool(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		l.Record(newTx(fmt.Sprint("r", i)))
	}
	return l
}

// refusingStore refuses every batch that holds the record poison, for
// ever, as PostgreSQL refuses a value it cannot hold.
type refusingStore struct {
	fakeStore
	poison string
}

func (s *refusingStore) WriteAudit(ctx context.Context, recs []*Record) error {
	for _, r := range recs {
		if r.RequestID == s.poison {
			return fmt.Errorf("%w: invalid byte sequence for encoding UTF8: 0x00", store.ErrRecordRefused)
		}
	}
	return s.fakeStore.WriteAudit(ctx, recs)
}

// TestSpoolReplaySkipsARefusedRecord: a record the store refuses on its
// own (while it takes the others) held the spool's replay at its batch for
// ever before the fix, so the records batched with it and every record
// spooled later stayed out of the store. Now the others are written, and
// the refused one is dropped and counted.
func TestSpoolReplaySkipsARefusedRecord(t *testing.T) {
	fs := &refusingStore{poison: "r3"}
	l := spoolLog(t, fs, 25, 20*time.Millisecond, time.Second)
	waitFor(t, "every other record in the store", func() bool { return len(fs.all()) == 24 && l.Spooled() == 0 })
	_ = l.Close() // reports the dropped record
	if l.Dropped() != 1 {
		t.Fatalf("dropped %d, want the refused record counted", l.Dropped())
	}
}

// hangingStore answers no write before its deadline (a SIGSTOPped
// database).
type hangingStore struct {
	fakeStore
	calls atomic.Int64
}

func (s *hangingStore) WriteAudit(ctx context.Context, _ []*Record) error {
	s.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// TestSpoolReplayGivesUpOnAHungStore: a batch that runs into the write
// timeout is not tried again record by record (each try would wait as
// long, while the spool stays locked): one write per replay round.
func TestSpoolReplayGivesUpOnAHungStore(t *testing.T) {
	fs := &hangingStore{}
	l := spoolLog(t, fs, 3, time.Hour, 20*time.Millisecond)
	waitFor(t, "spooled", func() bool { return l.Spooled() == 3 })
	fs.calls.Store(0)
	l.replay()
	if n := fs.calls.Load(); n != 1 {
		t.Fatalf("%d writes in one replay round against a hung store, want 1", n)
	}
	if l.Spooled() != 3 || l.Dropped() != 0 {
		t.Fatalf("after the round: %d spooled, %d dropped", l.Spooled(), l.Dropped())
	}
}

// flappingStore fails every other write at once with an error that says
// nothing about the records (a connection reset, a failover).
type flappingStore struct {
	fakeStore
	n atomic.Int64
}

func (s *flappingStore) WriteAudit(ctx context.Context, recs []*Record) error {
	if s.n.Add(1)%2 == 0 {
		return errors.New("connection reset by peer")
	}
	return s.fakeStore.WriteAudit(ctx, recs)
}

// TestSpoolReplayKeepsRecordsOfAFlappingStore: a record whose single
// write fails for a reason other than its values stays in the spool
// (t98's review of 66d63fc: a store failing fast on and off dropped them).
func TestSpoolReplayKeepsRecordsOfAFlappingStore(t *testing.T) {
	fs := &flappingStore{}
	fs.fakeStore.fail = 1 << 30 // down first: everything goes to the spool
	l := spoolLog(t, fs, 25, 20*time.Millisecond, time.Second)
	waitFor(t, "spooled", func() bool { return l.Spooled() == 25 })
	fs.mu.Lock()
	fs.fail = 0
	fs.mu.Unlock()
	waitFor(t, "every record in the store", func() bool { return len(fs.all()) == 25 && l.Spooled() == 0 })
	if err := l.Close(); err != nil || l.Dropped() != 0 {
		t.Fatalf("dropped %d (%v)", l.Dropped(), err)
	}
}
