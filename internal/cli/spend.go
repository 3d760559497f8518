package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/pricing"
	"github.com/rampart-ai/rampart/store"
)

func init() {
	register("spend", "spend in USD per tenant, key, user, model and day or month (table or --json)", spendCmd)
}

// spendRows is the answer of GET /admin/spend.
type spendRows struct {
	Object string           `json:"object"`
	Data   []spendRowOnWire `json:"data"`
}

type spendRowOnWire struct {
	store.SpendRow
	CostUSD string `json:"cost_usd"`
}

func spendCmd(env *Env) int {
	fs := flag.NewFlagSet("spend", flag.ContinueOnError)
	var st storeTarget
	st.flags(fs)
	var remoteURL, adminKey string
	fs.StringVar(&remoteURL, "url", "", "gateway base URL: ask its admin API (GET /admin/spend) instead of opening the store")
	fs.StringVar(&adminKey, "admin-key", "", "admin key for --url (default $"+adminKeyEnv+")")
	q := url.Values{}
	for _, f := range []struct{ name, param, help string }{
		{"since", "since", "first UTC day, YYYY-MM-DD (default: the first of this month)"},
		{"until", "until", "day after the last, YYYY-MM-DD (default: none)"},
		{"tenant", "tenant", "only this tenant"},
		{"key", "key", "only this API key id"},
		{"user", "user", "only this user"},
		{"model", "model", "only this model"},
		{"by", "group_by", "group by, comma-separated: day or month, tenant, key, user, model; or none (default tenant,model)"},
		{"limit", "limit", "at most this many rows, largest cost first (default 1000)"},
	} {
		fs.Func(f.name, f.help, func(s string) error { q.Set(f.param, s); return nil })
	}
	asJSON := fs.Bool("json", false, "print JSON ({\"object\":\"list\",\"data\":[...]}) instead of a table")
	usage := "spend [--since 2026-12-01] [--until 2027-01-01] [--tenant T] [--key ID] [--user U] [--model M] [--by tenant,model] [--json] [--data DIR | --postgres DSN | --config FILE | --url URL]"
	if _, code, ok := parseCommand(env, fs, usage, 0); !ok {
		return code
	}
	f, err := admin.SpendQuery(q, time.Now())
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart spend:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rows spendRows
	if remoteURL != "" {
		err = spendRemote(ctx, remoteURL, adminKey, q, &rows)
	} else {
		err = spendLocal(ctx, &st, f, &rows)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart spend:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if rows.Data == nil {
			rows.Data = []spendRowOnWire{}
		}
		rows.Object = "list"
		if err := enc.Encode(rows); err != nil {
			return 1
		}
		return 0
	}
	if err := printSpend(env.Stdout, f.GroupBy, rows.Data); err != nil {
		return 1
	}
	return 0
}

func spendLocal(ctx context.Context, st *storeTarget, f store.SpendFilter, out *spendRows) error {
	db, _, err := st.openMode(ctx, true)
	if err != nil {
		return err
	}
	defer db.(io.Closer).Close()
	ss, ok := db.(store.SpendStore)
	if !ok {
		return errors.New("this store keeps no spend")
	}
	rows, err := ss.QuerySpend(ctx, f)
	if err != nil {
		return err
	}
	for _, r := range rows {
		out.Data = append(out.Data, spendRowOnWire{SpendRow: r, CostUSD: pricing.USD(r.CostNanos)})
	}
	return nil
}

func spendRemote(ctx context.Context, base, key string, q url.Values, out *spendRows) error {
	if key == "" {
		key = os.Getenv(adminKeyEnv)
	}
	if key == "" {
		return fmt.Errorf("--url needs --admin-key or $%s", adminKeyEnv)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("--url must be an http(s) URL")
	}
	r := &remote{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{Timeout: 30 * time.Second}}
	return r.do(ctx, http.MethodGet, "/admin/spend?"+q.Encode(), nil, out)
}

// printSpend writes a table: the grouped columns, then the sums.
func printSpend(w io.Writer, groups []string, rows []spendRowOnWire) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var head []string
	for _, g := range groups {
		head = append(head, strings.ToUpper(g))
	}
	head = append(head, "REQUESTS", "UNPRICED", "PROMPT_TOKENS", "COMPLETION_TOKENS", "COST_USD")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	var total int64
	for _, r := range rows {
		var cells []string
		for _, g := range groups {
			v := map[string]string{store.GroupDay: r.Period, store.GroupMonth: r.Period, store.GroupTenant: r.Tenant,
				store.GroupKey: r.KeyID, store.GroupUser: r.Subject, store.GroupModel: r.Model}[g]
			if v == "" {
				v = "-"
			}
			cells = append(cells, v)
		}
		cells = append(cells, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Unpriced, 10),
			strconv.FormatInt(r.PromptTokens, 10), strconv.FormatInt(r.CompletionTokens, 10), pricing.USD(r.CostNanos))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
		total += r.CostNanos
	}
	if len(rows) > 1 {
		cells := make([]string, len(head))
		for i := range cells {
			cells[i] = ""
		}
		cells[0] = "TOTAL"
		cells[len(cells)-1] = pricing.USD(total)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
