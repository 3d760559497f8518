package incident

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Webhook request headers.
const (
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256, keyed with
	// the webhook's secret, of the timestamp header's value, ".", and the
	// body.
	HeaderSignature = "X-Rampart-Signature"
	// HeaderTimestamp is the Unix time (seconds) of the attempt; it is
	// inside the MAC so that a captured request cannot be replayed later.
	HeaderTimestamp = "X-Rampart-Timestamp"
	// HeaderEvent names the event (incident.alert, ...).
	HeaderEvent = "X-Rampart-Event"
	// HeaderDelivery is the alert's id (the same on every retry), so that
	// receivers can drop duplicates.
	HeaderDelivery = "X-Rampart-Delivery"
)

// MinSecretLen is the shortest webhook secret accepted.
const MinSecretLen = 16

// closeGrace is how long Close keeps delivering queued alerts.
const closeGrace = 5 * time.Second

// Sign returns the X-Rampart-Signature value for body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook request as a receiver should: the signature
// (compared in constant time) over the timestamp and body, and a timestamp
// within tolerance of now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("incident: bad timestamp header")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("incident: timestamp outside tolerance (replay?)")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("incident: signature mismatch")
	}
	return nil
}

// delivery is one alert queued for one webhook.
type delivery struct {
	id, event string
	body      []byte
}

// notifier delivers alerts to one webhook from its own goroutine, with a
// bounded queue and bounded, backed-off retries.
type notifier struct {
	cfg    Webhook
	secret []byte
	hc     *http.Client
	log    *slog.Logger
	now    func() time.Time
	m      *metrics

	mu     sync.RWMutex // guards closed and sending on queue
	closed bool
	queue  chan delivery
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	delivered, failed atomic.Uint64
}

func newNotifier(cfg Webhook, secret []byte, log *slog.Logger, now func() time.Time, m *metrics) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{cfg: cfg, secret: secret, log: log, now: now, m: m,
		queue: make(chan delivery, cfg.QueueSize), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		hc: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
}

func (n *notifier) wants(event string) bool { return slices.Contains(n.cfg.Events, event) }

// enqueue queues d without waiting; it reports false (and counts a drop)
// when the queue is full or the notifier closed.
func (n *notifier) enqueue(d delivery) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		n.m.webhookDropped.Inc()
		return false
	}
	select {
	case n.queue <- d:
		return true
	default:
		n.m.webhookDropped.Inc()
		return false
	}
}

func (n *notifier) run() {
	defer close(n.done)
	for d := range n.queue {
		n.deliver(d)
	}
}

// deliver tries d up to MaxAttempts times with exponential backoff and
// jitter. Each attempt is signed afresh with its own timestamp.
func (n *notifier) deliver(d delivery) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = n.cfg.InitialBackoff
	b.MaxInterval = n.cfg.MaxBackoff
	b.RandomizationFactor = 0.5
	b.Multiplier = 2
	attempts := 0
	_, err := backoff.Retry(n.ctx, func() (struct{}, error) {
		attempts++
		return struct{}{}, n.attempt(d)
	}, backoff.WithBackOff(b), backoff.WithMaxTries(uint(n.cfg.MaxAttempts)), backoff.WithMaxElapsedTime(0))
	if err != nil {
		n.failed.Add(1)
		n.m.webhookFailed.Inc()
		n.log.Warn("incident: webhook delivery failed; alert dropped", "webhook", redactURL(n.cfg.URL),
			"event", d.event, "delivery", d.id, "attempts", attempts, "error", err.Error())
		return
	}
	n.delivered.Add(1)
	n.m.webhookDelivered.Inc()
}

func (n *notifier) attempt(d delivery) error {
	ts := n.now().Unix()
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(d.body))
	if err != nil {
		return backoff.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rampart-incident/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(n.secret, ts, d.body))
	req.Header.Set(HeaderEvent, d.event)
	req.Header.Set(HeaderDelivery, d.id)
	resp, err := n.hc.Do(req)
	if err != nil {
		// The error names the URL; keep only its kind.
		return errors.New("request failed: " + errKind(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return backoff.Permanent(fmt.Errorf("receiver answered %d (not retried)", resp.StatusCode))
}

// close stops accepting alerts, keeps delivering queued ones for up to
// closeGrace, then abandons the rest.
func (n *notifier) close() {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	t := time.AfterFunc(closeGrace, n.cancel)
	<-n.done
	t.Stop()
	n.cancel()
}

func errKind(err error) string {
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return "error"
}

// redactURL keeps a webhook URL's scheme and host only (paths often carry
// tokens, e.g. chat-service hook URLs).
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		return u[:i+3] + rest + "/…"
	}
	return "(invalid url)"
}
