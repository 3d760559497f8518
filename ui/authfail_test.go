package ui_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/ui"
)

// TestAuthFailedHook: a failed OIDC callback and an unknown session
// cookie each count once through Options.AuthFailed; a throttled answer
// is sent as the console's 429 with its headers; a request without any
// credential is not a failure.
func TestAuthFailedHook(t *testing.T) {
	calls, throttle := 0, false
	h, err := ui.New(ui.Options{
		API:  http.NotFoundHandler(),
		OIDC: &ui.OIDC{Issuer: "https://idp.invalid", ClientID: "rampart"},
		AuthFailed: func(*http.Request) *identity.Denial {
			calls++
			if throttle {
				return &identity.Denial{Status: http.StatusTooManyRequests, Code: "too_many_failed_attempts",
					Message: "slow down", Headers: map[string]string{"Retry-After": "300"}}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, cookie *http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Accept", "text/html")
		if cookie != nil {
			r.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := get("/ui/keys", nil); w.Code != http.StatusSeeOther || calls != 0 {
		t.Fatalf("no credential: %d, %d failures counted", w.Code, calls)
	}
	if w := get("/ui/oidc/callback?state=forged&code=x", nil); w.Code != http.StatusSeeOther || calls != 1 {
		t.Fatalf("forged OIDC state: %d, %d failures counted", w.Code, calls)
	}
	if w := get("/ui/keys", &http.Cookie{Name: ui.CookieName, Value: "guessed"}); w.Code != http.StatusSeeOther || calls != 2 {
		t.Fatalf("unknown session cookie: %d, %d failures counted", w.Code, calls)
	}
	throttle = true
	for _, path := range []string{"/ui/oidc/callback?state=forged&code=x", "/ui/keys"} {
		w := get(path, &http.Cookie{Name: ui.CookieName, Value: "guessed"})
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "300" {
			t.Errorf("%s while throttled: %d %v", path, w.Code, w.Header())
		}
	}
}
