package metrics

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rampart-ai/rampart/engine"
)

func TestObserverCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.LayerDecision("pii", engine.PhaseRequest, "flag", true, 3*time.Microsecond)
	m.LayerDecision("pii", engine.PhaseRequest, "flag", true, 3*time.Microsecond)
	m.LayerDecision("pii", engine.PhaseRequest, "block", false, 40*time.Millisecond)
	m.LayerDecision("secrets", engine.PhaseStream, "modify", false, time.Microsecond/2)
	m.LayerError("pii", engine.PhaseResponse)
	m.Request("/v1/chat/completions", 200, 150*time.Millisecond)
	m.Request("/v1/chat/completions", 403, 2*time.Millisecond)
	m.Upstream("openai", 200, time.Second)
	m.Upstream("openai", 0, 10*time.Second)

	want := `
# HELP rampart_layer_decisions_total Layer decisions by layer, phase, action and whether the layer ran in monitor mode.
# TYPE rampart_layer_decisions_total counter
rampart_layer_decisions_total{action="block",layer="pii",monitor="false",phase="request"} 1
rampart_layer_decisions_total{action="flag",layer="pii",monitor="true",phase="request"} 2
rampart_layer_decisions_total{action="modify",layer="secrets",monitor="false",phase="stream"} 1
# HELP rampart_layer_errors_total Layer calls that returned an error or panicked, by layer and phase.
# TYPE rampart_layer_errors_total counter
rampart_layer_errors_total{layer="pii",phase="response"} 1
# HELP rampart_requests_total Requests handled, by API route and HTTP status sent to the client.
# TYPE rampart_requests_total counter
rampart_requests_total{route="/v1/chat/completions",status="200"} 1
rampart_requests_total{route="/v1/chat/completions",status="403"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"rampart_layer_decisions_total", "rampart_layer_errors_total", "rampart_requests_total"); err != nil {
		t.Fatal(err)
	}
	// Histograms: counts per series and the bucket a 3µs call lands in.
	if n := testutil.CollectAndCount(m.layerDur); n != 3 {
		t.Fatalf("layer duration series = %d, want 3", n)
	}
	if n := testutil.CollectAndCount(m.upstreamDur); n != 2 {
		t.Fatalf("upstream series = %d, want 2", n)
	}
	out := scrape(t, reg)
	for _, line := range []string{
		`rampart_layer_duration_seconds_bucket{action="flag",layer="pii",phase="request",le="1e-06"} 0`,
		`rampart_layer_duration_seconds_bucket{action="flag",layer="pii",phase="request",le="5e-06"} 2`,
		`rampart_layer_duration_seconds_bucket{action="block",layer="pii",phase="request",le="0.025"} 0`,
		`rampart_layer_duration_seconds_bucket{action="block",layer="pii",phase="request",le="0.05"} 1`,
		`rampart_layer_duration_seconds_count{action="modify",layer="secrets",phase="stream"} 1`,
		`rampart_request_duration_seconds_count{route="/v1/chat/completions"} 2`,
		`rampart_upstream_duration_seconds_count{status="0",upstream="openai"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("scrape lacks %q", line)
		}
	}
	if m.Registerer() != reg {
		t.Error("Registerer is not the registry given to New")
	}
}

func scrape(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	srv := httptest.NewServer(Handler(prometheus.Gatherers{reg, NewRegistry()}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestRouteCardinalityBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	for i := range MaxSeries + 50 {
		m.Request("/junk/"+strconv.Itoa(i), 404, time.Millisecond)
	}
	if n := testutil.CollectAndCount(m.requests); n != MaxSeries+1 {
		t.Fatalf("%d request series, want %d", n, MaxSeries+1)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues(OtherLabel, "404")); got != 50 {
		t.Fatalf("other = %v, want 50", got)
	}
	// Known routes keep their own series after the cap.
	m.Request("/junk/1", 404, time.Millisecond)
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/junk/1", "404")); got != 2 {
		t.Fatalf("/junk/1 = %v, want 2", got)
	}
}

func TestConcurrentObserve(t *testing.T) {
	m := New(prometheus.NewRegistry())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				m.LayerDecision("l"+strconv.Itoa(i%5), engine.PhaseRequest, "allow", g%2 == 0, time.Microsecond)
			}
		}()
	}
	wg.Wait()
	var total float64
	for i := range 5 {
		for _, mon := range []string{"true", "false"} {
			total += testutil.ToFloat64(m.decisions.WithLabelValues("l"+strconv.Itoa(i), "request", "allow", mon))
		}
	}
	if total != 8000 {
		t.Fatalf("total = %v, want 8000", total)
	}
}

func TestDoubleRegisterPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg)
	defer func() {
		if recover() == nil {
			t.Fatal("second New on the same registry did not panic")
		}
	}()
	New(reg)
}

func BenchmarkLayerDecision(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.LayerDecision("injection", engine.PhaseRequest, "allow", false, 7*time.Microsecond)
		}
	})
}

func BenchmarkRequest(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.Request("/v1/chat/completions", 200, 120*time.Millisecond)
	}
}

// BenchmarkLayerDecisionUncached is the naive baseline (label lookup per
// call) that the child caches replace.
func BenchmarkLayerDecisionUncached(b *testing.B) {
	m := New(prometheus.NewRegistry())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.decisions.WithLabelValues("injection", "request", "allow", "false").Inc()
			m.layerDur.WithLabelValues("injection", "request", "allow").Observe(7e-6)
		}
	})
}
