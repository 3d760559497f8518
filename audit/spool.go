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
	"sync"
	"time"
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
// store does not take stays in the spool for the next round.
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
	done := 0
	for done < len(recs) {
		end := min(done+batch, len(recs))
		ctx, cancel := context.WithTimeout(context.Background(), l.writeTimeout())
		err := l.st.WriteAudit(ctx, recs[done:end])
		cancel()
		if err != nil {
			break
		}
		l.written.Add(uint64(end - done))
		l.replayed.Add(uint64(end - done))
		done = end
	}
	if done == 0 {
		return
	}
	// Keep the rest: rewrite the file atomically.
	rest := recs[done:]
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
	l.logger.Info("audit spool: records written to the store", "records", done, "left", len(rest))
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
