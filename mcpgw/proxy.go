package mcpgw

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/sse"
	"github.com/rampart-ai/rampart/store"
)

// RoutePrefix is where the MCP servers are served: /mcp/<name>.
const RoutePrefix = "/mcp/"

// KindMCP is the conversation kind of an MCP call in audit records.
const KindMCP conv.Kind = "mcp"

// Options are what the gateway hands the MCP proxy.
type Options struct {
	Config config.MCP
	// Guard runs the headers phase of the admission layers (network,
	// identity, blocks) for a request; see engine.Engine.Guard.
	Guard func(r *http.Request, route string) (*engine.Guarded, *engine.Refusal)
	// Admit runs the admission layers' request phase (rate limits) for one
	// call of g; nil: no rate limits.
	Admit func(g *engine.Guarded) *engine.Refusal
	// Scanner is the gateway's scanner: the injection detector (input) and
	// the output guard's secret and PII recognisers (output).
	Scanner *scan.Scanner
	// Pins keeps pinned tool definitions (the gateway's store).
	Pins store.MCPToolStore
	// Credential returns the upstream credential of a server ("" none).
	Credential func(server config.MCPServer) string
	// Alert is told about a withheld tool definition (incident webhooks);
	// nil: log and metrics only.
	Alert func(ctx context.Context, server, tool, reason string)
	// SessionKey binds MCP session ids to their callers (HMAC key; the
	// gateway's content key, shared by replicas). Nil: a random key, so
	// sessions are bound per process.
	SessionKey []byte
	// Transport carries upstream requests (default: a dedicated
	// http.Transport).
	Transport http.RoundTripper
	Logger    *slog.Logger
	Metrics   *Metrics
}

// Gateway fronts the configured MCP servers. It is safe for concurrent
// use; Close releases its idle upstream connections.
type Gateway struct {
	cfg     config.MCP
	servers map[string]*server
	guard   func(r *http.Request, route string) (*engine.Guarded, *engine.Refusal)
	admit   func(g *engine.Guarded) *engine.Refusal
	scan    *scan.Scanner
	pins    store.MCPToolStore
	poison  *poisonChecker
	alertFn func(ctx context.Context, server, tool, reason string)
	client  *http.Client
	log     *slog.Logger
	m       *Metrics
	monitor bool

	sessionKey []byte

	mu          sync.Mutex
	schemas     map[string]*jsonschema.Schema
	poisonCache map[string]poisonResult
}

type server struct {
	cfg   config.MCPServer
	route string
	cred  string
}

// New builds the proxy from a validated configuration. It opens nothing.
func New(o Options) (*Gateway, error) {
	if o.Guard == nil {
		return nil, errors.New("mcpgw: no admission guard")
	}
	if o.Pins == nil && o.Config.PinEnabled() {
		return nil, errors.New("mcpgw: tool pinning needs a store")
	}
	pc, err := newPoisonChecker(o.Scanner)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt := o.Transport
	if rt == nil {
		rt = &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 0,
			ForceAttemptHTTP2: true}
	}
	m := o.Metrics
	if m == nil {
		m = NewMetrics()
	}
	gw := &Gateway{cfg: o.Config, servers: map[string]*server{}, guard: o.Guard, admit: o.Admit, scan: o.Scanner,
		pins: o.Pins, poison: pc, alertFn: o.Alert, client: &http.Client{Transport: rt, CheckRedirect: noRedirect},
		log: log, m: m, monitor: o.Config.Mode == "monitor",
		schemas: map[string]*jsonschema.Schema{}, poisonCache: map[string]poisonResult{}}
	gw.sessionKey = append([]byte(nil), o.SessionKey...)
	if len(gw.sessionKey) == 0 {
		gw.sessionKey = make([]byte, 32)
		if _, err := rand.Read(gw.sessionKey); err != nil {
			return nil, err
		}
	}
	if gw.cfg.MaxMessageBytes <= 0 {
		gw.cfg.MaxMessageBytes = config.DefaultMCPMaxMessageBytes
	}
	for _, sc := range o.Config.Servers {
		// Zero values (a Config built in code) get the file defaults.
		if sc.Timeout <= 0 {
			sc.Timeout = config.DefaultMCPTimeout
		}
		if sc.StreamIdleTimeout <= 0 {
			sc.StreamIdleTimeout = config.DefaultMCPStreamIdle
		}
		if sc.AuthHeader == "" {
			sc.AuthHeader = "Authorization"
		}
		s := &server{cfg: sc, route: RoutePrefix + sc.Name}
		if o.Credential != nil {
			s.cred = o.Credential(sc)
		}
		gw.servers[sc.Name] = s
	}
	return gw, nil
}

// noRedirect keeps the proxy from following an upstream redirect (which
// could carry the credential elsewhere).
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Close releases idle upstream connections.
func (gw *Gateway) Close() error {
	gw.client.CloseIdleConnections()
	return nil
}

// Servers lists the served server names.
func (gw *Gateway) Servers() []string {
	out := make([]string, 0, len(gw.servers))
	for _, s := range gw.cfg.Servers {
		out = append(out, s.Name)
	}
	return out
}

// ServeHTTP serves /mcp/<name>: POST carries JSON-RPC messages to the
// server, GET opens the server's stream, DELETE ends a session.
func (gw *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, RoutePrefix)
	s, ok := gw.servers[name]
	if !ok {
		writeHTTPError(w, http.StatusNotFound, nil, CodeInvalidRequest, "unknown MCP server "+quoteName(name), nil)
		return
	}
	switch r.Method {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeHTTPError(w, http.StatusMethodNotAllowed, nil, CodeInvalidRequest, "method "+r.Method+" is not allowed on "+s.route, nil)
		return
	}
	g, ref := gw.guard(r, s.route)
	if ref != nil {
		for k, v := range ref.Headers {
			w.Header().Set(k, v)
		}
		writeHTTPError(w, ref.Status, nil, CodeBlocked, ref.Message, map[string]string{"code": ref.Code})
		gw.m.calls.WithLabelValues(s.cfg.Name, r.Method, "", "refused").Inc()
		return
	}
	tx := g.Tx
	tx.Upstream = s.cfg.Name
	tx.Request = &conv.Conversation{Kind: KindMCP, Provider: "mcp"}
	w.Header().Set("X-Request-Id", tx.ID)
	t := &call{gw: gw, s: s, g: g, w: w, r: r, c: callerOf(tx)}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				g.End()
				panic(v)
			}
			gw.log.Error("mcp proxy panic", "request_id", tx.ID, "panic", fmt.Sprint(v))
			t.fail(http.StatusInternalServerError, nil, CodeInternalError, "internal error")
		}
		if tx.Status == 0 {
			tx.Status = http.StatusOK
		}
		g.End()
	}()
	if !t.serverAllowed() {
		return
	}
	switch r.Method {
	case http.MethodPost:
		t.post()
	case http.MethodGet:
		t.stream()
	case http.MethodDelete:
		t.forwardPlain()
	}
}

// callerOf is the identity the allow rules see.
func callerOf(tx *engine.Tx) caller {
	if tx.Identity == nil {
		return caller{}
	}
	return caller{role: tx.Identity.Role, tenant: tx.Identity.Tenant}
}

// call is one HTTP request to an MCP route.
type call struct {
	gw      *Gateway
	s       *server
	g       *engine.Guarded
	w       http.ResponseWriter
	r       *http.Request
	c       caller
	started bool
	// methods maps the id of each forwarded request to its method and
	// tool, to name what a response answers.
	methods map[string]string
}

// defaultServerRoles may use a server that names no roles: the roles
// that may call models.
var defaultServerRoles = []string{"user", "developer", "admin"}

func (t *call) serverAllowed() bool {
	cfg := t.s.cfg
	roles := cfg.Roles
	if len(roles) == 0 {
		roles = defaultServerRoles
	}
	ok := t.g.Tx.Identity == nil || contains(roles, t.c.role)
	if ok && len(cfg.Tenants) > 0 && t.c.tenant != "*" && t.g.Tx.Identity != nil {
		ok = contains(cfg.Tenants, t.c.tenant)
	}
	if ok {
		return true
	}
	d := engine.Decision{Action: engine.Block, Status: http.StatusForbidden, Code: "mcp_server_not_allowed",
		Rule: RuleServerAccess, Findings: []engine.Finding{{Layer: Layer, Rule: RuleServerAccess, Severity: engine.SeverityMedium,
			Text: "caller's role or tenant may not use this server"}}}
	// Access control is not subject to the MCP checks' monitor mode.
	t.g.Decide(Layer, engine.PhaseHeaders, false, d, 0)
	t.fail(http.StatusForbidden, nil, CodeBlocked, "this key may not use MCP server "+quoteName(cfg.Name))
	return false
}

// fail answers with an HTTP error status and a JSON-RPC error body.
func (t *call) fail(status int, id json.RawMessage, code int, msg string) {
	if t.started {
		return
	}
	t.started = true
	t.g.Tx.Status = status
	writeHTTPError(t.w, status, id, code, msg, nil)
}

func writeHTTPError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string, data any) {
	body := errorMessage(id, code, msg, data)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// readBody reads the POST body, bounded.
func (t *call) readBody() ([]byte, bool) {
	if ce := t.r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		t.fail(http.StatusUnsupportedMediaType, nil, CodeInvalidRequest, "Content-Encoding "+quoteName(ce)+" is not accepted: send the body uncompressed")
		return nil, false
	}
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(t.r.Header.Get("Content-Type"), ";", 2)[0]))
	if ct != "application/json" {
		t.fail(http.StatusUnsupportedMediaType, nil, CodeInvalidRequest, "Content-Type must be application/json")
		return nil, false
	}
	max := t.gw.cfg.MaxMessageBytes
	if t.r.ContentLength > max {
		t.fail(http.StatusRequestEntityTooLarge, nil, CodeInvalidRequest, fmt.Sprintf("body over %d bytes", max))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(t.w, t.r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			t.fail(http.StatusRequestEntityTooLarge, nil, CodeInvalidRequest, fmt.Sprintf("body over %d bytes", max))
		} else {
			t.fail(http.StatusBadRequest, nil, CodeParseError, "cannot read the request body")
		}
		return nil, false
	}
	t.g.Tx.RequestBytes = int64(len(body))
	return body, true
}

// decide records the MCP checks' verdict on the messages of one phase and
// reports whether it is enforced (not monitor mode).
func (t *call) decide(p engine.Phase, v *verdict, msgIndex int) bool {
	for i := range v.findings {
		if v.findings[i].Message == 0 {
			v.findings[i].Message = msgIndex
		}
	}
	if v.unavailable != nil {
		t.g.Failed(Layer, p, v.unavailable, 0)
		return true
	}
	if !v.block && len(v.findings) == 0 && !v.changed {
		return false
	}
	d := engine.Decision{Action: engine.Flag, Findings: v.findings, Rule: firstRule(v.findings)}
	switch {
	case v.block:
		d.Action, d.Status, d.Code, d.Reason = engine.Block, http.StatusForbidden, "mcp_blocked", v.reason
	case v.changed:
		d.Action = engine.Modify
	}
	return t.g.Decide(Layer, p, t.gw.monitor, d, 0) || (v.changed && !t.gw.monitor)
}

func firstRule(fs []engine.Finding) string {
	if len(fs) > 0 {
		return fs[0].Rule
	}
	return ""
}

// post handles a POST: check each client message, forward what passes,
// check what the server answers.
func (t *call) post() {
	body, ok := t.readBody()
	if !ok {
		return
	}
	t.g.SetContentMAC(body)
	msgs, batch, err := ParseBody(body)
	if err != nil {
		var pe *ParseError
		code := CodeParseError
		if errors.As(err, &pe) {
			code = pe.Code
		}
		t.g.Decide(Layer, engine.PhaseRequest, false, engine.Decision{Action: engine.Block, Status: http.StatusBadRequest,
			Code: "invalid_jsonrpc", Rule: RuleBadMessage, Findings: []engine.Finding{{Layer: Layer, Rule: RuleBadMessage,
				Severity: engine.SeverityLow, Text: err.Error()}}}, 0)
		t.fail(http.StatusBadRequest, nil, code, err.Error())
		return
	}
	t.name(msgs)
	if ref := t.admitCall(); ref != nil {
		return
	}
	var errs []json.RawMessage // answers rampart gives itself (blocked requests)
	var fwd []json.RawMessage
	t.methods = map[string]string{}
	anyChanged, calls := false, 0
	for i, m := range msgs {
		v := &verdict{}
		if m.Method == "tools/call" {
			// One tool call per HTTP request, so that per-tool rate limits
			// (which see the request's one name) and audit records cannot
			// be sidestepped by batching calls.
			if calls++; calls > 1 {
				v.add(engine.Finding{Layer: Layer, Rule: RuleBadMessage, Severity: engine.SeverityLow, Text: "second tool call in a batch"})
				v.refuse(CodeInvalidRequest, "rampart takes one tools/call per request: send the calls one by one")
			}
		}
		tool := ""
		if !v.block {
			ctx, cancel := context.WithTimeout(t.r.Context(), storeTimeout)
			tool = t.checkClient(ctx, m, v)
			cancel()
		}
		enforced := t.decide(engine.PhaseRequest, v, i)
		t.gw.m.observe(t.s.cfg.Name, m.Method, tool, v, t.gw.monitor)
		if v.unavailable != nil {
			if m.ID != nil {
				errs = append(errs, errorMessage(m.ID, CodeUnavailable, "rampart could not check this call; try again", nil))
			}
			continue
		}
		if v.block && enforced {
			if m.ID != nil {
				errs = append(errs, errorMessage(m.ID, v.blockCode, v.reason, nil))
			}
			continue
		}
		raw := m.Raw
		if v.changed && enforced {
			if nb, err := m.encode(); err == nil {
				raw, anyChanged = nb, true
			}
		}
		if m.IsRequest() {
			t.methods[m.IDKey()] = strings.TrimSpace(m.Method + " " + tool)
		}
		fwd = append(fwd, raw)
	}
	if len(fwd) == 0 {
		t.answerLocally(errs, batch)
		return
	}
	out := body
	if len(fwd) != len(msgs) || anyChanged {
		out = joinBatch(fwd, batch)
	}
	resp, ok := t.roundTrip(http.MethodPost, out)
	if !ok {
		return
	}
	defer resp.Body.Close()
	t.relay(resp, errs, batch)
}

// name records what the call is in the audit record and for the rate
// limits (Conversation.Model): "tools/call <tool>" for a request that
// calls a tool (a batch carries at most one call, see post), else the
// first message's method ("response" for a client's answer).
func (t *call) name(msgs []*Message) {
	name := ""
	for _, m := range msgs {
		if m.Method == "tools/call" {
			var p callParams
			name = m.Method
			if json.Unmarshal(m.Params, &p) == nil && p.Name != "" {
				name += " " + truncate(p.Name, 120)
			}
			break
		}
	}
	if name == "" {
		name = msgs[0].Method
	}
	if name == "" {
		name = "response"
	}
	t.g.Tx.Request.Model = name
}

// admitCall runs the rate limits for this request (once per HTTP request).
func (t *call) admitCall() *engine.Refusal {
	if t.gw.admit == nil {
		return nil
	}
	ref := t.gw.admit(t.g)
	if ref != nil {
		for k, v := range ref.Headers {
			t.w.Header().Set(k, v)
		}
		t.started = true
		t.g.Tx.Status = ref.Status
		writeHTTPError(t.w, ref.Status, nil, CodeBlocked, ref.Message, map[string]string{"code": ref.Code})
	}
	return ref
}

// storeTimeout bounds the store calls of one message's checks.
const storeTimeout = 2 * time.Second

// checkClient checks one message from the client and returns the tool it
// calls ("" for other methods).
func (t *call) checkClient(ctx context.Context, m *Message, v *verdict) string {
	tool := ""
	switch {
	case m.Method == "tools/call":
		tool = t.gw.checkCall(ctx, t.s, t.c, m, v)
	case m.Method != "" && !knownMethod(m.Method) && t.gw.cfg.UnknownMethods == "block":
		v.add(engine.Finding{Layer: Layer, Rule: RuleUnknownMethod, Severity: engine.SeverityLow, Text: "method not in the MCP specification"})
		v.refuse(CodeBlocked, "method "+quoteName(m.Method)+" is not allowed by rampart's policy")
	}
	if !v.block && v.unavailable == nil {
		t.gw.checkParams(t.s, m, v)
	}
	return tool
}

// knownMethods are the methods of the MCP specification (2025-11-25 and
// earlier revisions).
var knownMethods = map[string]bool{
	"initialize": true, "ping": true, "tools/list": true, "tools/call": true, "prompts/list": true, "prompts/get": true,
	"resources/list": true, "resources/templates/list": true, "resources/read": true, "resources/subscribe": true,
	"resources/unsubscribe": true, "completion/complete": true, "logging/setLevel": true, "sampling/createMessage": true,
	"elicitation/create": true, "roots/list": true, "tasks/get": true, "tasks/result": true, "tasks/list": true,
	"tasks/cancel": true,
}

func knownMethod(m string) bool { return knownMethods[m] || strings.HasPrefix(m, "notifications/") }

// answerLocally answers a POST none of whose messages was forwarded.
func (t *call) answerLocally(errs []json.RawMessage, batch bool) {
	t.started = true
	if len(errs) == 0 {
		t.g.Tx.Status = http.StatusAccepted
		t.w.WriteHeader(http.StatusAccepted)
		return
	}
	t.writeJSON(http.StatusOK, joinBatch(errs, batch))
}

// writeJSON sends a JSON answer with status.
func (t *call) writeJSON(status int, body []byte) {
	t.started = true
	t.g.Tx.Status = status
	h := t.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	t.w.WriteHeader(status)
	n, _ := t.w.Write(body)
	t.g.Tx.ResponseBytes += int64(n)
}

// forwardHeaders are the client headers the upstream gets (the MCP
// session and protocol headers, content negotiation); everything else,
// the client's rampart key and cookies above all, stays here.
var forwardHeaders = []string{"Accept", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id"}

// backHeaders are the upstream headers the client gets.
var backHeaders = []string{"Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Cache-Control", "Retry-After", "Www-Authenticate"}

// roundTrip sends the request upstream; on failure it answers the client.
func (t *call) roundTrip(method string, body []byte) (*http.Response, bool) {
	cfg := t.s.cfg
	ctx := t.r.Context()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cfg.URL, rd)
	if err != nil {
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "bad upstream URL")
		return nil, false
	}
	for _, h := range forwardHeaders {
		if v := t.r.Header.Values(h); len(v) > 0 {
			req.Header[http.CanonicalHeaderKey(h)] = append([]string(nil), v...)
		}
	}
	if sid := t.r.Header.Get("Mcp-Session-Id"); sid != "" {
		up, ok := t.gw.openSession(t.s, t.callerID(), sid)
		if !ok {
			// Not a session this caller opened through rampart: as for an
			// expired session, the client starts a new one.
			t.fail(http.StatusNotFound, nil, CodeInvalidRequest, "unknown MCP session for this caller; initialize a new one")
			return nil, false
		}
		req.Header.Set("Mcp-Session-Id", up)
	}
	if t.s.cred != "" {
		if strings.EqualFold(cfg.AuthHeader, "Authorization") {
			req.Header.Set("Authorization", "Bearer "+t.s.cred)
		} else {
			req.Header.Set(cfg.AuthHeader, t.s.cred)
		}
	}
	hctx, cancel := context.WithCancel(ctx)
	req = req.WithContext(hctx)
	headerTimer := time.AfterFunc(cfg.Timeout, cancel)
	resp, err := t.gw.client.Do(req)
	if err != nil {
		headerTimer.Stop()
		cancel()
		t.g.Tx.Err = err
		if ctx.Err() != nil {
			t.started, t.g.Tx.Status = true, 499
			return nil, false
		}
		status, msg := http.StatusBadGateway, "the MCP server could not be reached"
		if hctx.Err() != nil {
			status, msg = http.StatusGatewayTimeout, "the MCP server did not answer in time"
		}
		t.gw.m.upstreamErrors.WithLabelValues(cfg.Name).Inc()
		t.fail(status, nil, CodeInternalError, msg)
		return nil, false
	}
	// The header timer keeps running for whole answers (relay stops it
	// for streams and resets it to the idle timeout per event).
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel, timer: headerTimer}
	return resp, true
}

// cancelBody releases the request context and its timer with the body.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
}

func (b *cancelBody) Close() error {
	b.timer.Stop()
	b.cancel()
	return b.ReadCloser.Close()
}

// copyBack copies the upstream headers the client may see.
func (t *call) copyBack(resp *http.Response) {
	h := t.w.Header()
	for _, k := range backHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
		}
	}
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		h.Set("Mcp-Session-Id", t.gw.sealSession(t.s, t.callerID(), sid))
	}
}

// callerID names the caller a session is bound to.
func (t *call) callerID() string {
	id := t.g.Tx.Identity
	switch {
	case id == nil:
		return ""
	case id.KeyID != "":
		return "key:" + id.KeyID
	}
	return "sub:" + id.Tenant + "/" + id.Subject
}

// sealSession binds an upstream session id to the server and caller: the
// client gets "<id>.<tag>", tag an HMAC under the gateway's key, so that a
// session id learnt by another caller (another tenant) is refused rather
// than forwarded with rampart's credential.
func (gw *Gateway) sealSession(s *server, caller, sid string) string {
	return sid + "." + gw.sessionTag(s, caller, sid)
}

// openSession checks a client's session id and returns the upstream's.
func (gw *Gateway) openSession(s *server, caller, sealed string) (string, bool) {
	i := strings.LastIndexByte(sealed, '.')
	if i <= 0 {
		return "", false
	}
	sid, tag := sealed[:i], sealed[i+1:]
	want := gw.sessionTag(s, caller, sid)
	return sid, hmac.Equal([]byte(tag), []byte(want))
}

func (gw *Gateway) sessionTag(s *server, caller, sid string) string {
	m := hmac.New(sha256.New, gw.sessionKey)
	m.Write([]byte("mcp-session\x00" + s.cfg.Name + "\x00" + caller + "\x00" + sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// relay sends the server's answer to a POST back, checked.
func (t *call) relay(resp *http.Response, errs []json.RawMessage, batch bool) {
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		t.gw.log.Warn("mcp upstream refused rampart's credential", "server", t.s.cfg.Name, "status", resp.StatusCode)
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server refused rampart's credential (upstream_auth_error)")
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent:
		if len(errs) > 0 {
			t.answerLocally(errs, batch)
			return
		}
		t.copyBack(resp)
		t.started = true
		t.g.Tx.Status = resp.StatusCode
		t.w.WriteHeader(resp.StatusCode)
	case resp.StatusCode/100 != 2:
		t.passError(resp)
	case isEventStream(resp.Header.Get("Content-Type")):
		resp.Body.(*cancelBody).timer.Stop()
		t.relayStream(resp, errs)
	default:
		t.relayJSON(resp, errs, batch)
	}
}

// passError relays an upstream error status with a bounded body (JSON-RPC
// error bodies are checked like any message).
func (t *call) passError(resp *http.Response) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server's answer could not be read")
		return
	}
	t.copyBack(resp)
	msgs, _, err := ParseBody(body)
	if err != nil || len(msgs) != 1 || msgs[0].Error == nil {
		// Not a JSON-RPC error: say only the status, never the server's text.
		t.fail(resp.StatusCode, nil, CodeInternalError, fmt.Sprintf("the MCP server answered HTTP %d", resp.StatusCode))
		return
	}
	out, _ := t.checkServerMessages(msgs, 0)
	t.writeJSON(resp.StatusCode, out[0])
}

// relayJSON checks a whole JSON answer.
func (t *call) relayJSON(resp *http.Response, errs []json.RawMessage, batch bool) {
	max := t.gw.cfg.MaxMessageBytes
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil || int64(len(body)) > max {
		t.g.Tx.Err = errors.New("upstream answer unreadable or too large")
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server's answer could not be read or is too large")
		return
	}
	msgs, _, err := ParseBody(body)
	if err != nil {
		t.g.Tx.Err = err
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server's answer is not valid JSON-RPC")
		return
	}
	out, changed := t.checkServerMessages(msgs, 0)
	if len(errs) > 0 {
		out, changed = append(out, errs...), true
		batch = true
	}
	if changed {
		body = joinBatch(out, batch)
	}
	t.copyBack(resp)
	t.writeJSON(resp.StatusCode, body)
}

// checkServer checks one message from the server.
func (t *call) checkServer(m *Message, idx int) (json.RawMessage, bool) {
	v := &verdict{}
	method := t.methods[m.IDKey()]
	phase := engine.PhaseResponse
	if t.r.Method == http.MethodGet {
		phase = engine.PhaseStream
	}
	switch {
	case m.IsResponse() && m.Result != nil:
		var result map[string]any
		dec := json.NewDecoder(bytes.NewReader(m.Result))
		dec.UseNumber()
		if dec.Decode(&result) != nil {
			return m.Raw, false // not an object: nothing a model reads
		}
		ctx, cancel := context.WithTimeout(t.r.Context(), storeTimeout)
		t.gw.checkResult(ctx, t.s, t.c, result, v)
		cancel()
		if v.changed && !v.block {
			if b, err := json.Marshal(result); err == nil {
				m.Fields["result"] = b
			}
		}
	case m.IsResponse() && m.Error != nil:
		// An error's message and data reach the model as the tool's
		// answer as often as a result does.
		var eo map[string]any
		dec := json.NewDecoder(bytes.NewReader(m.Error))
		dec.UseNumber()
		if dec.Decode(&eo) != nil {
			return errorMessage(m.ID, CodeInternalError, "the MCP server sent a malformed error", nil), true
		}
		t.gw.checkData(eo, []string{"message", "data"}, v)
		if v.changed && !v.block {
			if b, err := json.Marshal(eo); err == nil {
				m.Fields["error"] = b
			}
		}
	case m.Method == "sampling/createMessage" || m.Method == "elicitation/create":
		// The server asks the client's model (or user) something: the
		// text is the server's, so it is checked as data; rampart cannot
		// answer for the client, so this is recorded, not blocked.
		var params any
		dec := json.NewDecoder(bytes.NewReader(m.Params))
		dec.UseNumber()
		if dec.Decode(&params) == nil && t.gw.scanData(params, v) {
			v.add(engine.Finding{Layer: Layer, Rule: RuleInjection, Severity: engine.SeverityHigh,
				Text: "injection in a server request to the client (" + m.Method + "): recorded, not blocked"})
		}
		t.decideFlagOnly(phase, v, idx)
		return m.Raw, false
	default:
		return m.Raw, false
	}
	enforced := t.decide(phase, v, idx)
	tool := ""
	if rest, ok := strings.CutPrefix(method, "tools/call "); ok {
		tool = rest
	}
	t.gw.m.observe(t.s.cfg.Name, "result", tool, v, t.gw.monitor)
	switch {
	case v.unavailable != nil:
		return errorMessage(m.ID, CodeUnavailable, "rampart could not check the server's answer; try again", nil), true
	case v.block && enforced:
		if t.gw.cfg.InjectedResult == "replace" && hasRule(v.findings, RuleInjection) {
			return neutralResult(m.ID, v.reason), true
		}
		return errorMessage(m.ID, v.blockCode, v.reason, nil), true
	case v.changed && enforced:
		b, err := m.encode()
		if err != nil {
			return errorMessage(m.ID, CodeInternalError, "rampart could not re-encode the answer", nil), true
		}
		return b, true
	}
	return m.Raw, false
}

// decideFlagOnly records findings without blocking.
func (t *call) decideFlagOnly(p engine.Phase, v *verdict, idx int) {
	v.block = false
	if len(v.findings) > 0 {
		t.decide(p, v, idx)
	}
}

// neutralResult is a tool result that says what happened instead of
// carrying the server's content.
func neutralResult(id json.RawMessage, reason string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": map[string]any{
		"isError": true,
		"content": []any{map[string]any{"type": "text", "text": "[rampart: " + reason + "]"}},
	}})
	return b
}

// relayStream checks an SSE answer (a POST's, or the server stream) event
// by event, writing each as soon as it passed.
func (t *call) relayStream(resp *http.Response, errs []json.RawMessage) {
	t.copyBack(resp)
	t.started = true
	t.g.Tx.Status = resp.StatusCode
	h := t.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Del("Content-Length")
	t.w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(t.w)
	write := func(b []byte) bool {
		n, err := t.w.Write(b)
		t.g.Tx.ResponseBytes += int64(n)
		if err != nil {
			return false
		}
		_ = rc.Flush()
		return true
	}
	for _, e := range errs {
		if !write(sse.AppendEvent(nil, "message", e)) {
			return
		}
	}
	body := resp.Body.(*cancelBody)
	idle := time.AfterFunc(t.s.cfg.StreamIdleTimeout, body.cancel)
	defer idle.Stop()
	rd := sse.NewReader(resp.Body, int(t.gw.cfg.MaxMessageBytes))
	idx := 0
	for {
		ev, err := rd.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && t.r.Context().Err() == nil {
				t.g.Tx.Err = err
				t.gw.log.Warn("mcp stream ended", "server", t.s.cfg.Name, "error", err.Error())
			}
			return
		}
		idle.Reset(t.s.cfg.StreamIdleTimeout)
		if !ev.HasData || len(bytes.TrimSpace(ev.Data)) == 0 {
			if !write(ev.Raw) {
				return
			}
			continue
		}
		msgs, batch, perr := ParseBody(ev.Data)
		if perr != nil {
			// Not JSON-RPC: nothing may reach the client unchecked.
			t.g.Tx.Err = perr
			t.gw.log.Warn("mcp stream event is not JSON-RPC; dropped", "server", t.s.cfg.Name)
			continue
		}
		out, changed := t.checkServerMessages(msgs, idx)
		idx += len(msgs)
		raw := ev.Raw
		if changed {
			raw = rewriteData(ev.Raw, joinBatch(out, batch))
		}
		if !write(raw) {
			return
		}
	}
}

// checkServerMessages checks messages from the server (numbered from base
// in findings) and returns them as they may reach the client: blocked
// answers replaced by errors.
func (t *call) checkServerMessages(msgs []*Message, base int) ([]json.RawMessage, bool) {
	var out []json.RawMessage
	changed := false
	for i, m := range msgs {
		raw, ch := t.checkServer(m, base+i)
		out = append(out, raw)
		changed = changed || ch
	}
	return out, changed
}

// rewriteData rebuilds an SSE event with new data, keeping its other
// fields (id, event, retry) so that resumption still works.
func rewriteData(raw, data []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(raw, []byte("\n")) {
		l := bytes.TrimRight(line, "\r")
		if len(l) == 0 || bytes.HasPrefix(l, []byte("data")) {
			continue
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	for _, l := range bytes.Split(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(l)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// stream serves GET: the server's own stream of requests and
// notifications (and resumed answers), checked event by event.
func (t *call) stream() {
	t.g.Tx.Request.Model = "stream"
	if ref := t.admitCall(); ref != nil {
		return
	}
	t.methods = map[string]string{}
	resp, ok := t.roundTrip(http.MethodGet, nil)
	if !ok {
		return
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server refused rampart's credential (upstream_auth_error)")
	case resp.StatusCode/100 == 2 && isEventStream(resp.Header.Get("Content-Type")):
		resp.Body.(*cancelBody).timer.Stop()
		t.relayStream(resp, nil)
	case resp.StatusCode/100 == 2:
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server's stream is not an event stream")
	default:
		t.passError(resp)
	}
}

// forwardPlain serves DELETE (the end of a session): no body either way.
func (t *call) forwardPlain() {
	t.g.Tx.Request.Model = "session/delete"
	if ref := t.admitCall(); ref != nil {
		return
	}
	resp, ok := t.roundTrip(http.MethodDelete, nil)
	if !ok {
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		t.fail(http.StatusBadGateway, nil, CodeInternalError, "the MCP server refused rampart's credential (upstream_auth_error)")
		return
	}
	t.copyBack(resp)
	t.started = true
	t.g.Tx.Status = resp.StatusCode
	t.w.WriteHeader(resp.StatusCode)
}

func isEventStream(ct string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/event-stream")
}

// alert reports a withheld tool definition.
func (gw *Gateway) alert(ctx context.Context, s *server, tool, reason string) {
	gw.log.Warn("mcp tool definition withheld until an administrator approves it",
		"server", s.cfg.Name, "tool", truncate(tool, 120), "reason", truncate(reason, 200))
	gw.m.pending.WithLabelValues(s.cfg.Name).Inc()
	if gw.alertFn != nil {
		gw.alertFn(ctx, s.cfg.Name, tool, reason)
	}
}

// withheld counts a definition kept from the client.
func (gw *Gateway) withheld(s *server, kind, reason string) {
	gw.m.withheld.WithLabelValues(s.cfg.Name, kind, reason).Inc()
}
