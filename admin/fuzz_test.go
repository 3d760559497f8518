package admin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAdminBodies: arbitrary bodies on every write endpoint never crash
// the handler nor cause a server error.
func FuzzAdminBodies(f *testing.F) {
	for _, s := range []string{`{"name":"a","role":"user"}`, `{"id":"acme"}`, `{"grace":"1h"}`, `{`, `[]`, `{"expires_in":"-1d"}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e := setup(t)
		for _, p := range []string{"/admin/keys", "/admin/tenants", "/admin/keys/key_x/rotate"} {
			req := httptest.NewRequest(http.MethodPost, p, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.global)
			resp, err := http.DefaultClient.Do(mustURL(req, e.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s: %d", p, resp.StatusCode)
			}
		}
	})
}

func mustURL(r *http.Request, base string) *http.Request {
	out, _ := http.NewRequest(r.Method, base+r.URL.Path, r.Body)
	out.Header = r.Header
	return out
}
