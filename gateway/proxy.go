package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/tidwall/sjson"
)

// defaultAnthropicVersion is sent when the client names none.
const defaultAnthropicVersion = "2023-06-01"

// upstream is one configured provider endpoint.
type upstream struct {
	name     string
	provider string
	base     string // base URL without trailing slash, e.g. https://api.openai.com/v1
	key      string // provider credential (never logged)
	models   []string
	routes   []string
	timeout  time.Duration
	idle     time.Duration
	rt       http.RoundTripper
	aliases  map[string]string
	weight   int
	priority int
	health   *upstreamHealth
	auth     upstreamAuth // how the credential is sent (azure.go)
	query    url.Values   // query string of the base URL (Azure api-version)
}

func newUpstream(c config.Upstream, getenv func(string) string) (*upstream, error) {
	if _, ok := config.Providers[c.Provider]; !ok {
		return nil, fmt.Errorf("upstream %q: unknown provider %q", c.Name, c.Provider)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream %q: base_url %q is not an http(s) URL", c.Name, c.BaseURL)
	}
	for _, m := range c.Models {
		if _, err := path.Match(m, ""); err != nil {
			return nil, fmt.Errorf("upstream %q: bad model pattern %q", c.Name, m)
		}
	}
	up := &upstream{
		name:     c.Name,
		provider: c.Provider,
		base:     strings.TrimRight(c.BaseURL, "/"),
		models:   c.Models,
		routes:   c.Routes,
		timeout:  orDur(c.Timeout, config.DefaultUpstreamTimeout),
		idle:     orDur(c.StreamIdleTimeout, config.DefaultStreamIdleTimeout),
		aliases:  c.ModelAliases,
		weight:   max(c.Weight, 1),
		priority: c.Priority,
	}
	if up.name == "" {
		up.name = c.Provider
	}
	keyEnv := c.APIKeyEnv
	if keyEnv == "" && c.APIKeySecret == "" {
		keyEnv = config.Providers[c.Provider]
	}
	switch {
	case c.APIKeySecret != "":
		// A stored secret (see secrets.go); it must be readable.
		if up.key = getenv(secretRef(c.APIKeySecret)); up.key == "" {
			return nil, fmt.Errorf("upstream %q: api_key_secret %q cannot be read (no master key, no secret store, or no such secret)", up.name, c.APIKeySecret)
		}
	case keyEnv != "":
		up.key = getenv(keyEnv)
	}
	up.rt = newTransport(orDur(c.ConnectTimeout, config.DefaultConnectTimeout))
	if err := up.setAuth(c, getenv); err != nil {
		return nil, err
	}
	return up, nil
}

func orDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// newTransport is tuned for many concurrent keep-alive connections to few
// hosts. Compression is off so that streams are never held in a decoder.
func newTransport(connect time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		WriteBufferSize:       16 << 10,
		ReadBufferSize:        16 << 10,
	}
}

// providerUpstream binds a proxy to one route's provider.
type providerUpstream struct {
	p        *proxy
	provider string
}

// RoundTrip is roundTrip (router.go) with the upstream's refusal of
// rampart's own credential turned into 502 upstream_auth_error: a 401 or
// 403 passed on would make the client's SDK report the client's rampart key
// as invalid, and the provider's text (which can carry a masked key
// fragment) would reach the client. The provider's answer is logged here,
// bounded, and never sent on.
func (pu providerUpstream) RoundTrip(tx *engine.Tx, r *http.Request, body []byte) (*http.Response, error) {
	resp, err := pu.roundTrip(tx, r, body)
	if err != nil || (resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden) {
		return resp, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if pu.p.log != nil {
		pu.p.log.Error("upstream refused rampart's credential", "upstream", tx.Upstream, "status", resp.StatusCode,
			"request_id", tx.ID, "upstream_body", string(b))
	}
	return nil, &engine.HTTPError{Status: http.StatusBadGateway, Code: engine.CodeUpstreamAuth,
		Message: "the model provider refused the gateway's credentials for upstream " + tx.Upstream +
			" (status " + strconv.Itoa(resp.StatusCode) + "); your rampart key is fine, the gateway's operator must fix the upstream key",
		Err: fmt.Errorf("upstream %s answered %d", tx.Upstream, resp.StatusCode)}
}

// hop-by-hop headers, client credentials, headers the transport sets, the
// client's forwarding headers (its claimed address chain is not sent on:
// the upstream sees the gateway) and Content-Encoding (the gateway decodes
// request bodies before inspecting them and sends them on uncompressed).
var dropRequestHeader = map[string]bool{
	"Authorization": true, "X-Api-Key": true, "Api-Key": true, "X-Goog-Api-Key": true, "Proxy-Authorization": true, "Cookie": true,
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Host": true, "Content-Length": true, "Accept-Encoding": true,
	"Expect": true, "Content-Encoding": true,
	"X-Forwarded-For": true, "Forwarded": true, "X-Forwarded-Host": true, "X-Forwarded-Proto": true,
	"X-Forwarded-Port": true, "X-Forwarded-Prefix": true, "X-Real-Ip": true, "True-Client-Ip": true,
	"Cf-Connecting-Ip": true, "X-Client-Ip": true, "X-Cluster-Client-Ip": true, "Via": true,
}

// newRequest builds the request for one attempt at u, with u's credential
// and, when u has an alias for the model, the model renamed in the body.
func (u *upstream) newRequest(ctx context.Context, tx *engine.Tx, r *http.Request, body []byte, model string) (*http.Request, error) {
	route := tx.Route
	if route == modelPath { // the validated id (routePath), as the client sent it
		route = r.URL.EscapedPath()
	}
	target := ""
	if u.provider == "gemini" {
		target = u.geminiTarget(tx, model)
	} else {
		target = u.target(route, r.URL.RawQuery)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, target, nil)
	if err != nil {
		return nil, &engine.HTTPError{Status: http.StatusBadGateway, Code: engine.CodeUpstreamError, Message: "bad upstream URL", Err: err}
	}
	if alias, ok := u.aliases[model]; ok && model != "" && len(body) > 0 && u.provider != "gemini" {
		nb, err := sjson.SetBytes(body, "model", alias)
		if err != nil {
			return nil, &engine.HTTPError{Status: http.StatusInternalServerError, Code: engine.CodeInternal, Message: "could not apply the model alias", Err: err}
		}
		body = nb
	}
	if len(body) > 0 || r.Method == http.MethodPost {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		b := body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	h := make(http.Header, len(r.Header)+2)
	for k, v := range r.Header {
		if !dropRequestHeader[k] {
			h[k] = v
		}
	}
	if len(body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if err := u.auth.apply(ctx, h, u.key); err != nil {
		return nil, err
	}
	if u.provider == "anthropic" && h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", defaultAnthropicVersion)
	}
	req.Header = h
	return req, nil
}

// call makes one attempt at u. timeout bounds the wait for the answer
// (for a whole answer, the whole call; for a stream, its headers).
func (u *upstream) call(tx *engine.Tx, r *http.Request, body []byte, model string, timeout time.Duration, obs engine.Observer) (*http.Response, error) {
	ctx, cancel := context.WithCancel(tx.Ctx)
	req, err := u.newRequest(ctx, tx, r, body, model)
	if err != nil {
		cancel()
		return nil, err
	}
	t := &upstreamCall{u: u, cancel: cancel, obs: obs, start: time.Now(), timeout: timeout}
	u.health.inFlight.Add(1)
	t.timer = time.AfterFunc(timeout, t.expire)
	resp, err := u.rt.RoundTrip(req)
	if err != nil {
		t.stop()
		t.release()
		if obs != nil {
			obs.Upstream(u.name, 0, time.Since(t.start))
		}
		return nil, t.classify(err)
	}
	if obs != nil {
		obs.Upstream(u.name, resp.StatusCode, time.Since(t.start))
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "text/event-stream") {
		// Streams: the timeout covered the wait for headers; from now on
		// the upstream may not stay silent for longer than idle.
		t.stream = true
		t.timer.Reset(u.idle)
	}
	t.rc = resp.Body
	resp.Body = t
	return resp, nil
}

// upstreamCall is one call's response body with its timeouts.
type upstreamCall struct {
	u        *upstream
	timeout  time.Duration
	released atomic.Bool
	rc       io.ReadCloser
	cancel   context.CancelFunc
	timer    *time.Timer
	timedOut atomic.Bool
	stream   bool
	obs      engine.Observer
	start    time.Time
}

func (t *upstreamCall) expire() {
	t.timedOut.Store(true)
	t.cancel()
}

func (t *upstreamCall) stop() {
	t.timer.Stop()
	t.cancel()
}

func (t *upstreamCall) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if t.stream && n > 0 {
		t.timer.Reset(t.u.idle)
	}
	if err != nil && err != io.EOF {
		return n, t.classify(err)
	}
	return n, err
}

func (t *upstreamCall) Close() error {
	t.stop()
	t.release()
	return t.rc.Close()
}

// release ends the call's count in flight, once.
func (t *upstreamCall) release() {
	if t.released.CompareAndSwap(false, true) {
		t.u.health.inFlight.Add(-1)
	}
}

// classify turns a transport error into the answer the client gets.
func (t *upstreamCall) classify(err error) error {
	if t.timedOut.Load() {
		what := fmt.Sprintf("upstream %s did not answer within %s", t.u.name, t.timeout)
		if t.stream {
			what = fmt.Sprintf("upstream %s sent nothing for %s", t.u.name, t.u.idle)
		}
		return &engine.HTTPError{Status: http.StatusGatewayTimeout, Code: engine.CodeUpstreamTimeout, Message: what, Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &engine.HTTPError{Status: http.StatusGatewayTimeout, Code: engine.CodeUpstreamTimeout,
			Message: "upstream " + t.u.name + " timed out", Err: err}
	}
	msg := "connection to upstream " + t.u.name + " failed"
	if oe := (*net.OpError)(nil); errors.As(err, &oe) && oe.Op == "dial" {
		msg = "upstream " + t.u.name + " is unreachable"
	}
	return &engine.HTTPError{Status: http.StatusBadGateway, Code: engine.CodeUpstreamError, Message: msg, Err: err}
}
