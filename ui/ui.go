package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/identity"
)

//go:embed assets
var assets embed.FS

// Route is one console endpoint (a net/http ServeMux pattern).
type Route struct {
	Method  string
	Pattern string
}

// Routes are every console endpoint, as registered by New. Each has a row
// in identity's permission table: the permission its pages and actions
// need through the admin API (the console checks nothing itself; the API
// decides), or "public" for sign-in, sign-out and static files.
func Routes() []Route {
	return []Route{
		{http.MethodGet, "/ui/{$}"},
		{http.MethodGet, "/ui/login"},
		{http.MethodPost, "/ui/login"},
		{http.MethodPost, "/ui/logout"},
		{http.MethodGet, "/ui/oidc/start"},
		{http.MethodGet, "/ui/oidc/callback"},
		{http.MethodGet, "/ui/static/{file}"},
		{http.MethodGet, "/ui/keys"},
		{http.MethodPost, "/ui/keys"},
		{http.MethodPost, "/ui/keys/{id}/revoke"},
		{http.MethodPost, "/ui/keys/{id}/rotate"},
		{http.MethodPost, "/ui/keys/{id}/limits"},
		{http.MethodPost, "/ui/tenants"},
		{http.MethodPost, "/ui/tenants/{id}/limits"},
		{http.MethodGet, "/ui/blocks"},
		{http.MethodPost, "/ui/blocks"},
		{http.MethodPost, "/ui/blocks/{id}/remove"},
		{http.MethodGet, "/ui/audit"},
		{http.MethodGet, "/ui/review"},
		{http.MethodPost, "/ui/review/feedback"},
		{http.MethodGet, "/ui/review/export"},
		{http.MethodGet, "/ui/scan"},
		{http.MethodPost, "/ui/scan"},
	}
}

// Status is the gateway's configuration state, shown to global admins on
// the overview.
type Status struct {
	Generation      uint64
	LoadedAt        time.Time // when the configuration in force was loaded
	RestartRequired []string  // changed settings that need a restart
	// LastResult is the last reload's outcome (success or failure; ""
	// when there was none), at LastAt, with LastError for a failure.
	LastResult string
	LastAt     time.Time
	LastError  string
}

// OIDC configures sign-in with an OpenID Connect provider (authorization
// code flow with PKCE). The ID token it returns is the session's
// credential, verified by the gateway's identity layer like any Bearer
// JWT: Issuer and ClientID are the identity layer's oidc.issuer and
// oidc.audience.
type OIDC struct {
	Issuer   string
	ClientID string
	// ClientSecret is for confidential clients ("" for a public client;
	// PKCE protects the code either way).
	ClientSecret string
	// Scopes requested besides openid (default: profile email).
	Scopes []string
}

// Options configure the console.
type Options struct {
	// API serves the admin API (/admin/...) and POST /v1/scan: the
	// gateway itself. Every page and action is a call to it.
	API http.Handler
	// Status reports the configuration generation and reloads (nil: not
	// shown).
	Status func() Status
	// OIDC enables "Sign in with your identity provider" (nil: off).
	OIDC *OIDC
	// SessionTTL is a session's lifetime from sign-in (default 30m, at
	// most 12h); sessions do not slide.
	SessionTTL time.Duration
	// MaxSessions bounds the live sessions (default 10000).
	MaxSessions int
	// HTTPClient fetches the OIDC provider's discovery document and
	// exchanges codes (default: a client with a 10s timeout).
	HTTPClient *http.Client
	// AuthFailed counts one failed console credential (a session cookie
	// the console does not know or that expired, a failed OIDC callback)
	// against the client's address, with the same count and lockout as a
	// bad API key. A non-nil answer means the address is throttled: the
	// console answers with it. Nil: failures are not counted.
	AuthFailed func(r *http.Request) *identity.Denial
	Log        *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// DefaultSessionTTL is a session's lifetime when Options.SessionTTL is 0.
const DefaultSessionTTL = 30 * time.Minute

// Bounds.
const (
	maxForm     = 1 << 20   // a form body (the playground's text)
	maxAPIBody  = 16 << 20  // an admin API answer the console reads
	maxKeyLen   = 4096      // a pasted credential
	pageSize    = 50        // audit and review rows per page
	overviewMax = 5000      // audit records the overview aggregates
	maxScanText = 256 << 10 // the playground's text
)

// Handler is the console. Mount it at /ui/ (it matches full paths).
type Handler struct {
	o        Options
	mux      *http.ServeMux
	sessions *sessions
	pages    map[string]*template.Template
	oidc     *oidcClient
	static   http.Handler
}

// CSP is the Content-Security-Policy of every console answer: nothing but
// the gateway's own files, no inline script or style, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// New returns the console.
func New(o Options) (*Handler, error) {
	if o.API == nil {
		return nil, errors.New("ui: Options.API is required")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	o.SessionTTL = min(o.SessionTTL, 12*time.Hour)
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10000
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	h := &Handler{o: o, mux: http.NewServeMux(), sessions: newSessions(o.MaxSessions, o.Now), pages: map[string]*template.Template{}}
	if o.OIDC != nil && o.OIDC.Issuer != "" {
		h.oidc = newOIDCClient(*o.OIDC, o.HTTPClient, o.Now)
	}
	for _, name := range []string{"login", "error", "overview", "keys", "blocks", "audit", "review", "scan"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "assets/templates/layout.html", "assets/templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	h.static = http.StripPrefix("/ui/static/", http.FileServerFS(static))
	handlers := map[string]http.HandlerFunc{
		"GET /ui/{$}":                  h.authed(h.overview),
		"GET /ui/login":                h.loginPage,
		"POST /ui/login":               h.login,
		"POST /ui/logout":              h.logout,
		"GET /ui/oidc/start":           h.oidcStart,
		"GET /ui/oidc/callback":        h.oidcCallback,
		"GET /ui/static/{file}":        h.serveStatic,
		"GET /ui/keys":                 h.authed(h.keys),
		"POST /ui/keys":                h.authed(h.createKey),
		"POST /ui/keys/{id}/revoke":    h.authed(h.revokeKey),
		"POST /ui/keys/{id}/rotate":    h.authed(h.rotateKey),
		"POST /ui/keys/{id}/limits":    h.authed(h.setKeyLimits),
		"POST /ui/tenants":             h.authed(h.createTenant),
		"POST /ui/tenants/{id}/limits": h.authed(h.setTenantLimits),
		"GET /ui/blocks":               h.authed(h.blocks),
		"POST /ui/blocks":              h.authed(h.createBlock),
		"POST /ui/blocks/{id}/remove":  h.authed(h.removeBlock),
		"GET /ui/audit":                h.authed(h.audit),
		"GET /ui/review":               h.authed(h.review),
		"POST /ui/review/feedback":     h.authed(h.feedback),
		"GET /ui/review/export":        h.authed(h.export),
		"GET /ui/scan":                 h.authed(h.scanPage),
		"POST /ui/scan":                h.authed(h.scan),
	}
	for _, rt := range Routes() {
		fn, ok := handlers[rt.Method+" "+rt.Pattern]
		if !ok {
			return nil, errors.New("ui: no handler for " + rt.Method + " " + rt.Pattern)
		}
		h.mux.HandleFunc(rt.Method+" "+rt.Pattern, fn)
	}
	h.mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, nil, http.StatusNotFound, "not_found", "There is no such console page.")
	})
	return h, nil
}

// ServeHTTP serves the console with its security headers on every answer.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	// A known path with another method answers the mux's 405; keep the
	// console's own error page for it.
	if _, pattern := h.mux.Handler(r); pattern == "" || pattern == "/" {
		probe := r.Clone(r.Context())
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			probe.Method = m
			if _, p := h.mux.Handler(probe); p != "" && p != "/" && m != r.Method {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			hd.Set("Allow", strings.Join(allow, ", "))
			h.errorPage(w, r, nil, http.StatusMethodNotAllowed, "method_not_allowed",
				"Method "+r.Method+" is not allowed here; use "+strings.Join(allow, " or ")+".")
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	h.static.ServeHTTP(w, r)
}

// wantsHTML reports whether the client is a browser (asks for HTML);
// other clients get the admin API's JSON answers and errors.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// apiResult is an admin API answer.
type apiResult struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx answer.
func (a *apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// decode reads the answer's JSON into v.
func (a *apiResult) decode(v any) error { return json.Unmarshal(a.Body, v) }

// message is the answer's error message ("" when it has none).
func (a *apiResult) message() (code, msg string) {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(a.Body, &e) == nil {
		return e.Error.Code, e.Error.Message
	}
	return "", http.StatusText(a.Status)
}

// capture is a bounded in-memory ResponseWriter for internal API calls.
type capture struct {
	h      http.Header
	status int
	buf    bytes.Buffer
	over   bool
}

func (c *capture) Header() http.Header { return c.h }
func (c *capture) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.buf.Len()+len(p) > maxAPIBody {
		c.over = true
		return 0, errors.New("ui: admin API answer too large")
	}
	return c.buf.Write(p)
}
func (c *capture) Flush() {}

// call makes one admin API (or /v1/scan) request with the caller's
// credential, from the caller's address (the request context carries the
// resolved client address), through the whole gateway.
func (h *Handler) call(r *http.Request, c *creds, method, path string, query url.Values, body any) *apiResult {
	var rd io.Reader = http.NoBody
	var n int64
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &apiResult{Status: http.StatusInternalServerError, Body: []byte(`{"error":{"message":"could not encode the request","code":"internal"}}`)}
		}
		rd, n = bytes.NewReader(b), int64(len(b))
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return &apiResult{Status: http.StatusBadRequest, Body: []byte(`{"error":{"message":"invalid request","code":"invalid_request"}}`)}
	}
	req.URL.RawQuery = query.Encode()
	req.RequestURI = req.URL.RequestURI()
	req.ContentLength = n
	req.Host, req.RemoteAddr, req.TLS, req.Proto, req.ProtoMajor, req.ProtoMinor = r.Host, r.RemoteAddr, r.TLS, r.Proto, r.ProtoMajor, r.ProtoMinor
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	cw := &capture{h: http.Header{}}
	h.o.API.ServeHTTP(cw, req)
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	if cw.over {
		return &apiResult{Status: http.StatusBadGateway, Body: []byte(`{"error":{"message":"the admin API's answer is too large for the console; narrow the query","code":"too_large"}}`)}
	}
	return &apiResult{Status: cw.status, Header: cw.h, Body: cw.buf.Bytes()}
}

// who is the signed-in caller (GET /admin/whoami).
type who struct {
	KeyID       string   `json:"key_id"`
	Subject     string   `json:"subject"`
	Source      string   `json:"source"`
	Tenant      string   `json:"tenant"`
	Role        string   `json:"role"`
	Global      bool     `json:"global"`
	Permissions []string `json:"permissions"`
}

// Can reports whether the caller's role holds permission p (the console
// offers only what the API would allow; the API still decides).
func (w *who) Can(p string) bool {
	for _, q := range w.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// Name is how the console shows the caller.
func (w *who) Name() string {
	if w.KeyID != "" {
		return w.KeyID
	}
	return w.Source + ":" + w.Subject
}

// reqCtx is one authenticated console request.
type reqCtx struct {
	c   *creds
	who *who
}

// authed authenticates a console request by asking the admin API who the
// credential is (every request: a revoked or blocked key's session ends
// at once), checks CSRF on state-changing requests and calls fn.
func (h *Handler) authed(fn func(w http.ResponseWriter, r *http.Request, x *reqCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := h.credentials(r)
		if c == nil {
			if _, err := r.Cookie(CookieName); err == nil {
				// A session cookie the console does not hold (guessed,
				// expired, from before a restart): a failed credential.
				h.clearCookie(w, r)
				if h.authFailed(w, r) {
					return
				}
			}
			h.signInFirst(w, r)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				h.errorPage(w, r, nil, http.StatusBadRequest, "invalid_request", "The form could not be read.")
				return
			}
			if c.sess != nil && !h.csrfOK(r, c.sess) {
				h.errorPage(w, r, nil, http.StatusForbidden, "csrf", "This form is stale or came from another site; reload the page and try again.")
				return
			}
		}
		res := h.call(r, c, http.MethodGet, "/admin/whoami", nil, nil)
		if !res.OK() {
			h.apiFail(w, r, c, nil, res)
			return
		}
		var me who
		if err := res.decode(&me); err != nil {
			h.errorPage(w, r, nil, http.StatusBadGateway, "bad_answer", "The admin API's answer could not be read.")
			return
		}
		fn(w, r, &reqCtx{c: c, who: &me})
	}
}

// authFailed counts a failed console credential; true when the address
// is throttled and the 429 was written.
func (h *Handler) authFailed(w http.ResponseWriter, r *http.Request) bool {
	if h.o.AuthFailed == nil {
		return false
	}
	d := h.o.AuthFailed(r)
	if d == nil {
		return false
	}
	for k, v := range d.Headers {
		w.Header().Set(k, v)
	}
	h.errorPage(w, r, nil, d.Status, d.Code, d.Message)
	return true
}

// signInFirst answers a request without credentials: a browser goes to
// the sign-in page, an API client gets the admin API's 401.
func (h *Handler) signInFirst(w http.ResponseWriter, r *http.Request) {
	if wantsHTML(r) && r.Method == http.MethodGet {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	h.errorPage(w, r, nil, http.StatusUnauthorized, "invalid_api_key", "Sign in first: send 'Authorization: Bearer <key>' or use the sign-in page.")
}

// apiFail answers a refused or failed admin API call: its JSON as is for
// API clients; for a browser an error page (or, when the credential no
// longer authenticates, the end of the session and the sign-in page).
func (h *Handler) apiFail(w http.ResponseWriter, r *http.Request, c *creds, me *who, res *apiResult) {
	if res.Status == http.StatusUnauthorized && c != nil && c.sess != nil {
		h.sessions.remove(c.sess)
		h.clearCookie(w, r)
		if wantsHTML(r) {
			http.Redirect(w, r, "/ui/login?m=ended", http.StatusSeeOther)
			return
		}
	}
	if !wantsHTML(r) {
		if ct := res.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		for _, k := range []string{"Retry-After", "X-Request-Id"} {
			if v := res.Header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
		return
	}
	code, msg := res.message()
	h.errorPage(w, r, me, res.Status, code, msg)
}

// errorPage answers an error: an HTML page for a browser, the admin API's
// JSON error shape otherwise.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, me *who, status int, code, msg string) {
	if !wantsHTML(r) {
		typ := "invalid_request_error"
		switch {
		case status == http.StatusUnauthorized:
			typ = "authentication_error"
		case status == http.StatusForbidden:
			typ = "permission_error"
		case status >= 500:
			typ = "server_error"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
		return
	}
	h.render(w, r, status, "error", &page{Title: http.StatusText(status), Who: me, Error: msg,
		Data: map[string]any{"Status": status, "Code": code}})
}

// page is what every template gets.
type page struct {
	Title string
	Nav   string
	Who   *who
	CSRF  string
	Flash string
	Error string
	Data  any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if c := h.credentials(r); c != nil && c.sess != nil {
		p.CSRF = c.sess.csrf
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.o.Log.Error("ui: template", "page", name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "The page could not be rendered.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// formInt parses an optional integer form field.
func formInt(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}
