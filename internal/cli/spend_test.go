package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A key created with --budget-usd 0.001/day gets 429 budget_exceeded once
// the mock upstream's usage, priced, used the budget up; rampart spend
// shows what was spent, by hand: each answer is 1000 prompt and 500
// completion tokens of gpt-4o-mini ($0.15 and $0.60 per 1M) = $0.00045.
func TestBudgetUSDAndSpendCommand(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}`)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	g, srv := startGateway(t, fmt.Sprintf("data_dir: %q\naudit: {sync: true}\nupstreams:\n  - {name: mock, provider: openai, base_url: %q, api_key_env: MOCK_KEY}\n", dir, up.URL+"/v1"))

	if rc, _, e := runCLI(t, "tenants", "create", "acme", "--url", srv.URL, "--budget-usd", "100/month"); rc != 0 {
		t.Fatalf("tenants create: %s", e)
	}
	rc, out, e := runCLI(t, "keys", "create", "--url", srv.URL, "--tenant", "acme", "--name", "bot", "--budget-usd", "0.001/day")
	key := keyIn(out)
	if rc != 0 || key == "" {
		t.Fatalf("keys create: %d %s %s", rc, out, e)
	}
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`
	// $0.00045, $0.0009 spent: admitted; then $0.00135 >= $0.001: refused.
	for i, want := range []int{200, 200, 200, 429} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
		if want == 429 && (!strings.Contains(string(b), "budget_exceeded") || !strings.Contains(string(b), "key-override") ||
			strings.Contains(string(b), key) || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("429: %v %s", resp.Header, b)
		}
	}
	_, list, _ := runCLI(t, "keys", "list", "--url", srv.URL, "--tenant", "acme")
	if !strings.Contains(list, "budget_usd_day=$0.001") {
		t.Fatalf("keys list: %s", list)
	}

	rc, js, e := runCLI(t, "spend", "--url", srv.URL, "--by", "tenant,model", "--json")
	var got spendRows
	if rc != 0 || json.Unmarshal([]byte(js), &got) != nil || len(got.Data) != 1 {
		t.Fatalf("spend --json: %d %s %s", rc, js, e)
	}
	r := got.Data[0]
	// Three answered requests (the refused one cost nothing).
	if r.Tenant != "acme" || r.Model != "gpt-4o-mini" || r.CostNanos != 3*450_000 || r.CostUSD != "0.001350" || r.PromptTokens != 3000 {
		t.Fatalf("spend row %+v", r)
	}
	rc, table, _ := runCLI(t, "spend", "--url", srv.URL, "--by", "key")
	if rc != 0 || !strings.Contains(table, "COST_USD") || !strings.Contains(table, "0.001350") {
		t.Fatalf("spend table: %s", table)
	}
	if rc, _, _ := runCLI(t, "spend", "--url", srv.URL, "--by", "day,month"); rc != 2 {
		t.Fatal("bad grouping accepted")
	}
	g.Close()
	// Local mode reads the same store.
	rc, table, e = runCLI(t, "spend", "--data", dir, "--by", "tenant")
	if rc != 0 || !strings.Contains(table, "acme") || !strings.Contains(table, "0.001350") {
		t.Fatalf("local spend: %d %s %s", rc, table, e)
	}
}

func TestBudgetUSDFlagBad(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"25", "25/week", "0/day", "x/day", "2000000/month", "0.0000001/day"} {
		if rc, _, _ := runCLI(t, "keys", "create", "--tenant", "t", "--name", "n", "--data", dir, "--budget-usd", v); rc != 2 {
			t.Errorf("--budget-usd %s: exit %d, want 2", v, rc)
		}
	}
	for _, c := range []struct {
		in   string
		key  string
		want int64
	}{{"25/month", "budget_usd_month", 25_000_000}, {"$2.50/day", "budget_usd_day", 2_500_000}, {"-1/month", "budget_usd_month", -1}} {
		k, n, err := parseBudgetUSD(c.in)
		if err != nil || k != c.key || n != c.want {
			t.Errorf("%s: %s %d %v", c.in, k, n, err)
		}
	}
}

func FuzzParseBudgetUSD(f *testing.F) {
	for _, s := range []string{"25/month", "$2.50/day", "-1/month", "0/day", "1e9/day", "NaN/day", "Inf/month", "0.0000001/day", "/day"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, n, err := parseBudgetUSD(s)
		if err != nil {
			return
		}
		if (k != "budget_usd_day" && k != "budget_usd_month") || (n != -1 && (n < 1 || n > maxBudgetUSD*1_000_000)) {
			t.Fatalf("%q: %s %d", s, k, n)
		}
	})
}
