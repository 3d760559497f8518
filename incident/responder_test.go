package incident_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

const secret = "0123456789abcdef-webhook-secret"

// flakyReceiver fails the first n deliveries with 503, then verifies and
// keeps each alert.
type flakyReceiver struct {
	failFirst int32
	calls     atomic.Int32
	mu        sync.Mutex
	alerts    []incident.Alert
	bad       []string
	got       chan struct{}
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	if n <= f.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err := incident.Verify([]byte(secret), r.Header.Get(incident.HeaderTimestamp), r.Header.Get(incident.HeaderSignature),
		body, time.Now(), 5*time.Minute)
	if err != nil {
		f.bad = append(f.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var a incident.Alert
	if err := json.Unmarshal(body, &a); err != nil {
		f.bad = append(f.bad, err.Error())
	}
	if r.Header.Get(incident.HeaderEvent) != a.Event || r.Header.Get(incident.HeaderDelivery) != a.ID {
		f.bad = append(f.bad, "event/delivery headers do not match the body")
	}
	f.alerts = append(f.alerts, a)
	w.WriteHeader(http.StatusNoContent)
	f.got <- struct{}{}
}

func injectionTx(id, key, ip string) *engine.Tx {
	return &engine.Tx{ID: id, ClientIP: ip, Identity: &engine.Identity{Tenant: "acme", KeyID: key, Subject: "svc"},
		Outcomes: []engine.Outcome{
			{Layer: "identity", Phase: engine.PhaseHeaders, Action: "allow"},
			{Layer: "injection", Phase: engine.PhaseRequest, Action: "block", Code: "prompt_injection_detected", Rule: "ignore-previous"},
		}}
}

func TestResponderBlocksAuditsAndAlerts(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recv := &flakyReceiver{failFirst: 2, got: make(chan struct{}, 4)}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	cfg := incident.Defaults()
	cfg.Enabled = true
	cfg.GatewayID = "gw-test"
	cfg.Thresholds = []incident.Threshold{{Name: "key-block", Scope: incident.ScopeKey, Score: 24, Action: incident.ActionBlock, TTL: time.Hour}}
	cfg.Webhooks = []incident.Webhook{{URL: srv.URL + "/hook?token=abc", SecretEnv: "HOOK_SECRET", InitialBackoff: time.Millisecond,
		MaxBackoff: 4 * time.Millisecond, MaxAttempts: 4}}
	reg := prometheus.NewRegistry()
	r := incident.New(cfg, incident.Options{Blocks: db, Audit: db, Registerer: reg,
		Getenv: func(k string) string {
			if k == "HOOK_SECRET" {
				return secret
			}
			return ""
		}})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Four injections: no action yet; a clean request changes nothing.
	for i := range 4 {
		r.Record(injectionTx("req_"+string(rune('a'+i)), "key_bad", "198.51.100.7"))
	}
	r.Record(&engine.Tx{ID: "req_ok", Identity: &engine.Identity{KeyID: "key_bad"}, Outcomes: []engine.Outcome{{Layer: "injection", Action: "allow"}}})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ListBlocks(ctx, time.Now()); len(got) != 0 {
		t.Fatalf("blocked too early: %+v", got)
	}
	r.Record(injectionTx("req_e", "key_bad", "198.51.100.7"))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	blocks, err := db.ListBlocks(ctx, time.Now())
	if err != nil || len(blocks) != 1 {
		t.Fatalf("blocks = %+v, %v", blocks, err)
	}
	b := blocks[0]
	if b.Kind != store.BlockKey || b.Value != "key_bad" || b.Tenant != "acme" || b.Action != store.ActionBlock ||
		b.CreatedBy != store.CreatedByAuto || time.Until(b.ExpiresAt) < 59*time.Minute ||
		!strings.Contains(b.Reason, `threshold "key-block"`) || !strings.Contains(b.Reason, "injection_block×5") ||
		!strings.Contains(b.Reason, "req_e") {
		t.Fatalf("block = %+v", b)
	}

	// The audit log has the automatic action with its reason.
	recs, err := db.QueryAudit(ctx, store.AuditFilter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit = %+v, %v", recs, err)
	}
	a := recs[0]
	if a.Route != incident.AuditRoute || a.KeyID != "key_bad" || a.Tenant != "acme" || len(a.Decisions) != 1 ||
		a.Decisions[0].Code != "incident_block" || a.Decisions[0].Rule != "key-block" ||
		a.Decisions[0].Findings[0].Text != b.Reason || a.Decisions[0].Findings[0].Entity != b.ID {
		t.Fatalf("audit record = %+v", a)
	}

	// The webhook got one signed alert after two failures.
	select {
	case <-recv.got:
	case <-ctx.Done():
		t.Fatal("no webhook delivery")
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.bad) > 0 || len(recv.alerts) != 1 || recv.calls.Load() != 3 {
		t.Fatalf("receiver: calls %d, alerts %+v, errors %v", recv.calls.Load(), recv.alerts, recv.bad)
	}
	al := recv.alerts[0]
	if al.Event != incident.EventBlock || al.GatewayID != "gw-test" || al.Identity.Value != "key_bad" ||
		al.Action.BlockID != b.ID || al.Action.TTLSeconds != 3600 || al.Violations["injection_block"] != 5 || al.Score < 24 {
		t.Fatalf("alert = %+v", al)
	}
	if v := counterSum(t, reg, "rampart_incident_actions_total"); v != 1 {
		t.Fatalf("actions metric = %v", v)
	}
}

// counterSum sums a counter family gathered from reg.
func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestRecordNeverBlocks(t *testing.T) {
	cfg := incident.Defaults()
	cfg.Enabled = true
	cfg.QueueSize = 1
	cfg.Thresholds = []incident.Threshold{}
	r := incident.New(cfg, incident.Options{})
	// Not started: Record drops (and returns) instead of waiting.
	done := make(chan struct{})
	go func() {
		for range 1000 {
			r.Record(injectionTx("req", "key", "192.0.2.1"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookSecretRequired(t *testing.T) {
	cfg := incident.Defaults()
	cfg.Enabled = true
	cfg.Thresholds = []incident.Threshold{}
	cfg.Webhooks = []incident.Webhook{{URL: "https://hooks.example/x", SecretEnv: "NOPE"}}
	r := incident.New(cfg, incident.Options{Getenv: func(string) string { return "short" }})
	if err := r.Start(); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("Start = %v, want an error naming the variable", err)
	}
}

func TestThresholdNeedsBlockStore(t *testing.T) {
	cfg := incident.Defaults()
	cfg.Enabled = true
	r := incident.New(cfg, incident.Options{})
	if err := r.Start(); err == nil {
		t.Fatal("Start without a block store but with blocking thresholds succeeded")
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"event":"incident.alert"}`)
	now := time.Unix(1_700_000_000, 0)
	sig := incident.Sign([]byte(secret), now.Unix(), body)
	ts := "1700000000"
	for _, c := range []struct {
		name      string
		key       string
		ts, sig   string
		body      string
		at        time.Time
		wantError bool
	}{
		{"valid", secret, ts, sig, string(body), now, false},
		{"tampered body", secret, ts, sig, `{"event":"incident.block"}`, now, true},
		{"wrong key", "another-secret-of-16+", ts, sig, string(body), now, true},
		{"replayed later", secret, ts, sig, string(body), now.Add(10 * time.Minute), true},
		{"timestamp changed", secret, "1700000001", sig, string(body), now, true},
		{"bad timestamp", secret, "x", sig, string(body), now, true},
		{"no prefix", secret, ts, strings.TrimPrefix(sig, "sha256="), string(body), now, true},
	} {
		err := incident.Verify([]byte(c.key), c.ts, c.sig, []byte(c.body), c.at, 5*time.Minute)
		if (err != nil) != c.wantError {
			t.Errorf("%s: Verify = %v", c.name, err)
		}
	}
}
