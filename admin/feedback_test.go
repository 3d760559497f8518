package admin_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// Review feedback: recorded only on an audit record the caller may see,
// for a layer and rule the record has; exported as rampart eval rows.
func TestFeedback(t *testing.T) {
	e := setup(t)
	e.srv.Config.Handler = admin.NewHandler(e.db, e.svc, nil, admin.WithFeedback(e.db))
	for _, id := range []string{"acme", "beta"} {
		if c, out := e.call(t, e.global, "POST", "/admin/tenants", map[string]any{"id": id}); c != 201 {
			t.Fatal(c, out)
		}
	}
	_, acme := e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "a", "tenant": "acme", "role": "developer"})
	acmeKey := acme["key"].(string)
	_, view := e.call(t, e.global, "POST", "/admin/keys", map[string]any{"name": "v", "tenant": "acme", "role": "viewer"})
	viewKey := view["key"].(string)
	recs := []*store.AuditRecord{
		{RequestID: "req-acme", Tenant: "acme", Time: time.Now(), Route: "/v1/chat/completions", Status: 200,
			Decisions: []engine.Outcome{{Layer: "injection", Action: "block", Monitor: true, Rule: "ignore-previous"}}},
		{RequestID: "req-beta", Tenant: "beta", Time: time.Now(), Route: "/v1/chat/completions", Status: 200,
			Decisions: []engine.Outcome{{Layer: "injection", Action: "block", Monitor: true, Rule: "ignore-previous"}}},
	}
	if err := e.db.WriteAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	fb := func(req, rule, text string) map[string]any {
		return map[string]any{"request_id": req, "layer": "injection", "rule": rule, "verdict": "false_positive", "text": text}
	}
	for _, tc := range []struct {
		key  string
		body any
		want int
	}{
		{acmeKey, fb("req-beta", "ignore-previous", ""), 404}, // another tenant's record is not found
		{acmeKey, fb("req-none", "ignore-previous", ""), 404},
		{acmeKey, fb("req-acme", "other-rule", ""), 400},
		{acmeKey, map[string]any{"request_id": "req-acme", "layer": "injection", "verdict": "maybe"}, 400},
		{acmeKey, map[string]any{"request_id": "req-acme", "layer": "injection", "verdict": "false_positive", "role": "root"}, 400},
		{viewKey, fb("req-acme", "ignore-previous", ""), 403}, // a viewer judges nothing
		{acmeKey, fb("req-acme", "ignore-previous", "Please ignore my previous typo."), 201},
		{e.global, fb("req-beta", "ignore-previous", ""), 201},
	} {
		if c, out := e.call(t, tc.key, "POST", "/admin/feedback", tc.body); c != tc.want {
			t.Errorf("feedback %v: %d %v, want %d", tc.body, c, out, tc.want)
		}
	}
	c, out := e.call(t, acmeKey, "GET", "/admin/feedback", nil)
	if data, _ := out["data"].([]any); c != 200 || len(data) != 1 {
		t.Fatalf("acme list: %d %v", c, out)
	}
	if c, _ := e.call(t, acmeKey, "GET", "/admin/feedback?tenant=beta", nil); c != 403 {
		t.Errorf("acme lists beta's feedback: %d", c)
	}
	// The export is rampart eval's format; feedback without text is left out.
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin/feedback?format=jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+e.global)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rows, err := detect.DecodeRows(bytes.NewReader(body))
	if err != nil || len(rows) != 1 || rows[0].Text != "Please ignore my previous typo." || rows[0].Label != 0 {
		t.Fatalf("export: %v %q", err, body)
	}
	if resp.Header.Get("X-Rampart-Feedback-Without-Text") != "1" {
		t.Errorf("export: without-text header %q", resp.Header.Get("X-Rampart-Feedback-Without-Text"))
	}
	// whoami says who the caller is.
	c, out = e.call(t, viewKey, "GET", "/admin/whoami", nil)
	if c != 200 || out["tenant"] != "acme" || out["role"] != "viewer" || out["global"] != false {
		t.Errorf("whoami: %d %v", c, out)
	}
}

// The audit search filters: decision, layer, rule, request id, and their
// bounds; a viewer's own-trail restriction stays.
func TestAuditFilters(t *testing.T) {
	e := setup(t)
	recs := []*store.AuditRecord{
		{RequestID: "r1", Time: time.Now(), Route: "/v1/chat/completions", Status: 200,
			Decisions: []engine.Outcome{{Layer: "injection", Action: "block", Monitor: true, Rule: "x"}}},
		{RequestID: "r2", Time: time.Now(), Route: "/v1/chat/completions", Status: 400, Blocked: true,
			Decisions: []engine.Outcome{{Layer: "pii", Action: "block", Rule: "email"}}},
	}
	if err := e.db.WriteAudit(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	ids := func(q string) string {
		t.Helper()
		c, out := e.call(t, e.global, "GET", "/admin/audit?"+q, nil)
		if c != 200 {
			t.Fatalf("%s: %d %v", q, c, out)
		}
		var b strings.Builder
		for _, r := range out["data"].([]any) {
			b.WriteString(r.(map[string]any)["request_id"].(string))
		}
		return b.String()
	}
	for q, want := range map[string]string{
		"decision=would_block": "r1", "decision=blocked": "r2", "layer=pii": "r2", "rule=x": "r1",
		"request_id=r2": "r2", "layer=injection&decision=blocked": "",
	} {
		if got := ids(q); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	for _, q := range []string{"decision=maybe", "layer=" + strings.Repeat("x", 300), "before_id=-1"} {
		if c, _ := e.call(t, e.global, "GET", "/admin/audit?"+q, nil); c != 400 {
			t.Errorf("%s: %d, want 400", q, c)
		}
	}
}
