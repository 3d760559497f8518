package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// CookieName is the session cookie. It holds an opaque random id; the
// credential stays on the server.
const CookieName = "rampart_ui"

// session is one signed-in browser.
type session struct {
	key     [32]byte    // sha256 of the cookie's id (the map key)
	header  http.Header // the credential: Authorization: Bearer ...
	csrf    string
	expires time.Time
}

// sessions holds the live sessions in memory (bounded): a restart or
// another replica signs everyone out.
type sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]*session
	max int
	now func() time.Time
}

func newSessions(max int, now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, max: max, now: now}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create stores a session for the credential and returns the cookie id;
// false when the bound is reached even after dropping expired sessions.
func (s *sessions) create(header http.Header, ttl time.Duration) (string, *session, bool) {
	id := randomToken()
	ss := &session{key: sha256.Sum256([]byte(id)), header: header, csrf: randomToken(), expires: s.now().Add(ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		now := s.now()
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.max {
			return "", nil, false
		}
	}
	s.m[ss.key] = ss
	return id, ss, true
}

// get returns the live session of a cookie id (nil when unknown or
// expired; an expired one is dropped).
func (s *sessions) get(id string) *session {
	if id == "" || len(id) > 128 {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[k]
	if ss == nil {
		return nil
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, k)
		return nil
	}
	return ss
}

func (s *sessions) remove(ss *session) {
	s.mu.Lock()
	delete(s.m, ss.key)
	s.mu.Unlock()
}

// Len is the number of stored sessions (tests).
func (s *sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// creds is the credential of one console request: the request's own
// Authorization or X-Api-Key header (an API client; no cookie, so no CSRF
// exposure), else the session's.
type creds struct {
	header http.Header
	sess   *session
}

func (h *Handler) credentials(r *http.Request) *creds {
	for _, k := range []string{"Authorization", "X-Api-Key"} {
		if v := r.Header.Values(k); len(v) > 0 {
			return &creds{header: http.Header{k: v}}
		}
	}
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	ss := h.sessions.get(ck.Value)
	if ss == nil {
		return nil
	}
	return &creds{header: ss.header, sess: ss}
}

// setCookie sends the session cookie: HttpOnly, SameSite=Strict, scoped
// to /ui/, Secure over TLS, expiring with the session.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, id string, ss *session) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/ui/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, Expires: ss.expires, MaxAge: int(time.Until(ss.expires).Seconds())})
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/ui/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// sameOrigin reports whether a state-changing request comes from the
// console's own pages: Sec-Fetch-Site, when sent, is same-origin (or none:
// typed by the user), and Origin, when sent, is this host.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Behind a TLS-terminating proxy the browser's origin is https while
	// the gateway sees http: the host must still match.
	return u.Scheme == scheme || u.Scheme == "https"
}

// csrfOK checks a cookie-authenticated state-changing request: same
// origin and the session's CSRF token in the form.
func (h *Handler) csrfOK(r *http.Request, ss *session) bool {
	if !sameOrigin(r) {
		return false
	}
	tok := r.PostFormValue("csrf")
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(ss.csrf)) == 1
}

// loginPage shows the sign-in form.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	p := &page{Title: "Sign in", Data: map[string]any{"OIDC": h.oidc != nil}}
	switch r.URL.Query().Get("m") {
	case "ended":
		p.Flash = "Your session ended: the credential no longer signs in (revoked, expired, rotated out) or the session expired."
	case "out":
		p.Flash = "You are signed out."
	case "oidc":
		p.Error = "Sign-in with the identity provider failed; try again."
	}
	h.render(w, r, http.StatusOK, "login", p)
}

// login signs in with an API key: the key is checked by the admin API
// (GET /admin/whoami: authentication, lockout, blocklist) and kept only
// in the server-side session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.loginFailed(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !sameOrigin(r) {
		h.loginFailed(w, r, http.StatusForbidden, "Sign-in must come from this console's own page.")
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	if key == "" || len(key) > maxKeyLen {
		h.loginFailed(w, r, http.StatusBadRequest, "Paste a rampart API key.")
		return
	}
	h.startSessionVia(w, r, http.Header{"Authorization": {"Bearer " + key}}, h.o.SessionTTL, false)
}

// startSessionVia checks a credential with the admin API and, when it
// authenticates, starts a session for it. viaPage answers with a page
// that continues to the console instead of a redirect: after a provider's
// cross-site redirect, a redirect would still be cross-site and the
// browser would not send the SameSite=Strict cookie.
func (h *Handler) startSessionVia(w http.ResponseWriter, r *http.Request, hdr http.Header, ttl time.Duration, viaPage bool) {
	res := h.call(r, &creds{header: hdr}, http.MethodGet, "/admin/whoami", nil, nil)
	if !res.OK() {
		_, msg := res.message()
		h.loginFailed(w, r, res.Status, msg)
		return
	}
	id, ss, ok := h.sessions.create(hdr, ttl)
	if !ok {
		h.loginFailed(w, r, http.StatusServiceUnavailable, "Too many console sessions are open; try again later.")
		return
	}
	h.setCookie(w, r, id, ss)
	if viaPage {
		h.render(w, r, http.StatusOK, "login", &page{Title: "Signed in", Data: map[string]any{"Continue": true}})
		return
	}
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

func (h *Handler) loginFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if !wantsHTML(r) {
		h.errorPage(w, r, nil, status, "sign_in_failed", msg)
		return
	}
	h.render(w, r, status, "login", &page{Title: "Sign in", Error: msg, Data: map[string]any{"OIDC": h.oidc != nil}})
}

// logout ends the session (same-origin only, with its CSRF token).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	_ = r.ParseForm()
	if c := h.credentials(r); c != nil && c.sess != nil {
		if !h.csrfOK(r, c.sess) {
			h.errorPage(w, r, nil, http.StatusForbidden, "csrf", "This form is stale or came from another site; reload the page and try again.")
			return
		}
		h.sessions.remove(c.sess)
	}
	h.clearCookie(w, r)
	http.Redirect(w, r, "/ui/login?m=out", http.StatusSeeOther)
}
