package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rampart-ai/rampart/audit"
	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/secrets"
	"github.com/rampart-ai/rampart/store"
)

func init() {
	register("audit tail", "print recent audit records as JSON lines (--follow for new ones)", auditTail)
	register("audit export", "write audit records in a time range as JSON lines", auditExport)
	register("audit erase", "erase every record of a user id or API key id (audited)", auditErase)
}

// auditFollowPoll is how often --follow looks for new records.
var auditFollowPoll = time.Second

// auditExportPage is the page size of export's queries (memory stays
// bounded by one page, whatever the range).
const auditExportPage = 500

// auditSource is the flags both audit commands share: the store (the
// local data directory, or the shared PostgreSQL store of store.driver or
// --postgres) and a tenant filter.
type auditSource struct {
	storeTarget
	tenant string
}

func (a *auditSource) flags(fs *flag.FlagSet) {
	a.storeTarget.flags(fs)
	fs.StringVar(&a.tenant, "tenant", "", "only this tenant's records")
}

// open opens the audit store for reading (a local SQLite database
// read-only, safe while the gateway runs) and wraps it so that captured
// content is decrypted when the master key is available.
func (a *auditSource) open(ctx context.Context, stderr io.Writer) (store.AuditStore, io.Closer, error) {
	db, cfg, err := a.openMode(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	closer := db.(io.Closer)
	st, err := withContent(db, cfg, stderr)
	if err != nil {
		closer.Close()
		return nil, nil, err
	}
	return st, closer, nil
}

func auditFlagSet(name, usage string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

func auditTail(env *Env) int {
	fs := auditFlagSet("audit tail", "Usage: rampart audit tail [--data DIR | --postgres DSN] [--config FILE] [--n 20] [--follow] [--tenant T]", env)
	var src auditSource
	src.flags(fs)
	n := fs.Int("n", 20, "number of recent records to print")
	follow := fs.Bool("follow", false, "keep printing new records until interrupted")
	if code, ok := parseAuditFlags(fs, env); !ok {
		return code
	}
	if *n < 0 || *n > store.MaxAuditLimit {
		fmt.Fprintf(env.Stderr, "rampart audit tail: --n must be between 0 and %d\n", store.MaxAuditLimit)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, closer, err := src.open(ctx, env.Stderr)
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart audit tail:", err)
		return 1
	}
	defer closer.Close()
	if err := tailAudit(ctx, st, env.Stdout, src.tenant, *n, *follow); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(env.Stderr, "rampart audit tail:", err)
		return 1
	}
	return 0
}

// tailAudit prints the last n records, then (follow) polls for newer ones
// until ctx ends.
func tailAudit(ctx context.Context, st store.AuditStore, w io.Writer, tenant string, n int, follow bool) error {
	enc := json.NewEncoder(w)
	var last int64
	if n > 0 {
		recs, err := st.QueryAudit(ctx, store.AuditFilter{Tenant: tenant, Limit: n, Latest: true})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
			last = r.ID
		}
	} else if follow {
		recs, err := st.QueryAudit(ctx, store.AuditFilter{Limit: 1, Latest: true})
		if err != nil {
			return err
		}
		if len(recs) == 1 {
			last = recs[0].ID
		}
	}
	if !follow {
		return nil
	}
	t := time.NewTicker(auditFollowPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for {
			recs, err := st.QueryAudit(ctx, store.AuditFilter{Tenant: tenant, AfterID: last, Limit: auditExportPage})
			if err != nil {
				return err
			}
			for _, r := range recs {
				if err := enc.Encode(r); err != nil {
					return err
				}
				last = r.ID
			}
			if len(recs) < auditExportPage {
				break
			}
		}
	}
}

func auditExport(env *Env) int {
	fs := auditFlagSet("audit export",
		"Usage: rampart audit export --since 24h|7d|2025-01-02|RFC3339 [--until ...] [--data DIR | --postgres DSN] [--config FILE] [--tenant T]", env)
	var src auditSource
	src.flags(fs)
	since := fs.String("since", "", "start of the range (required): age (24h, 7d), date or RFC 3339 time")
	until := fs.String("until", "", "end of the range (exclusive; default now)")
	if code, ok := parseAuditFlags(fs, env); !ok {
		return code
	}
	now := time.Now()
	f := store.AuditFilter{Tenant: src.tenant, Limit: auditExportPage}
	var err error
	if *since == "" {
		fmt.Fprintln(env.Stderr, "rampart audit export: --since is required")
		return 2
	}
	if f.Since, err = audit.ParseTime(*since, now); err != nil {
		fmt.Fprintln(env.Stderr, "rampart audit export: --since:", err)
		return 2
	}
	if *until != "" {
		if f.Until, err = audit.ParseTime(*until, now); err != nil {
			fmt.Fprintln(env.Stderr, "rampart audit export: --until:", err)
			return 2
		}
		if !f.Until.After(f.Since) {
			fmt.Fprintln(env.Stderr, "rampart audit export: --until must be after --since")
			return 2
		}
	}
	ctx := context.Background()
	st, closer, err := src.open(ctx, env.Stderr)
	if err != nil {
		fmt.Fprintln(env.Stderr, "rampart audit export:", err)
		return 1
	}
	defer closer.Close()
	if err := exportAudit(ctx, st, env.Stdout, f); err != nil {
		fmt.Fprintln(env.Stderr, "rampart audit export:", err)
		return 1
	}
	return 0
}

// exportAudit streams every record matching f, one page at a time.
func exportAudit(ctx context.Context, st store.AuditStore, w io.Writer, f store.AuditFilter) error {
	enc := json.NewEncoder(w)
	for {
		recs, err := st.QueryAudit(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
			f.AfterID = r.ID
		}
		if len(recs) < f.EffectiveLimit() {
			return nil
		}
	}
}

// parseAuditFlags parses flags; ok false means return code now.
func parseAuditFlags(fs *flag.FlagSet, env *Env) (code int, ok bool) {
	args, err := parseArgs(fs, env.Args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if len(args) > 0 {
		fmt.Fprintf(env.Stderr, "rampart %s: unexpected argument %q\n", fs.Name(), args[0])
		return 2, false
	}
	return 0, true
}

// withContent wraps db so that records' encrypted content is decrypted
// when the master key (secrets section of cfg, or $RAMPART_MASTER_KEY) is
// available; otherwise the content stays sealed and stderr says so once.
func withContent(db dataStore, cfg *config.Config, stderr io.Writer) (store.AuditStore, error) {
	kr, err := keyringFrom(cfg)
	if err != nil {
		return nil, err
	}
	o := &openingStore{AuditStore: db, stderr: stderr}
	if kr != nil {
		if o.opener, err = secrets.NewManager(db, kr).ContentSealer(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// openingStore decrypts captured content in the records it returns.
type openingStore struct {
	store.AuditStore
	opener *secrets.ContentSealer // nil without a master key
	stderr io.Writer
	warned bool
}

func (o *openingStore) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditRecord, error) {
	recs, err := o.AuditStore.QueryAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	var opener audit.ContentCipher
	if o.opener != nil {
		opener = o.opener
	}
	for _, r := range recs {
		err := audit.OpenContent(ctx, opener, r)
		switch {
		case err == nil || o.warned:
		case errors.Is(err, audit.ErrContentLocked):
			o.warned = true
			fmt.Fprintln(o.stderr, "rampart: captured content is encrypted and shown sealed; set the master key ($RAMPART_MASTER_KEY or secrets.master_key_file in --config) to read it")
		default:
			o.warned = true
			fmt.Fprintln(o.stderr, "rampart: some captured content cannot be decrypted and is shown sealed:", err)
		}
	}
	return recs, nil
}

func auditErase(env *Env) int {
	return runStore(env, "audit erase", "audit erase ID [--data DIR | --postgres DSN] [--config FILE]\n\n"+
		"Deletes every audit record whose user id (subject) or API key id is ID, the API key\n"+
		"ID itself and blocks naming it, then writes an audit record of the erasure that\n"+
		"holds an HMAC of ID, never ID itself.", 1,
		func(ctx context.Context, _ *secrets.Manager, cfg *config.Config, st dataStore, pos []string) error {
			key, err := audit.ContentKey(cfg.Audit, cfg.DataDir)
			if err != nil {
				return err
			}
			e, err := audit.NewEraser(st, st, key, nil)
			if err != nil {
				return err
			}
			res, err := e.Erase(ctx, pos[0], audit.Actor{Subject: "cli"}, "cli: rampart audit erase")
			if err != nil && !errors.Is(err, audit.ErrNotAudited) {
				return err
			}
			fmt.Fprintf(env.Stdout, "erased: %d audit records, %d keys, %d key references, %d blocks, %d block references\n",
				res.AuditRecords, res.Keys, res.KeyReferences, res.Blocks, res.BlockReferences)
			if res.Keys > 0 {
				fmt.Fprintln(env.Stdout, "running gateways drop the erased key within identity.generation_poll")
			}
			fmt.Fprintln(env.Stdout, "erasure record subject_mac:", audit.SubjectMAC(key, pos[0]))
			return err
		})
}
