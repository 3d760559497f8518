package incident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
	"github.com/rampart-ai/rampart/store"
)

// AuditRoute is the Route of the audit records of automatic actions.
const AuditRoute = "incident"

// storeTimeout bounds one store call of the worker.
const storeTimeout = 5 * time.Second

// maxKindsPerTx bounds the violations taken from one transaction.
const maxKindsPerTx = 8

// BlockAdder stores blocks (store.BlockStore, or the blocklist layer's
// cache, which also applies them on this replica at once).
type BlockAdder interface {
	AddBlock(ctx context.Context, b store.Block) (store.Block, error)
}

// AuditWriter writes audit records (store.AuditStore).
type AuditWriter interface {
	WriteAudit(ctx context.Context, recs []*store.AuditRecord) error
}

// Options are the responder's collaborators.
type Options struct {
	// Blocks receives automatic blocks and throttles (required when a
	// threshold blocks or throttles).
	Blocks BlockAdder
	// Audit receives one record per automatic action; nil: actions are
	// only logged.
	Audit AuditWriter
	// Logger (default: discard).
	Logger *slog.Logger
	// Registerer exports the metrics (nil: unexported).
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Getenv reads webhook secrets (default os.Getenv).
	Getenv func(string) string
}

// Responder is automatic incident response. It implements engine.Recorder:
// Record copies the violations of a finished transaction (kinds and
// identity only, never content) into a bounded queue and returns; one
// worker scores them and takes the actions whose thresholds are reached.
type Responder struct {
	cfg       Config
	o         Options
	scorer    Scores
	rdb       *redis.Client // backend redis's client, closed by Close
	notifiers []*notifier
	m         *metrics
	gateway   string

	mu      sync.RWMutex // guards closed and sending on queue
	closed  bool
	queue   chan event
	done    chan struct{}
	start   sync.Once
	tracked int // identities scored (for the gauge), under mu
}

var _ engine.Recorder = (*Responder)(nil)

// event is what Record keeps of one transaction.
type event struct {
	at                                time.Time
	requestID, tenant, keyID, subject string
	clientIP                          string
	kinds                             []string
	barrier                           chan struct{} // Flush marker (no violation)
}

// New returns a responder for cfg (Fill is applied; no side effects).
func New(cfg Config, o Options) *Responder {
	cfg.Fill()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	gw := cfg.GatewayID
	if gw == "" {
		gw, _ = os.Hostname()
	}
	return &Responder{cfg: cfg, o: o, m: newMetrics(), gateway: gw, done: make(chan struct{})}
}

// Config returns the effective configuration.
func (r *Responder) Config() Config { return r.cfg }

// Start validates the configuration, reads the webhook secrets, registers
// the metrics, opens the Redis client of backend redis (it connects on
// first use and reconnects by itself; a Redis that does not answer yet is
// only a warning) and starts the worker and one sender per webhook.
func (r *Responder) Start() error {
	if err := r.cfg.Validate(); err != nil {
		return fmt.Errorf("incident: %w", err)
	}
	if r.o.Blocks == nil {
		for _, t := range r.cfg.Thresholds {
			if t.Action != ActionAlert {
				return fmt.Errorf("incident: threshold %q blocks or throttles but no block store is available", t.Name)
			}
		}
	}
	var notifiers []*notifier
	for i, w := range r.cfg.Webhooks {
		secret := r.o.Getenv(w.SecretEnv)
		if len(secret) < MinSecretLen {
			return fmt.Errorf("incident: webhooks[%d]: environment variable %s must hold a secret of at least %d bytes",
				i, w.SecretEnv, MinSecretLen)
		}
		notifiers = append(notifiers, newNotifier(w, []byte(secret), r.o.Logger, r.o.Now, r.m))
	}
	identities := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rampart_incident_identities",
		Help: "Identities (keys, users, addresses) whose incident scores are kept in this replica's memory (backend redis: those scored while Redis failed).",
	}, func() float64 { return float64(r.scoredLen()) })
	if err := r.m.register(r.o.Registerer, identities); err != nil {
		return err
	}
	var scorer Scores = NewScorer(r.cfg)
	var rdb *redis.Client
	if r.cfg.Backend == BackendRedis {
		url, err := limits.RedisURLFrom(r.cfg.RedisURL, r.cfg.RedisURLEnv, r.o.Getenv)
		if err != nil {
			return fmt.Errorf("incident: %w", err)
		}
		opts, err := limits.RedisOptions(url, r.cfg.RedisTimeout)
		if err != nil {
			return fmt.Errorf("incident: %w", err)
		}
		rdb = redis.NewClient(opts)
		ctx, cancel := context.WithTimeout(context.Background(), 2*r.cfg.RedisTimeout)
		if err := rdb.Ping(ctx).Err(); err != nil {
			r.o.Logger.Warn("incident: redis does not answer yet; scoring in this replica's memory until it does",
				"error", redisErr(err).Error())
		}
		cancel()
		w := &redisWarner{log: r.o.Logger}
		scorer = NewRedisScorer(rdb, r.cfg, func(err error) {
			r.m.redisErrors.Inc()
			w.warn(err)
		})
	}
	var err error
	started := false
	r.start.Do(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.closed {
			err = errors.New("incident: responder already closed")
			return
		}
		started = true
		r.notifiers, r.scorer, r.rdb = notifiers, scorer, rdb
		r.queue = make(chan event, r.cfg.QueueSize)
		for _, n := range r.notifiers {
			go n.run()
		}
		go r.run()
	})
	if !started && rdb != nil {
		_ = rdb.Close()
	}
	return err
}

// scoredLen is the identity count for the gauge (the worker publishes it
// after each event).
func (r *Responder) scoredLen() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tracked
}

// Record implements engine.Recorder. It never blocks: with the queue full
// the transaction's violations are dropped and counted.
func (r *Responder) Record(tx *engine.Tx) {
	var buf [maxKindsPerTx]string
	n := 0
	for i := range tx.Outcomes {
		if k := Classify(&tx.Outcomes[i], r.cfg.CountMonitor); k != "" && r.cfg.Severities[k] > 0 && n < len(buf) {
			buf[n] = k
			n++
		}
	}
	if n == 0 {
		return
	}
	ev := event{at: r.o.Now(), requestID: tx.ID, clientIP: tx.ClientIP, kinds: append([]string(nil), buf[:n]...)}
	if id := tx.Identity; id != nil {
		ev.tenant, ev.keyID, ev.subject = id.Tenant, id.KeyID, id.Subject
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed || r.queue == nil {
		r.m.dropped.Inc()
		return
	}
	select {
	case r.queue <- ev:
	default:
		r.m.dropped.Inc()
	}
}

// Flush waits until every violation recorded before it was scored and its
// actions taken (blocks stored, audit written, alerts queued).
func (r *Responder) Flush(ctx context.Context) error {
	b := make(chan struct{})
	r.mu.RLock()
	if r.closed || r.queue == nil {
		r.mu.RUnlock()
		return errors.New("incident: responder not running")
	}
	select {
	case r.queue <- event{barrier: b}:
		r.mu.RUnlock()
	case <-ctx.Done():
		r.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting violations, scores those queued, closes the Redis
// client of backend redis, then lets each webhook sender deliver what it
// holds (for up to 5s). Safe to call more than once.
func (r *Responder) Close() error {
	r.mu.Lock()
	wasRunning := !r.closed && r.queue != nil
	r.closed = true
	if wasRunning {
		close(r.queue)
	}
	r.mu.Unlock()
	if wasRunning {
		<-r.done
		if r.rdb != nil {
			_ = r.rdb.Close()
		}
		for _, n := range r.notifiers {
			n.close()
		}
	}
	return nil
}

func (r *Responder) run() {
	defer close(r.done)
	for ev := range r.queue {
		if ev.barrier != nil {
			close(ev.barrier)
			continue
		}
		r.process(ev)
	}
}

// process scores one transaction's violations for each of its identities.
func (r *Responder) process(ev event) {
	for _, k := range ev.kinds {
		r.m.violations.WithLabelValues(k).Inc()
	}
	now := r.o.Now()
	for _, s := range r.subjects(ev) {
		kinds := ev.kinds
		if s.Scope == ScopeIP {
			if kinds = addressKinds(kinds); len(kinds) == 0 {
				continue
			}
		}
		for _, f := range r.scorer.Add(s, kinds, now) {
			r.act(f, ev, now)
		}
	}
	r.mu.Lock()
	r.tracked = r.scorer.Len()
	r.mu.Unlock()
}

// addressKinds are the kinds that score a client address: all but failed
// authentications. Anyone sharing an address with others (a NAT, a
// company proxy) can send made-up keys, and a block of the address would
// refuse every valid key from it too; the identity layer's lockout
// already throttles failures per address while valid credentials pass.
func addressKinds(kinds []string) []string {
	if !slices.Contains(kinds, KindAuthFailure) {
		return kinds
	}
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if k != KindAuthFailure {
			out = append(out, k)
		}
	}
	return out
}

// subjects are the identities a transaction is scored for: its API key;
// its user, for identities without a key (JWT, mTLS), where the subject is
// a person; and its client address (IPv6 grouped by ipv6_prefix).
func (r *Responder) subjects(ev event) []Subject {
	out := make([]Subject, 0, 3)
	if ev.keyID != "" {
		out = append(out, Subject{Scope: ScopeKey, Value: ev.keyID, Tenant: ev.tenant})
	} else if ev.subject != "" && ev.tenant != "" {
		out = append(out, Subject{Scope: ScopeUser, Value: ev.subject, Tenant: ev.tenant})
	}
	if a, err := netip.ParseAddr(ev.clientIP); err == nil {
		a = a.Unmap().WithZone("")
		v := a.String()
		if a.Is6() && r.cfg.IPv6Prefix < 128 {
			v = netip.PrefixFrom(a, r.cfg.IPv6Prefix).Masked().String()
		}
		out = append(out, Subject{Scope: ScopeIP, Value: v})
	}
	return out
}

// act takes one threshold's action: store the block or throttle, write
// the audit record, log, and queue the webhook alert.
func (r *Responder) act(f Firing, ev event, now time.Time) {
	t := f.Threshold
	reason := fmt.Sprintf("incident response: %s score %.1f reached threshold %q (%.1f) after %s; last request %s",
		f.Subject.Scope, f.Score, t.Name, t.Score, countsText(f.Counts), ev.requestID)
	event := EventAlert
	var stored store.Block
	var actErr error
	if t.Action == ActionBlock || t.Action == ActionThrottle {
		event = EventBlock
		if t.Action == ActionThrottle {
			event = EventThrottle
		}
		b := store.Block{Kind: blockKind(f.Subject), Value: f.Subject.Value, Tenant: f.Subject.Tenant, Action: t.Action,
			RPM: t.RPM, Reason: reason, CreatedBy: store.CreatedByAuto, CreatedAt: now.UTC(), ExpiresAt: now.Add(t.TTL)}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		stored, actErr = r.o.Blocks.AddBlock(ctx, b)
		cancel()
		if actErr != nil {
			r.m.actionErrors.Inc()
			r.o.Logger.Error("incident: could not store automatic "+t.Action, "scope", f.Subject.Scope,
				"threshold", t.Name, "error", actErr.Error())
		}
	}
	if actErr == nil {
		r.m.actions.WithLabelValues(t.Action).Inc()
		r.o.Logger.Warn("incident: automatic "+t.Action, "scope", f.Subject.Scope, "value", f.Subject.Value,
			"tenant", f.Subject.Tenant, "threshold", t.Name, "score", f.Score, "block_id", stored.ID, "ttl", t.TTL.String())
	}
	r.audit(f, reason, stored, actErr, now)
	if actErr == nil {
		r.alert(event, f, reason, stored, now)
	}
}

func blockKind(s Subject) string {
	switch s.Scope {
	case ScopeKey:
		return store.BlockKey
	case ScopeUser:
		return store.BlockUser
	}
	if strings.Contains(s.Value, "/") {
		return store.BlockCIDR
	}
	return store.BlockIP
}

// countsText renders violation counts as "injection_block×5, limit_hit×2"
// in a stable order.
func countsText(c map[string]int) string {
	keys := sortedKeys(c)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, c[k])
	}
	return strings.Join(parts, ", ")
}

// audit writes the action's audit record: route "incident", one outcome
// of layer "incident" with the threshold as rule and the reason as the
// finding's text. It never holds prompt text or secrets.
func (r *Responder) audit(f Firing, reason string, b store.Block, actErr error, now time.Time) {
	if r.o.Audit == nil {
		return
	}
	action, code := engine.Block.String(), "incident_"+f.Threshold.Action
	if f.Threshold.Action == ActionAlert {
		action = engine.Flag.String()
	}
	rec := &store.AuditRecord{RequestID: "inc_" + randomHex(8), Time: now, Route: AuditRoute, Tenant: f.Subject.Tenant,
		Decisions: []engine.Outcome{{Layer: "incident", Phase: engine.PhaseFinish, Action: action, Rule: f.Threshold.Name,
			Code: code, Findings: []engine.Finding{{Layer: "incident", Rule: f.Threshold.Name, Severity: engine.SeverityHigh,
				Score: f.Score, Message: -1, Text: reason}}}}}
	switch f.Subject.Scope {
	case ScopeKey:
		rec.KeyID = f.Subject.Value
	case ScopeUser:
		rec.Subject = f.Subject.Value
	case ScopeIP:
		rec.ClientIP = f.Subject.Value
	}
	if b.ID != "" {
		rec.Decisions[0].Findings[0].Entity = b.ID
	}
	if actErr != nil {
		rec.Decisions[0].Action, rec.Error = "error", "could not store the "+f.Threshold.Action
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := r.o.Audit.WriteAudit(ctx, []*store.AuditRecord{rec}); err != nil {
		r.m.actionErrors.Inc()
		r.o.Logger.Error("incident: could not write the audit record of an automatic action", "threshold",
			f.Threshold.Name, "error", err.Error())
	}
}

// Alert is the JSON body of a webhook request.
type Alert struct {
	// Event is incident.alert, incident.block or incident.throttle.
	Event string `json:"event"`
	// ID identifies the alert (also in X-Rampart-Delivery).
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	GatewayID string    `json:"gateway_id"`
	Identity  Subject   `json:"identity"`
	Action    Action    `json:"action"`
	Reason    string    `json:"reason"`
	Score     float64   `json:"score"`
	Threshold string    `json:"threshold"`
	// Violations counts the identity's recent violations by kind.
	Violations map[string]int `json:"violations"`
}

// Action describes what was done in an Alert.
type Action struct {
	Type       string    `json:"type"` // block, throttle, alert
	BlockID    string    `json:"block_id,omitempty"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	TTLSeconds int64     `json:"ttl_seconds,omitempty"`
	RPM        int64     `json:"rpm,omitempty"`
}

func (r *Responder) alert(event string, f Firing, reason string, b store.Block, now time.Time) {
	if len(r.notifiers) == 0 {
		return
	}
	a := Alert{Event: event, ID: "evt_" + randomHex(8), Time: now.UTC(), GatewayID: r.gateway, Identity: f.Subject,
		Action: Action{Type: f.Threshold.Action, BlockID: b.ID, RPM: b.RPM}, Reason: reason, Score: f.Score,
		Threshold: f.Threshold.Name, Violations: f.Counts}
	if b.ID != "" {
		a.Action.ExpiresAt = b.ExpiresAt
		a.Action.TTLSeconds = int64(f.Threshold.TTL / time.Second)
	}
	body, err := json.Marshal(a)
	if err != nil {
		r.o.Logger.Error("incident: alert encoding", "error", err.Error())
		return
	}
	for _, n := range r.notifiers {
		if n.wants(event) {
			n.enqueue(delivery{id: a.ID, event: event, body: body})
		}
	}
}

// Key is the shared service (engine.Host.Services) of the running
// Responder, through which layers send other webhook events (budget
// alerts from layers/ratelimit).
var Key = engine.NewKey[*Responder]("incident.responder")

// BudgetAlert is the JSON body of a budget.alert webhook request: a spend
// budget reached Percent of its limit in the current window.
type BudgetAlert struct {
	Event     string    `json:"event"` // budget.alert
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	GatewayID string    `json:"gateway_id"`
	// Identity is whose budget it is (scope key, user or tenant).
	Identity Subject `json:"identity"`
	// Rule and Limit name the budget (rate-limit rule and budget_usd_day
	// or budget_usd_month); Window is the UTC day or month.
	Rule   string `json:"rule"`
	Limit  string `json:"limit"`
	Window string `json:"window"`
	// Percent is the alert threshold reached (100: the budget is used up).
	Percent  int     `json:"percent"`
	SpentUSD float64 `json:"spent_usd"`
	LimitUSD float64 `json:"limit_usd"`
}

// NotifyBudget sends a to every webhook that takes budget.alert events.
// It never blocks: deliveries are queued like other alerts.
func (r *Responder) NotifyBudget(a BudgetAlert) {
	a.Event, a.ID, a.GatewayID, a.Time = EventBudget, "evt_"+randomHex(8), r.gateway, orNow(a.Time)
	r.send(EventBudget, a.ID, a)
}

// MCPToolAlert is the JSON body of an mcp.tool_withheld webhook request:
// a tool definition is withheld until an administrator approves it
// (`rampart mcp tools list --status pending`).
type MCPToolAlert struct {
	Event     string    `json:"event"` // mcp.tool_withheld
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	GatewayID string    `json:"gateway_id"`
	Server    string    `json:"server"`
	Tool      string    `json:"tool"`
	// Reason is "new definition" or "changed definition", with the ids of
	// the tool-poisoning findings; never the definition's text.
	Reason string `json:"reason"`
}

// NotifyMCPTool sends a to every webhook that takes mcp.tool_withheld
// events, without blocking.
func (r *Responder) NotifyMCPTool(a MCPToolAlert) {
	a.Event, a.ID, a.GatewayID, a.Time = EventMCPTool, "evt_"+randomHex(8), r.gateway, orNow(a.Time)
	r.send(EventMCPTool, a.ID, a)
}

// send queues body v of an event (id) for every webhook that takes the
// event, without blocking.
func (r *Responder) send(event, id string, v any) {
	if len(r.notifiers) == 0 {
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		return
	}
	for _, n := range r.notifiers {
		if n.wants(event) {
			n.enqueue(delivery{id: id, event: event, body: body})
		}
	}
}

// orNow is t, or the current UTC time when t is zero.
func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
