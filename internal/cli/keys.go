package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/sqlite"
)

// adminKeyEnv holds the admin key for --url mode.
const adminKeyEnv = "RAMPART_ADMIN_KEY"

func init() {
	register("keys create", "create an API key (printed once)", keysCreate)
	register("keys list", "list API keys", keysList)
	register("keys revoke", "revoke an API key", keysRevoke)
	register("keys rotate", "replace an API key (the old one works for --grace)", keysRotate)
}

// target is where key and tenant commands act: the local data directory
// (opening the SQLite store directly) or a remote gateway's admin API.
type target struct {
	data     string
	url      string
	adminKey string
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.data, "data", "./rampart-data", "data directory (local mode; opens its SQLite store directly)")
	fs.StringVar(&t.url, "url", "", "gateway base URL (remote mode), e.g. http://127.0.0.1:8080")
	fs.StringVar(&t.adminKey, "admin-key", "", "admin key for --url (default $"+adminKeyEnv+")")
}

// parseArgs parses flags that may come before or after positional args.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// backend is what the key and tenant commands need.
type backend interface {
	createKey(ctx context.Context, req admin.CreateKeyRequest) (identity.Key, string, error)
	listKeys(ctx context.Context, tenant string) ([]identity.Key, error)
	revokeKey(ctx context.Context, id string) error
	rotateKey(ctx context.Context, id string, grace time.Duration) (identity.Key, string, error)
	createTenant(ctx context.Context, req admin.CreateTenantRequest) (identity.Tenant, error)
	listTenants(ctx context.Context) ([]identity.Tenant, error)
	close()
}

func (t *target) open() (backend, error) {
	if t.url != "" {
		key := t.adminKey
		if key == "" {
			key = os.Getenv(adminKeyEnv)
		}
		if key == "" {
			return nil, fmt.Errorf("--url needs --admin-key or $%s", adminKeyEnv)
		}
		u, err := url.Parse(t.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--url must be an http(s) URL")
		}
		return &remote{base: strings.TrimRight(t.url, "/"), key: key, hc: &http.Client{Timeout: 30 * time.Second}}, nil
	}
	db, err := sqlite.Open(sqlite.PathIn(t.data))
	if err != nil {
		return nil, err
	}
	pepper, err := identity.LoadPepper(t.data)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc, err := identity.NewService(identity.Config{}, db, pepper, nil)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &local{db: db, svc: svc}, nil
}

// local acts on the data directory's store directly (as its operator).
type local struct {
	db  *sqlite.DB
	svc *identity.Service
}

func (l *local) close() { l.db.Close() }

func (l *local) createKey(ctx context.Context, req admin.CreateKeyRequest) (identity.Key, string, error) {
	spec := identity.KeySpec{Name: req.Name, Tenant: req.Tenant, Role: req.Role, Models: req.Models, Policy: req.Policy, Limits: req.Limits}
	if req.ExpiresIn != "" {
		d, err := identity.ParseDuration(req.ExpiresIn)
		if err != nil || d == 0 {
			return identity.Key{}, "", fmt.Errorf("--expires must be a positive duration such as 30d or 720h")
		}
		spec.ExpiresAt = time.Now().Add(d)
	}
	secret, k, err := l.svc.CreateKey(ctx, spec)
	if err == nil {
		err = auditAction(ctx, l.db, "/admin/keys", "key_created", k.ID, k.Tenant, "role "+k.Role)
	}
	return k, secret, err
}

func (l *local) listKeys(ctx context.Context, tenant string) ([]identity.Key, error) {
	return l.db.ListKeys(ctx, tenant)
}

func (l *local) revokeKey(ctx context.Context, id string) error {
	if err := l.svc.RevokeKey(ctx, id); err != nil {
		return err
	}
	return auditAction(ctx, l.db, "/admin/keys/{id}", "key_revoked", id, "", "revoked key "+id)
}

func (l *local) rotateKey(ctx context.Context, id string, grace time.Duration) (identity.Key, string, error) {
	secret, k, err := l.svc.RotateKey(ctx, id, grace)
	if err == nil {
		err = auditAction(ctx, l.db, "/admin/keys/{id}/rotate", "key_rotated", id, k.Tenant,
			"replaced by "+k.ID+", old key valid for "+grace.String())
	}
	return k, secret, err
}

func (l *local) createTenant(ctx context.Context, req admin.CreateTenantRequest) (identity.Tenant, error) {
	t, err := l.svc.CreateTenant(ctx, identity.Tenant{ID: req.ID, Models: req.Models, Policy: req.Policy, Limits: req.Limits})
	if err == nil {
		err = auditAction(ctx, l.db, "/admin/tenants", "tenant_created", t.ID, t.ID, "tenant "+t.ID)
	}
	return t, err
}

func (l *local) listTenants(ctx context.Context) ([]identity.Tenant, error) {
	return l.db.ListTenants(ctx)
}

// remote calls a gateway's admin API.
type remote struct {
	base, key string
	hc        *http.Client
}

func (r *remote) close() {}

func (r *remote) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message string `json:"message"`
				Code    string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s (%s)", resp.Status, e.Error.Message, e.Error.Code)
		}
		return fmt.Errorf("gateway answered %s", resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("unexpected answer from the gateway: %w", err)
		}
	}
	return nil
}

type wireKey struct {
	identity.Key
	Secret string `json:"key"`
}

func (r *remote) createKey(ctx context.Context, req admin.CreateKeyRequest) (identity.Key, string, error) {
	var out wireKey
	err := r.do(ctx, http.MethodPost, "/admin/keys", req, &out)
	return out.Key, out.Secret, err
}

func (r *remote) listKeys(ctx context.Context, tenant string) ([]identity.Key, error) {
	var out struct{ Data []identity.Key }
	p := "/admin/keys"
	if tenant != "" {
		p += "?tenant=" + url.QueryEscape(tenant)
	}
	err := r.do(ctx, http.MethodGet, p, nil, &out)
	return out.Data, err
}

func (r *remote) revokeKey(ctx context.Context, id string) error {
	return r.do(ctx, http.MethodDelete, "/admin/keys/"+url.PathEscape(id), nil, nil)
}

func (r *remote) rotateKey(ctx context.Context, id string, grace time.Duration) (identity.Key, string, error) {
	var out wireKey
	err := r.do(ctx, http.MethodPost, "/admin/keys/"+url.PathEscape(id)+"/rotate", admin.RotateKeyRequest{Grace: grace.String()}, &out)
	return out.Key, out.Secret, err
}

func (r *remote) createTenant(ctx context.Context, req admin.CreateTenantRequest) (identity.Tenant, error) {
	var out identity.Tenant
	err := r.do(ctx, http.MethodPost, "/admin/tenants", req, &out)
	return out, err
}

func (r *remote) listTenants(ctx context.Context) ([]identity.Tenant, error) {
	var out struct{ Data []identity.Tenant }
	err := r.do(ctx, http.MethodGet, "/admin/tenants", nil, &out)
	return out.Data, err
}

// parseCommand sets fs's output and usage line, parses env.Args (flags
// before or after positional arguments) and checks that there are npos
// positional arguments. ok is false when the command must end with code:
// 0 after -h, 2 for a usage error (already reported).
func parseCommand(env *Env, fs *flag.FlagSet, usage string, npos int) (pos []string, code int, ok bool) {
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: rampart %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, env.Args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, 0, false
	}
	if err != nil {
		return nil, 2, false
	}
	if len(pos) != npos {
		fs.Usage()
		return nil, 2, false
	}
	return pos, 0, true
}

// run parses flags, opens the backend and runs fn; it returns the exit code.
func run(env *Env, fs *flag.FlagSet, t *target, npos int, usage string, fn func(ctx context.Context, b backend, pos []string) error) int {
	pos, code, ok := parseCommand(env, fs, usage, npos)
	if !ok {
		return code
	}
	b, err := t.open()
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart:", err)
		return 1
	}
	defer b.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fn(ctx, b, pos); err != nil {
		fmt.Fprintln(env.Stderr, "rampart:", err)
		return 1
	}
	return 0
}

func printNewKey(w io.Writer, k identity.Key, secret string) {
	fmt.Fprintf(w, "id:       %s\nname:     %s\ntenant:   %s\nrole:     %s\nexpires:  %s\n\n", k.ID, k.Name, k.Tenant, k.Role, when(k.ExpiresAt, "never"))
	fmt.Fprintf(w, "key (shown once, store it now):\n\n    %s\n\n", secret)
}

func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func keysCreate(env *Env) int {
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	var t target
	t.flags(fs)
	var req admin.CreateKeyRequest
	var models string
	fs.StringVar(&req.Tenant, "tenant", "", "tenant of the key (\"*\" for a global key)")
	fs.StringVar(&req.Role, "role", "user", "role: metrics, viewer, user, developer, admin")
	fs.StringVar(&req.Name, "name", "", "name of the key (who or what uses it)")
	fs.StringVar(&req.ExpiresIn, "expires", "", "lifetime, e.g. 30d or 720h (default: never)")
	fs.StringVar(&models, "models", "", "comma-separated model globs this key may use (default: the tenant's)")
	fs.StringVar(&req.Policy, "policy", "", "policy name for this key (default: the tenant's)")
	var lim limitFlags
	lim.flags(fs, "this key")
	return run(env, fs, &t, 0, "keys create --tenant T --role R --name N [--expires 30d] [--rpm N --tpm N --max-parallel N --budget 2M/day ...] [--data DIR | --url URL]",
		func(ctx context.Context, b backend, _ []string) error {
			if req.Tenant == "" || req.Name == "" {
				return errors.New("--tenant and --name are required")
			}
			req.Limits = lim.limits()
			if models != "" {
				for _, m := range strings.Split(models, ",") {
					req.Models = append(req.Models, strings.TrimSpace(m))
				}
			}
			k, secret, err := b.createKey(ctx, req)
			if err != nil {
				return err
			}
			printNewKey(env.Stdout, k, secret)
			return nil
		})
}

func keysList(env *Env) int {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	var t target
	t.flags(fs)
	tenant := fs.String("tenant", "", "only this tenant's keys")
	return run(env, fs, &t, 0, "keys list [--tenant T] [--data DIR | --url URL]",
		func(ctx context.Context, b backend, _ []string) error {
			keys, err := b.listKeys(ctx, *tenant)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tTENANT\tROLE\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tSTATUS\tLIMITS")
			now := time.Now()
			for _, k := range keys {
				status := "active"
				switch {
				case !k.RevokedAt.IsZero():
					status = "revoked"
				case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
					status = "expired"
				case k.ReplacedBy != "":
					status = "rotated"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Tenant, k.Role, k.Prefix,
					when(k.CreatedAt, "-"), when(k.ExpiresAt, "never"), when(k.LastUsedAt, "never"), status, formatLimits(k.Limits))
			}
			return tw.Flush()
		})
}

func keysRevoke(env *Env) int {
	fs := flag.NewFlagSet("keys revoke", flag.ContinueOnError)
	var t target
	t.flags(fs)
	return run(env, fs, &t, 1, "keys revoke ID [--data DIR | --url URL]",
		func(ctx context.Context, b backend, pos []string) error {
			if err := b.revokeKey(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "revoked %s\n", pos[0])
			return nil
		})
}

func keysRotate(env *Env) int {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	var t target
	t.flags(fs)
	grace := fs.String("grace", "0s", "how long the old key keeps working, e.g. 24h")
	return run(env, fs, &t, 1, "keys rotate ID [--grace 24h] [--data DIR | --url URL]",
		func(ctx context.Context, b backend, pos []string) error {
			g, err := identity.ParseDuration(*grace)
			if err != nil {
				return err
			}
			k, secret, err := b.rotateKey(ctx, pos[0], g)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "rotated %s; the old key stops working in %s\n\n", pos[0], g)
			printNewKey(env.Stdout, k, secret)
			return nil
		})
}

// limitFlags are the rate-limit flags of keys create and tenants create.
// Their names are the ratelimit layer's per-key override keys
// (layers/ratelimit/override.go), stored in the key's or tenant's Limits.
type limitFlags struct {
	vals map[string]int64
}

// limitFlagNames maps each flag to its Limits key.
var limitFlagNames = []struct{ flag, key, help string }{
	{"rpm", "rpm", "requests per minute"},
	{"burst", "burst", "requests admitted at once after an idle period (default: rpm)"},
	{"tpm", "tpm", "tokens per minute (prompt + completion); k and M suffixes allowed"},
	{"prompt-tpm", "prompt_tpm", "prompt tokens per minute; k and M suffixes allowed"},
	{"max-parallel", "max_parallel", "requests in flight at once"},
	{"max-prompt-tokens", "max_prompt_tokens", "largest prompt, in tokens"},
	{"max-tokens", "max_tokens", "largest max_tokens a request may ask for"},
}

func (l *limitFlags) flags(fs *flag.FlagSet, whom string) {
	l.vals = map[string]int64{}
	for _, f := range limitFlagNames {
		fs.Func(f.flag, f.help+" for "+whom+" (-1: no limit, overriding the policy)", func(s string) error {
			n, err := parseCount(s)
			if err != nil {
				return err
			}
			l.vals[f.key] = n
			return nil
		})
	}
	fs.Func("budget", "token budget for "+whom+" per UTC day or month, e.g. 2M/day or 50000000/month (repeat for both)", func(s string) error {
		num, period, ok := strings.Cut(s, "/")
		key := map[string]string{"day": "budget_day", "month": "budget_month"}[period]
		if !ok || key == "" {
			return errors.New("want TOKENS/day or TOKENS/month, e.g. 2M/day")
		}
		n, err := parseCount(num)
		if err != nil {
			return err
		}
		l.vals[key] = n
		return nil
	})
	fs.Func("budget-usd", "spend budget in USD for "+whom+" per UTC day or month, e.g. 25/month or 2.50/day (repeat for both; -1/month lifts the policy's); a tenant's is for the tenant as a whole", func(s string) error {
		key, n, err := parseBudgetUSD(s)
		if err != nil {
			return err
		}
		l.vals[key] = n
		return nil
	})
}

// parseBudgetUSD reads DOLLARS/day or DOLLARS/month into its Limits key
// and micro-USD (the ratelimit layer's unit), or -1 to lift the limit.
func parseBudgetUSD(s string) (string, int64, error) {
	num, period, ok := strings.Cut(strings.TrimSpace(s), "/")
	key := map[string]string{"day": "budget_usd_day", "month": "budget_usd_month"}[period]
	if !ok || key == "" {
		return "", 0, errors.New("want DOLLARS/day or DOLLARS/month, e.g. 25/month")
	}
	num = strings.TrimPrefix(strings.TrimSpace(num), "$")
	if num == "-1" {
		return key, -1, nil
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) || v > maxBudgetUSD {
		return "", 0, fmt.Errorf("%q: want a positive amount of dollars (at most %d) or -1", num, maxBudgetUSD)
	}
	micros := int64(math.Round(v * 1e6))
	if micros < 1 {
		return "", 0, fmt.Errorf("%q: below one micro-dollar", num)
	}
	return key, micros, nil
}

// maxBudgetUSD matches the ratelimit layer's largest USD budget.
const maxBudgetUSD = 1_000_000

// limits returns the limits set by flags (nil when none).
func (l *limitFlags) limits() map[string]int64 {
	if len(l.vals) == 0 {
		return nil
	}
	return l.vals
}

// maxCount matches the ratelimit layer's largest limit (2^40).
const maxCount = 1 << 40

// parseCount reads a positive count with an optional k (thousand) or M
// (million) suffix, or -1 (no limit).
func parseCount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "-1" {
		return -1, nil
	}
	mul := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mul, s = 1000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mul, s = 1000_000, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > maxCount/mul {
		return 0, fmt.Errorf("%q: want a positive whole number (k and M suffixes allowed, at most 2^40) or -1", s)
	}
	return n * mul, nil
}

// formatLimits shows limits as "rpm=2,tpm=1000" in a stable order ("-"
// when none).
func formatLimits(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		if v := m[k]; strings.HasPrefix(k, "budget_usd_") && v > 0 {
			b.WriteString("$" + strconv.FormatFloat(float64(v)/1e6, 'f', -1, 64))
		} else {
			b.WriteString(strconv.FormatInt(v, 10))
		}
	}
	return b.String()
}
