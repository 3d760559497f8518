package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

func init() {
	register("blocks list", "list active blocks and throttles", blocksList)
	register("blocks add", "block or throttle a key, user, address or network for a TTL", blocksAdd)
	register("blocks remove", "lift a block", blocksRemove)
}

// cliCreatedBy is Block.CreatedBy for blocks made with the CLI in local
// mode (remote mode records the admin key's id).
const cliCreatedBy = "cli"

// blockBackend is what the blocks commands need: the local store, or a
// gateway's admin API.
type blockBackend interface {
	listBlocks(ctx context.Context) ([]store.Block, error)
	addBlock(ctx context.Context, req admin.CreateBlockRequest) (store.Block, error)
	removeBlock(ctx context.Context, id string) error
}

// blocksOf adapts what target.open returned.
func blocksOf(b backend) (blockBackend, error) {
	switch v := b.(type) {
	case *local:
		return localBlocks{v}, nil
	case *remote:
		return remoteBlocks{v}, nil
	}
	return nil, errors.New("blocks: unsupported backend")
}

// localBlocks acts on the data directory's SQLite store. A running gateway
// on the same directory picks changes up at its next refresh.
type localBlocks struct{ l *local }

func (b localBlocks) listBlocks(ctx context.Context) ([]store.Block, error) {
	return b.l.db.ListBlocks(ctx, time.Now())
}

func (b localBlocks) addBlock(ctx context.Context, req admin.CreateBlockRequest) (store.Block, error) {
	ttl, err := identity.ParseDuration(req.TTL)
	if err != nil || ttl <= 0 || ttl > store.MaxBlockTTL {
		return store.Block{}, errors.New("--ttl must be a positive duration up to 366d, such as 1h or 7d")
	}
	blk := store.Block{Kind: req.Kind, Value: req.Value, Tenant: req.Tenant, Action: req.Action, RPM: req.RPM,
		Reason: req.Reason, CreatedBy: cliCreatedBy, ExpiresAt: time.Now().Add(ttl)}
	if req.Kind == store.BlockKey {
		k, err := b.l.db.GetKey(ctx, req.Value)
		if errors.Is(err, identity.ErrNotFound) {
			return store.Block{}, fmt.Errorf("no key %q in this store", req.Value)
		}
		if err != nil {
			return store.Block{}, err
		}
		blk.Tenant = k.Tenant
	}
	out, err := b.l.db.AddBlock(ctx, blk)
	if err != nil {
		return out, err
	}
	return out, b.audit(ctx, "block_added", out)
}

func (b localBlocks) removeBlock(ctx context.Context, id string) error {
	list, err := b.l.db.ListBlocks(ctx, time.Now())
	if err != nil {
		return err
	}
	var found *store.Block
	for i := range list {
		if list[i].ID == id {
			found = &list[i]
		}
	}
	if found == nil {
		return fmt.Errorf("no active block %q", id)
	}
	err = b.l.db.RemoveBlock(ctx, id)
	if errors.Is(err, store.ErrBlockNotFound) {
		return fmt.Errorf("no active block %q", id)
	}
	if err != nil {
		return err
	}
	return b.audit(ctx, "block_removed", *found)
}

// audit writes the change to the store's audit log as the admin API does
// (route /admin/blocks), with subject "cli" instead of an admin key id.
func (b localBlocks) audit(ctx context.Context, code string, blk store.Block) error {
	what := blk.Action + " of " + blk.Kind + " " + blk.Value
	if code == "block_added" {
		what += " until " + blk.ExpiresAt.UTC().Format(time.RFC3339) + ": " + blk.Reason
	} else {
		what = "removed " + what
	}
	rec := &store.AuditRecord{RequestID: engine.NewRequestID(), Time: time.Now(), Route: "/admin/blocks",
		Tenant: blk.Tenant, Subject: cliCreatedBy,
		Decisions: []engine.Outcome{{Layer: "admin", Phase: engine.PhaseFinish, Action: engine.Allow.String(),
			Rule: blk.ID, Code: code, Findings: []engine.Finding{{Layer: "admin", Rule: blk.ID, Message: -1, Text: what}}}}}
	if err := b.l.db.WriteAudit(ctx, []*store.AuditRecord{rec}); err != nil {
		return fmt.Errorf("%s done, but its audit record could not be written: %w", code, err)
	}
	return nil
}

// remoteBlocks calls a gateway's admin API.
type remoteBlocks struct{ r *remote }

func (b remoteBlocks) listBlocks(ctx context.Context) ([]store.Block, error) {
	var out struct{ Data []store.Block }
	err := b.r.do(ctx, http.MethodGet, "/admin/blocks", nil, &out)
	return out.Data, err
}

func (b remoteBlocks) addBlock(ctx context.Context, req admin.CreateBlockRequest) (store.Block, error) {
	var out store.Block
	err := b.r.do(ctx, http.MethodPost, "/admin/blocks", req, &out)
	return out, err
}

func (b remoteBlocks) removeBlock(ctx context.Context, id string) error {
	return b.r.do(ctx, http.MethodDelete, "/admin/blocks/"+url.PathEscape(id), nil, nil)
}

func blocksList(env *Env) int {
	fs := flag.NewFlagSet("blocks list", flag.ContinueOnError)
	var t target
	t.flags(fs)
	return run(env, fs, &t, 0, "blocks list [--data DIR | --url URL]",
		func(ctx context.Context, be backend, _ []string) error {
			b, err := blocksOf(be)
			if err != nil {
				return err
			}
			list, err := b.listBlocks(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tVALUE\tTENANT\tACTION\tEXPIRES\tCREATED BY\tREASON")
			for _, x := range list {
				action := x.Action
				if x.Action == store.ActionThrottle {
					action = fmt.Sprintf("throttle %d/min", x.RPM)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.Kind, x.Value, orDash(x.Tenant), action,
					when(x.ExpiresAt, "-"), x.CreatedBy, oneLine(x.Reason))
			}
			return tw.Flush()
		})
}

func blocksAdd(env *Env) int {
	fs := flag.NewFlagSet("blocks add", flag.ContinueOnError)
	var t target
	t.flags(fs)
	var req admin.CreateBlockRequest
	ip := fs.String("ip", "", "block a client address")
	cidr := fs.String("cidr", "", "block a network, e.g. 203.0.113.0/24")
	key := fs.String("key", "", "block an API key, by id (key_…)")
	user := fs.String("user", "", "block a user (identity subject); with --tenant")
	fs.StringVar(&req.Tenant, "tenant", "", "the user's tenant (--user)")
	fs.StringVar(&req.TTL, "ttl", "1h", "how long the block lasts, e.g. 30m, 24h, 7d (at most 366d)")
	fs.StringVar(&req.Reason, "reason", "", "why (required; audited, never shown to the client)")
	fs.Int64Var(&req.RPM, "throttle", 0, "throttle to this many requests per minute instead of blocking")
	return run(env, fs, &t, 0, "blocks add --ip A | --cidr N | --key ID | --user U --tenant T [--ttl 1h] [--throttle RPM] --reason TEXT [--data DIR | --url URL]",
		func(ctx context.Context, be backend, _ []string) error {
			n := 0
			for kind, v := range map[string]string{store.BlockIP: *ip, store.BlockCIDR: *cidr, store.BlockKey: *key, store.BlockUser: *user} {
				if v != "" {
					req.Kind, req.Value = kind, v
					n++
				}
			}
			if n != 1 {
				return errors.New("give exactly one of --ip, --cidr, --key or --user")
			}
			if req.Kind == store.BlockUser && req.Tenant == "" {
				return errors.New("--user needs --tenant")
			}
			if strings.TrimSpace(req.Reason) == "" {
				return errors.New("--reason is required")
			}
			req.Action = store.ActionBlock
			if req.RPM != 0 {
				req.Action = store.ActionThrottle
			}
			b, err := blocksOf(be)
			if err != nil {
				return err
			}
			out, err := b.addBlock(ctx, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "added %s: %s %s %s until %s\n", out.ID, out.Action, out.Kind, out.Value, when(out.ExpiresAt, "-"))
			return nil
		})
}

func blocksRemove(env *Env) int {
	fs := flag.NewFlagSet("blocks remove", flag.ContinueOnError)
	var t target
	t.flags(fs)
	return run(env, fs, &t, 1, "blocks remove ID [--data DIR | --url URL]",
		func(ctx context.Context, be backend, pos []string) error {
			b, err := blocksOf(be)
			if err != nil {
				return err
			}
			if err := b.removeBlock(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "removed %s\n", pos[0])
			return nil
		})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
