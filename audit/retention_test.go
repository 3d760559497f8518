package audit

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// fakeClock is a settable clock whose ticker fires when the test says so.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	ticks chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Ticker(time.Duration) (<-chan time.Time, func()) { return c.ticks, func() {} }

// advance moves the clock and fires one tick.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	c.ticks <- now
}

func TestRetentionPurgeWithFakeClock(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ages := map[string]time.Duration{"d40": 40 * day, "d31": 31 * day, "d29": 29 * day, "d1": day, "d0": 0}
	var recs []*store.AuditRecord
	for id, age := range ages {
		recs = append(recs, &store.AuditRecord{RequestID: id, Time: t0.Add(-age), Route: "/v1/chat/completions"})
	}
	if err := db.WriteAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: t0, ticks: make(chan time.Time)}
	p, err := NewPurger(db, 30*day, time.Hour, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(p)
	left := func() map[string]bool {
		got, err := db.QueryAudit(context.Background(), store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, r := range got {
			m[r.RequestID] = true
		}
		return m
	}
	p.Start()
	waitFor(t, "first purge", func() bool { return p.purged.Load() == 2 })
	if l := left(); len(l) != 3 || !l["d29"] || !l["d1"] || !l["d0"] {
		t.Fatalf("after first purge: %v", l)
	}
	// Two days later the 29-day-old record is past retention.
	clock.advance(2 * day)
	waitFor(t, "second purge", func() bool { return p.purged.Load() == 3 })
	if l := left(); len(l) != 2 || !l["d1"] || !l["d0"] {
		t.Fatalf("after second purge: %v", l)
	}
	clock.advance(time.Hour)
	waitFor(t, "third run", func() bool { return p.last.Load() == t0.Add(2*day+time.Hour).Unix() })
	if n := testutil.ToFloat64(collectorFor(p, descPurged)); n != 3 {
		t.Fatalf("rampart_audit_purged_total = %v", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// collectorFor exposes one metric of p as a collector for testutil.
func collectorFor(p *Purger, d *prometheus.Desc) prometheus.Collector {
	return singleMetric{p: p, d: d}
}

type singleMetric struct {
	p *Purger
	d *prometheus.Desc
}

func (s singleMetric) Describe(ch chan<- *prometheus.Desc) { ch <- s.d }
func (s singleMetric) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 8)
	s.p.Collect(all)
	close(all)
	for m := range all {
		if m.Desc() == s.d {
			ch <- m
		}
	}
}

func TestPurgerValidation(t *testing.T) {
	if _, err := NewPurger(nil, time.Hour, time.Hour, nil, nil); err == nil {
		t.Fatal("nil store accepted")
	}
	fs := &fakeStore{}
	for _, c := range []struct{ ret, iv time.Duration }{{0, time.Hour}, {time.Hour, 0}, {-time.Hour, time.Hour}} {
		if _, err := NewPurger(fs, c.ret, c.iv, nil, nil); err == nil {
			t.Fatalf("retention %v interval %v accepted", c.ret, c.iv)
		}
	}
	p, err := NewPurger(fs, time.Hour, time.Hour, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil { // without Start: must not hang
		t.Fatal(err)
	}
	p.Start() // after Close: must not start a worker that nobody stops
}
