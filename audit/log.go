package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// Record is one audit record (the store's type, so that backends and this
// package share it without an import cycle).
type Record = store.AuditRecord

const (
	// writeAttempts is how often a failing batch write is tried.
	writeAttempts = 3
	// storeCallTimeout bounds the store calls of erasure and content
	// capture (not the log's batch writes: audit.write_timeout).
	storeCallTimeout = 10 * time.Second
	// dropWarnEvery rate-limits the "records dropped" warning.
	dropWarnEvery = 10 * time.Second
)

// Log is the audit log. It implements engine.Recorder and
// prometheus.Collector (register it to export its counters).
type Log struct {
	st      store.AuditStore
	cfg     config.Audit
	logger  *slog.Logger
	enabled bool

	// mu guards closed and sending on queue: Record holds it shared while
	// it sends, Close exclusively while it closes the queue, so no record
	// can be sent after the writer's final drain.
	mu     sync.RWMutex
	closed bool
	queue  chan *Record
	done   chan struct{}

	dropped  atomic.Uint64
	written  atomic.Uint64
	failed   atomic.Uint64
	lastWarn atomic.Int64

	// prot, when set, redacts and encrypts captured content (content.go).
	prot          atomic.Pointer[protection]
	contentFailed atomic.Uint64

	// backoff is the pause between write attempts (shortened in tests).
	backoff time.Duration

	// spool holds records the store could not take (spool.go); nil: off.
	spool     *spool
	spoolStop chan struct{}
	spoolDone chan struct{}
	spoolOnce sync.Once
	spooled   atomic.Uint64 // records put in the spool
	replayed  atomic.Uint64 // spooled records later written to the store
}

// writeTimeout bounds one store write (audit.write_timeout).
func (l *Log) writeTimeout() time.Duration {
	if l.cfg.WriteTimeout > 0 {
		return l.cfg.WriteTimeout
	}
	return 2 * time.Second
}

var _ engine.Recorder = (*Log)(nil)

// New starts an audit log writing to st. With cfg.Enabled false the log
// records nothing and st may be nil. cfg is expected to be defaulted and
// validated (config.Load does both).
func New(st store.AuditStore, cfg config.Audit, logger *slog.Logger) (*Log, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{st: st, cfg: cfg, logger: logger, enabled: cfg.IsEnabled(), done: make(chan struct{}), backoff: 200 * time.Millisecond}
	if !l.enabled {
		close(l.done)
		return l, nil
	}
	if st == nil {
		return nil, errors.New("audit: enabled but no store")
	}
	if cfg.BatchSize <= 0 || cfg.QueueSize <= 0 || cfg.FlushInterval <= 0 {
		return nil, errors.New("audit: batch_size, queue_size and flush_interval must be positive")
	}
	if cfg.Sync {
		close(l.done)
		return l, nil
	}
	l.queue = make(chan *Record, cfg.QueueSize)
	go l.run()
	return l, nil
}

// Record captures tx and queues (or, with sync, writes) its record. It
// never blocks on a full queue and never keeps tx.
func (l *Log) Record(tx *engine.Tx) {
	if !l.enabled {
		return
	}
	rec := build(tx, l.CaptureContent(), time.Now())
	if l.cfg.Sync {
		// Holding the lock shared across the write makes Close wait for
		// in-flight synchronous writes.
		l.mu.RLock()
		defer l.mu.RUnlock()
		if l.closed {
			l.drop(1)
			return
		}
		l.write([]*Record{rec})
		return
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.drop(1)
		return
	}
	select {
	case l.queue <- rec:
		l.mu.RUnlock()
	default:
		l.mu.RUnlock()
		l.drop(1)
	}
}

func (l *Log) drop(n uint64) {
	l.dropped.Add(n)
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last >= int64(dropWarnEvery) && l.lastWarn.CompareAndSwap(last, now) {
		l.logger.Warn("audit records dropped: queue full or log closed",
			"dropped_total", l.dropped.Load(), "queue_size", l.cfg.QueueSize)
	}
}

// run is the background writer: it batches queued records by size and by
// age and exits after writing everything once the queue is closed.
func (l *Log) run() {
	defer close(l.done)
	batch := make([]*Record, 0, l.cfg.BatchSize)
	timer := time.NewTimer(l.cfg.FlushInterval)
	timer.Stop()
	flush := func() {
		timer.Stop()
		if len(batch) > 0 {
			l.write(batch)
			batch = make([]*Record, 0, l.cfg.BatchSize)
		}
	}
	for {
		select {
		case r, ok := <-l.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) == 1 {
				timer.Reset(l.cfg.FlushInterval)
			}
			if len(batch) >= l.cfg.BatchSize {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// write stores recs, retrying a failing store a few times. Captured
// content is redacted and encrypted first (here, off the request path).
func (l *Log) write(recs []*Record) {
	l.protect(recs)
	var err error
	for attempt := range writeAttempts {
		if attempt > 0 {
			time.Sleep(l.backoff << (attempt - 1))
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.writeTimeout())
		err = l.st.WriteAudit(ctx, recs)
		cancel()
		if err == nil {
			l.written.Add(uint64(len(recs)))
			return
		}
	}
	l.failed.Add(uint64(len(recs)))
	lost := l.toSpool(recs)
	if lost > 0 {
		l.dropped.Add(uint64(lost))
		l.logger.Error("audit write failed; records lost (spool off or full)", "records", lost, "error", err.Error())
		return
	}
	l.logger.Warn("audit write failed; records spooled locally until the store is back", "records", len(recs), "error", err.Error())
}

// WriteAudit writes records made outside a transaction (administrative
// actions) with the log's timeout; records the store does not take go to
// the spool like the log's own (admin.AuditWriter). The error is nil once
// the records are stored or spooled.
func (l *Log) WriteAudit(ctx context.Context, recs []*Record) error {
	if !l.enabled {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, l.writeTimeout())
	err := l.st.WriteAudit(wctx, recs)
	cancel()
	if err == nil {
		l.written.Add(uint64(len(recs)))
		return nil
	}
	l.failed.Add(uint64(len(recs)))
	if lost := l.toSpool(recs); lost > 0 {
		l.dropped.Add(uint64(lost))
		return fmt.Errorf("audit: %d records lost: %w", lost, err)
	}
	return nil
}

// Close stops accepting records, writes everything queued and waits for
// the writer. It does not close the store. Safe to call more than once.
func (l *Log) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		if l.queue != nil {
			close(l.queue)
		}
	}
	l.mu.Unlock()
	<-l.done
	if l.spoolStop != nil {
		l.spoolOnce.Do(func() { close(l.spoolStop) })
		<-l.spoolDone // a last replay; what is left stays in the file for the next start
	}
	if n := l.dropped.Load(); n > 0 {
		return errors.New("audit: some records were lost (see rampart_audit_dropped_total)")
	}
	return nil
}

// Dropped is the number of records dropped so far (queue full or closed).
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

var (
	descDropped = prometheus.NewDesc("rampart_audit_dropped_total",
		"Audit records lost: the queue was full, the log closed, or the store failed and the local spool was off or full.", nil, nil)
	descSpooled = prometheus.NewDesc("rampart_audit_spooled_total",
		"Audit records the store could not take, kept in the local spool file.", nil, nil)
	descReplayed = prometheus.NewDesc("rampart_audit_spool_replayed_total",
		"Spooled audit records written to the store once it was back.", nil, nil)
	descSpool = prometheus.NewDesc("rampart_audit_spool_records",
		"Audit records waiting in the local spool file.", nil, nil)
	descWritten = prometheus.NewDesc("rampart_audit_written_total",
		"Audit records written to the store.", nil, nil)
	descFailed = prometheus.NewDesc("rampart_audit_write_failures_total",
		"Audit records the store failed to write (then spooled, or lost and counted in rampart_audit_dropped_total).", nil, nil)
	descQueue = prometheus.NewDesc("rampart_audit_queue_length",
		"Audit records waiting to be written.", nil, nil)
	descContentFailed = prometheus.NewDesc("rampart_audit_content_encrypt_failures_total",
		"Audit records stored without their captured content because it could not be encrypted.", nil, nil)
)

// Describe implements prometheus.Collector.
func (l *Log) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDropped
	ch <- descWritten
	ch <- descFailed
	ch <- descQueue
	ch <- descContentFailed
	ch <- descSpooled
	ch <- descReplayed
	ch <- descSpool
}

// Collect implements prometheus.Collector.
func (l *Log) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(l.dropped.Load()))
	ch <- prometheus.MustNewConstMetric(descWritten, prometheus.CounterValue, float64(l.written.Load()))
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(l.failed.Load()))
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(len(l.queue)))
	ch <- prometheus.MustNewConstMetric(descContentFailed, prometheus.CounterValue, float64(l.contentFailed.Load()))
	ch <- prometheus.MustNewConstMetric(descSpooled, prometheus.CounterValue, float64(l.spooled.Load()))
	ch <- prometheus.MustNewConstMetric(descReplayed, prometheus.CounterValue, float64(l.replayed.Load()))
	ch <- prometheus.MustNewConstMetric(descSpool, prometheus.GaugeValue, float64(l.Spooled()))
}
