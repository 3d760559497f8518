package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/store"
)

// purgeTimeout bounds one purge run.
const purgeTimeout = 5 * time.Minute

// Clock is where the retention purge reads time from; tests inject a fake.
type Clock interface {
	Now() time.Time
	// Ticker delivers on the returned channel every d until stop is called.
	Ticker(d time.Duration) (ticks <-chan time.Time, stop func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Ticker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Purger enforces audit retention: it deletes records older than the
// retention period once at Start and then every interval, using the
// store's PurgeAudit (which deletes in bounded chunks). It implements
// prometheus.Collector. Several replicas sharing one store may each run a
// purger; the deletes are idempotent.
type Purger struct {
	st        store.AuditStore
	retention time.Duration
	interval  time.Duration
	clock     Clock
	log       *slog.Logger

	purged   atomic.Uint64
	failures atomic.Uint64
	last     atomic.Int64 // Unix seconds of the last successful run

	startOnce sync.Once
	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// NewPurger returns a purger keeping records for retention (> 0) and
// purging every interval (> 0). clock nil means the real clock. It starts
// nothing until Start.
func NewPurger(st store.AuditStore, retention, interval time.Duration, clock Clock, logger *slog.Logger) (*Purger, error) {
	if st == nil {
		return nil, errors.New("audit: retention purge needs a store")
	}
	if retention <= 0 || interval <= 0 {
		return nil, errors.New("audit: retention and purge interval must be positive")
	}
	if clock == nil {
		clock = realClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Purger{st: st, retention: retention, interval: interval, clock: clock, log: logger,
		stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// PurgeOnce deletes records older than now minus the retention period.
func (p *Purger) PurgeOnce(ctx context.Context) (int64, error) {
	cutoff := p.clock.Now().Add(-p.retention)
	n, err := p.st.PurgeAudit(ctx, cutoff)
	if n > 0 {
		p.purged.Add(uint64(n))
	}
	if err != nil {
		p.failures.Add(1)
		return n, err
	}
	p.last.Store(p.clock.Now().Unix())
	return n, nil
}

func (p *Purger) runOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), purgeTimeout)
	defer cancel()
	n, err := p.PurgeOnce(ctx)
	switch {
	case err != nil:
		p.log.Error("audit retention purge failed", "deleted", n, "error", err.Error())
	case n > 0:
		p.log.Info("audit retention purge", "deleted", n, "retention", p.retention.String())
	}
}

// Start runs a purge now and then every interval in the background.
func (p *Purger) Start() {
	p.startOnce.Do(func() {
		ticks, stopTicker := p.clock.Ticker(p.interval)
		go func() {
			defer close(p.done)
			defer stopTicker()
			p.runOnce()
			for {
				select {
				case <-p.stop:
					return
				case <-ticks:
					p.runOnce()
				}
			}
		}()
	})
}

// Close stops the background purge and waits for a run in progress.
// Safe to call more than once, and without Start.
func (p *Purger) Close() error {
	p.closeOnce.Do(func() {
		close(p.stop)
		started := true
		p.startOnce.Do(func() { started = false })
		if started {
			<-p.done
		}
	})
	return nil
}

var (
	descPurged = prometheus.NewDesc("rampart_audit_purged_total",
		"Audit records deleted by the retention purge.", nil, nil)
	descPurgeFailures = prometheus.NewDesc("rampart_audit_purge_failures_total",
		"Retention purge runs that failed.", nil, nil)
	descLastPurge = prometheus.NewDesc("rampart_audit_last_purge_timestamp_seconds",
		"Unix time of the last successful retention purge (0: none yet).", nil, nil)
)

// Describe implements prometheus.Collector.
func (p *Purger) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPurged
	ch <- descPurgeFailures
	ch <- descLastPurge
}

// Collect implements prometheus.Collector.
func (p *Purger) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descPurged, prometheus.CounterValue, float64(p.purged.Load()))
	ch <- prometheus.MustNewConstMetric(descPurgeFailures, prometheus.CounterValue, float64(p.failures.Load()))
	ch <- prometheus.MustNewConstMetric(descLastPurge, prometheus.GaugeValue, float64(p.last.Load()))
}
