package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// SpoolFile is the spool's file name in the data directory.
const SpoolFile = "audit-spool.jsonl"

// spool is a bounded local file of records the store could not take (one
// JSON record per line). The log appends to it when a batch finally fails
// and a background loop writes its records to the store once the store
// answers again; records that find it full are dropped (counted).
type spool struct {
	path string
	max  int64

	mu    sync.Mutex
	size  int64
	count int
}

// EnableSpool makes records the store cannot take go to a bounded file at
// dir/audit-spool.jsonl (cfg.SpoolMaxBytes; off when -1) instead of being
// lost, and replays it to the store every cfg.SpoolReplay until Close.
// Records already in the file (from an earlier run) are replayed too. Call
// it once, before records are written.
func (l *Log) EnableSpool(dir string) error {
	if !l.enabled || l.cfg.SpoolMaxBytes < 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	sp := &spool{path: filepath.Join(dir, SpoolFile), max: l.cfg.SpoolMaxBytes}
	f, err := os.OpenFile(sp.path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	recs, size, err := readSpool(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	sp.size, sp.count = size, len(recs)
	l.spool = sp
	every := l.cfg.SpoolReplay
	if every <= 0 {
		every = 5 * time.Second
	}
	l.spoolStop = make(chan struct{})
	l.spoolDone = make(chan struct{})
	go l.replayLoop(every)
	return nil
}

func readSpool(f *os.File) ([]*Record, int64, error) {
	var recs []*Record
	var size int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		size += int64(len(line)) + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			continue // a torn last line after a crash: skip it
		}
		recs = append(recs, &r)
	}
	return recs, size, sc.Err()
}

// toSpool appends recs; it returns how many did not fit.
func (l *Log) toSpool(recs []*Record) int {
	sp := l.spool
	if sp == nil {
		return len(recs)
	}
	var buf bytes.Buffer
	kept := 0
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil || sp.size+int64(buf.Len()+len(b)+1) > sp.max {
			continue
		}
		buf.Write(b)
		buf.WriteByte('\n')
		kept++
	}
	if kept == 0 {
		return len(recs)
	}
	f, err := os.OpenFile(sp.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		l.logger.Error("audit spool: open", "error", err.Error())
		return len(recs)
	}
	_, werr := f.Write(buf.Bytes())
	cerr := f.Close()
	if werr != nil || cerr != nil {
		l.logger.Error("audit spool: write", "error", errors.Join(werr, cerr).Error())
		return len(recs)
	}
	sp.size += int64(buf.Len())
	sp.count += kept
	l.spooled.Add(uint64(kept))
	return len(recs) - kept
}

func (l *Log) replayLoop(every time.Duration) {
	defer close(l.spoolDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.spoolStop:
			l.replay()
			return
		case <-t.C:
			l.replay()
		}
	}
}

// replay writes the spooled records to the store in batches; what the
// store does not take stays in the spool for the next round. A batch the
// store refuses is tried again one record at a time, so that one record
// the store cannot hold does not keep the others out for ever: a record
// the store refuses on its own for its values (store.ErrRecordRefused)
// while it takes others is dropped (counted in Dropped and logged by
// request id); one refused for any other reason stays; when the store
// takes none of the batch, it is down, and the batch and the rest stay.
func (l *Log) replay() {
	sp := l.spool
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.count == 0 {
		return
	}
	f, err := os.Open(sp.path)
	if err != nil {
		return
	}
	recs, _, err := readSpool(f)
	f.Close()
	if err != nil {
		return
	}
	batch := max(l.cfg.BatchSize, 1)
	written, done := 0, 0
	var keep []*Record   // records of tried batches that stay
	var refused []string // request ids of records the store refused for their values
	for done < len(recs) {
		end := min(done+batch, len(recs))
		start := time.Now()
		if l.storeSpooled(recs[done:end]) == nil {
			written += end - done
			done = end
			continue
		}
		if time.Since(start) >= l.writeTimeout() {
			break // the store hangs: no record-by-record tries, each of which would wait as long
		}
		took, kept, ids := l.storeOneByOne(recs[done:end])
		if took == 0 {
			break // the store is down: keep this batch and the rest
		}
		written += took
		keep = append(keep, kept...)
		refused = append(refused, ids...)
		done = end
	}
	if done == 0 {
		return
	}
	if len(refused) > 0 {
		l.dropped.Add(uint64(len(refused)))
		l.logger.Error("audit spool: the store refused records for their values while it took others; they are dropped",
			"records", len(refused), "request_ids", strings.Join(refused[:min(len(refused), 20)], ","))
	}
	// Keep the rest: rewrite the file atomically.
	rest := append(keep, recs[done:]...)
	var buf bytes.Buffer
	for _, r := range rest {
		b, _ := json.Marshal(r)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	tmp := sp.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return
	}
	if err := os.Rename(tmp, sp.path); err != nil {
		return
	}
	sp.size, sp.count = int64(buf.Len()), len(rest)
	l.logger.Info("audit spool: records written to the store", "records", written, "left", len(rest))
}

// storeSpooled writes recs to the store with the log's timeout and counts
// them as written and replayed.
func (l *Log) storeSpooled(recs []*Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), l.writeTimeout())
	err := l.st.WriteAudit(ctx, recs)
	cancel()
	if err == nil {
		l.written.Add(uint64(len(recs)))
		l.replayed.Add(uint64(len(recs)))
	}
	return err
}

// storeOneByOne writes recs one record at a time after the store refused
// them as a batch. It returns how many the store took and, when it took
// any, the records to keep in the spool (those it failed to write for a
// reason other than their values, and those not tried because the store
// stopped answering: a write ran into the timeout) and the request ids of
// those it refused for their values (store.ErrRecordRefused) twice, the
// second time after it took another. It stops early when the first two
// records fail with none taken (the store looks down).
func (l *Log) storeOneByOne(recs []*Record) (took int, keep []*Record, refused []string) {
	var failed []*Record
	for i, r := range recs {
		start := time.Now()
		if l.storeSpooled([]*Record{r}) == nil {
			took++
			continue
		}
		if time.Since(start) >= l.writeTimeout() || took == 0 && i > 0 {
			keep = append(keep, recs[i:]...)
			break
		}
		failed = append(failed, r)
	}
	if took == 0 {
		return 0, nil, nil
	}
	for _, r := range failed {
		err := l.storeSpooled([]*Record{r})
		switch {
		case err == nil:
			took++
		case errors.Is(err, store.ErrRecordRefused):
			refused = append(refused, r.RequestID)
		default:
			keep = append(keep, r)
		}
	}
	return took, keep, refused
}

// Spooled is the number of records waiting in the spool.
func (l *Log) Spooled() int {
	if l.spool == nil {
		return 0
	}
	l.spool.mu.Lock()
	defer l.spool.mu.Unlock()
	return l.spool.count
}
