package gateway

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
)

// CodeUpstreamUnavailable answers 503 when every member of a model's pool
// has its circuit breaker open.
const CodeUpstreamUnavailable = "upstream_unavailable"

// proxy forwards transactions to pools of upstreams (see Routing).
type proxy struct {
	ups     []*upstream
	obs     engine.Observer
	routing config.Routing
	health  *healthSet
	rr      atomic.Uint64 // round_robin position
	log     *slog.Logger  // upstream refusals of rampart's credential (proxy.go)
}

// members returns the pool for provider, route and model, in config
// order: the upstreams whose model patterns match, else those without
// patterns. Without a model (model listing): those without patterns,
// else the first that allows the route.
func (p *proxy) members(provider, route, model string) []*upstream {
	var matched, open []*upstream
	var first *upstream
	for _, u := range p.ups {
		if u.provider != provider || (len(u.routes) > 0 && !slices.Contains(u.routes, route)) {
			continue
		}
		if first == nil {
			first = u
		}
		if len(u.models) == 0 {
			open = append(open, u)
			continue
		}
		if model == "" {
			continue
		}
		for _, m := range u.models {
			if ok, _ := path.Match(m, model); ok {
				matched = append(matched, u)
				break
			}
		}
	}
	switch {
	case len(matched) > 0:
		return matched
	case len(open) > 0:
		return open
	case model == "" && first != nil:
		return []*upstream{first}
	}
	return nil
}

// strategy is the routing strategy for model.
func (p *proxy) strategy(model string) string {
	for _, g := range p.routing.Groups {
		for _, m := range g.Models {
			if ok, _ := path.Match(m, model); ok {
				return g.Strategy
			}
		}
	}
	if p.routing.Strategy == "" {
		return config.DefaultRoutingStrategy
	}
	return p.routing.Strategy
}

// order returns the pool in the order to try it: by priority (lowest
// first), and within one priority as the strategy says.
func (p *proxy) order(pool []*upstream, strategy string) []*upstream {
	out := slices.Clone(pool)
	sort.SliceStable(out, func(i, j int) bool { return out[i].priority < out[j].priority })
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].priority == out[i].priority {
			j++
		}
		tier := out[i:j]
		if len(tier) > 1 {
			switch strategy {
			case "round_robin":
				k := int(p.rr.Add(1) % uint64(len(tier)))
				rotated := append(slices.Clone(tier[k:]), tier[:k]...)
				copy(tier, rotated)
			case "weighted":
				weightedShuffle(tier)
			case "least_in_flight":
				sort.SliceStable(tier, func(a, b int) bool {
					return tier[a].health.inFlight.Load() < tier[b].health.inFlight.Load()
				})
			}
		}
		i = j
	}
	return out
}

// weightedShuffle orders ups by weighted random sampling without
// replacement: each next member is drawn with probability proportional to
// its weight among those left.
func weightedShuffle(ups []*upstream) {
	for i := 0; i < len(ups)-1; i++ {
		total := 0
		for _, u := range ups[i:] {
			total += u.weight
		}
		n := rand.IntN(total)
		for k := i; k < len(ups); k++ {
			if n < ups[k].weight {
				ups[i], ups[k] = ups[k], ups[i]
				break
			}
			n -= ups[k].weight
		}
	}
}

// retryable reports whether an upstream answer with this status is tried
// again elsewhere.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter parses a Retry-After header (seconds or HTTP date); ok is
// false when there is none or it cannot be read.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff is the jittered exponential wait before the n-th retry (n >= 1)
// of one upstream: uniform in [0, min(base*2^(n-1), maxWait)].
func backoff(base, maxWait time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// attemptState is one member's state within one request.
type attemptState struct {
	u         *upstream
	tries     int
	notBefore time.Time // from Retry-After
	skip      bool      // asked for a wait above max_wait, or breaker refused
}

// RoundTrip sends the transaction to its model's pool: members in the
// strategy's order, skipping those whose breaker is open, moving on after
// a failure that happened before any answer byte (connection failure,
// timeout, 429, 500, 502, 503, 504) while attempts and the deadline last.
// Once an answer is returned nothing is retried: the engine streams it.
func (pu providerUpstream) roundTrip(tx *engine.Tx, r *http.Request, body []byte) (*http.Response, error) {
	p := pu.p
	model := ""
	if tx.Request != nil {
		model = tx.Request.Model
	}
	pool := p.members(pu.provider, tx.Route, model)
	if len(pool) == 0 {
		msg := "no upstream serves this route"
		if model != "" {
			msg = "no upstream serves model " + model
		}
		if !slices.ContainsFunc(p.ups, func(u *upstream) bool { return u.provider == pu.provider }) {
			// Cross-provider calls are refused, not translated: see
			// README "Provider APIs are not translated".
			msg = "no " + pu.provider + " upstream is configured, and rampart does not translate between provider APIs: " +
				"send this request to a route of an upstream's own API (" + tx.Route + " speaks the " + pu.provider + " API)"
		}
		return nil, &engine.HTTPError{Status: http.StatusNotFound, Code: "model_not_found", Message: msg}
	}
	ordered := p.order(pool, p.strategy(model))
	allOpen := true
	for _, u := range ordered {
		allOpen = allOpen && u.health.open()
	}
	if allOpen {
		for _, u := range ordered {
			p.recordAttempt(tx, engine.Attempt{Upstream: u.name, Reason: "breaker_open"})
		}
		tx.Upstream = ordered[0].name
		return nil, unavailable(model)
	}
	rc := p.routing.Retry
	maxAttempts := rc.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = len(ordered)
	}
	deadlineD := orDur(rc.Deadline, config.DefaultRetryDeadline)
	deadline := time.Now().Add(deadlineD)
	states := make([]attemptState, len(ordered))
	for i, u := range ordered {
		states[i].u = u
	}
	tracer := attemptTracerFor(tx.Ctx)
	var lastErr error
	attempts := 0
	for attempts < maxAttempts {
		now := time.Now()
		st, wait := nextMember(states, now, deadline, rc)
		if st == nil {
			break
		}
		if wait > 0 {
			tm := time.NewTimer(wait)
			select {
			case <-tx.Ctx.Done():
				tm.Stop()
				return nil, tx.Ctx.Err()
			case <-tm.C:
			}
		}
		u := st.u
		done, ok := u.health.allow()
		if !ok {
			st.skip = true
			p.recordAttempt(tx, engine.Attempt{Upstream: u.name, Reason: "breaker_open"})
			continue
		}
		attempts++
		st.tries++
		tx.Upstream = u.name
		timeout := min(u.timeout, time.Until(deadline))
		if timeout <= 0 {
			done(false) // not the upstream's fault
			break
		}
		ctx, span := tracer.start(tx.Ctx, u.name, attempts)
		saved := tx.Ctx
		tx.Ctx = ctx
		start := time.Now()
		resp, err := u.call(tx, r, body, model, timeout, p.obs)
		tx.Ctx = saved
		a := engine.Attempt{Upstream: u.name, Duration: time.Since(start)}
		if err != nil {
			if saved.Err() != nil { // the client went away
				done(false)
				a.Reason = "client_gone"
				p.recordAttempt(tx, a)
				span.end(a, false)
				return nil, err
			}
			done(true)
			a.Reason = attemptReason(err)
			p.recordAttempt(tx, a)
			span.end(a, true)
			lastErr = err
			continue
		}
		a.Status = resp.StatusCode
		if !retryable(resp.StatusCode) {
			done(false)
			p.recordAttempt(tx, a)
			span.end(a, false)
			return resp, nil
		}
		done(true)
		a.Reason = "status_" + strconv.Itoa(resp.StatusCode)
		p.recordAttempt(tx, a)
		span.end(a, true)
		if d, ok := retryAfter(resp.Header, time.Now()); ok {
			if d > orDur(rc.MaxWait, config.DefaultRetryMaxWait) {
				st.skip = true
			} else {
				st.notBefore = time.Now().Add(d)
			}
		}
		// Pass this answer on unless another attempt will be made.
		if attempts >= maxAttempts {
			return resp, nil
		}
		if next, _ := nextMember(states, time.Now(), deadline, rc); next == nil {
			return resp, nil
		}
		drain(resp.Body)
		lastErr = &engine.HTTPError{Status: resp.StatusCode, Code: engine.CodeUpstreamError,
			Message: "upstream " + u.name + " answered " + strconv.Itoa(resp.StatusCode)}
	}
	if lastErr == nil {
		return nil, unavailable(model)
	}
	return nil, lastErr
}

func unavailable(model string) error {
	msg := "every upstream for this route is unavailable (circuit breakers open); try again later"
	if model != "" {
		msg = "every upstream for model " + model + " is unavailable (circuit breakers open); try again later"
	}
	return &engine.HTTPError{Status: http.StatusServiceUnavailable, Code: CodeUpstreamUnavailable, Message: msg}
}

// nextMember picks the next member to try: the first not yet tried whose
// breaker was not found open, else the tried one that can go again
// soonest (its backoff or Retry-After within max_wait and the deadline).
// wait is how long to wait before calling it.
func nextMember(states []attemptState, now, deadline time.Time, rc config.Retry) (*attemptState, time.Duration) {
	for i := range states {
		if st := &states[i]; !st.skip && st.tries == 0 {
			return st, 0
		}
	}
	maxWait := orDur(rc.MaxWait, config.DefaultRetryMaxWait)
	var best *attemptState
	var bestWait time.Duration
	for i := range states {
		st := &states[i]
		if st.skip {
			continue
		}
		w := backoff(orDur(rc.Backoff, config.DefaultRetryBackoff), maxWait, st.tries)
		if ra := st.notBefore.Sub(now); ra > w {
			w = ra
		}
		if w > maxWait || !now.Add(w).Before(deadline) {
			continue
		}
		if best == nil || w < bestWait {
			best, bestWait = st, w
		}
	}
	return best, bestWait
}

// drain reads a little of an answer that will not be used (so its
// connection can be reused) and closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 64<<10)
	_ = rc.Close()
}

// attemptReason names a failed call for audit and metrics.
func attemptReason(err error) string {
	he, ok := err.(*engine.HTTPError)
	if !ok {
		return "error"
	}
	switch {
	case he.Code == engine.CodeUpstreamTimeout:
		return "timeout"
	case strings.Contains(he.Message, "unreachable"):
		return "connect_error"
	}
	return "connection_error"
}

func (p *proxy) recordAttempt(tx *engine.Tx, a engine.Attempt) {
	if len(tx.Attempts) < 32 {
		tx.Attempts = append(tx.Attempts, a)
	}
	if p.health != nil {
		res := a.Reason
		if res == "" {
			res = "ok"
		}
		p.health.attempts.WithLabelValues(a.Upstream, res).Inc()
	}
}

// attemptTracer starts a span per attempt under the engine's upstream
// span, when the transaction is traced.
type attemptTracer struct{ t trace.Tracer }

func attemptTracerFor(ctx context.Context) attemptTracer {
	sp := trace.SpanFromContext(ctx)
	if !sp.SpanContext().IsValid() {
		return attemptTracer{}
	}
	return attemptTracer{t: sp.TracerProvider().Tracer("github.com/rampart-ai/rampart/gateway")}
}

type attemptSpan struct{ s trace.Span }

func (at attemptTracer) start(ctx context.Context, upstream string, n int) (context.Context, attemptSpan) {
	if at.t == nil {
		return ctx, attemptSpan{}
	}
	ctx, s := at.t.Start(ctx, "upstream attempt", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("rampart.upstream", upstream), attribute.Int("rampart.attempt", n)))
	return ctx, attemptSpan{s: s}
}

func (as attemptSpan) end(a engine.Attempt, failed bool) {
	if as.s == nil {
		return
	}
	if a.Status != 0 {
		as.s.SetAttributes(attribute.Int("http.response.status_code", a.Status))
	}
	if a.Reason != "" {
		as.s.SetAttributes(attribute.String("rampart.attempt.reason", a.Reason))
	}
	if failed {
		as.s.SetStatus(codes.Error, a.Reason)
	}
	as.s.End()
}
