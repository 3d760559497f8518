package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/rampart-ai/rampart/admin"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

func init() {
	register("mcp tools list", "list pinned MCP tool definitions (approved, pending, rejected)", mcpToolsList)
	register("mcp tools approve", "approve a pending MCP tool definition", func(env *Env) int { return mcpToolsDecide(env, "approve") })
	register("mcp tools reject", "reject a pending MCP tool definition (the tool stays withheld)", func(env *Env) int { return mcpToolsDecide(env, "reject") })
}

// mcpBackend is what the mcp commands need: the local store, or a
// gateway's admin API.
type mcpBackend interface {
	listMCPTools(ctx context.Context, server, status string) ([]store.MCPTool, error)
	decideMCPTool(ctx context.Context, req admin.DecideMCPToolRequest) (store.MCPTool, error)
}

func mcpOf(b backend) (mcpBackend, error) {
	switch v := b.(type) {
	case *local:
		return localMCP{v}, nil
	case *remote:
		return remoteMCP{v}, nil
	}
	return nil, errors.New("mcp: unsupported backend")
}

// localMCP acts on the data directory's SQLite store; a running gateway
// on the same directory reads the decision at the next tools/list.
type localMCP struct{ l *local }

func (m localMCP) listMCPTools(ctx context.Context, server, status string) ([]store.MCPTool, error) {
	return m.l.db.ListMCPTools(ctx, server, status)
}

func (m localMCP) decideMCPTool(ctx context.Context, req admin.DecideMCPToolRequest) (store.MCPTool, error) {
	t, err := m.l.db.DecideMCPTool(ctx, req.Server, req.Tool, req.Hash, req.Decision == "approve", cliCreatedBy)
	if err != nil {
		return t, err
	}
	// Audited as the admin API does (route /admin/mcp/tools/decide).
	object := req.Server + "/" + req.Tool
	rec := &store.AuditRecord{RequestID: engine.NewRequestID(), Time: time.Now(), Route: "/admin/mcp/tools/decide",
		Subject: cliCreatedBy, Status: http.StatusOK,
		Decisions: []engine.Outcome{{Layer: "admin", Phase: engine.PhaseFinish, Action: engine.Allow.String(), Rule: object,
			Code: "mcp_tool_" + req.Decision, Findings: []engine.Finding{{Layer: "admin", Rule: object, Message: -1,
				Text: "definition " + req.Hash}}}}}
	if err := m.l.db.WriteAudit(ctx, []*store.AuditRecord{rec}); err != nil {
		return t, fmt.Errorf("%s done, but its audit record could not be written: %w", req.Decision, err)
	}
	return t, nil
}

type remoteMCP struct{ r *remote }

func (m remoteMCP) listMCPTools(ctx context.Context, server, status string) ([]store.MCPTool, error) {
	q := url.Values{}
	if server != "" {
		q.Set("server", server)
	}
	if status != "" {
		q.Set("status", status)
	}
	path := "/admin/mcp/tools"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct{ Data []store.MCPTool }
	err := m.r.do(ctx, http.MethodGet, path, nil, &out)
	return out.Data, err
}

func (m remoteMCP) decideMCPTool(ctx context.Context, req admin.DecideMCPToolRequest) (store.MCPTool, error) {
	var out store.MCPTool
	err := m.r.do(ctx, http.MethodPost, "/admin/mcp/tools/decide", req, &out)
	return out, err
}

func mcpToolsList(env *Env) int {
	fs := flag.NewFlagSet("mcp tools list", flag.ContinueOnError)
	var t target
	t.flags(fs)
	server := fs.String("server", "", "only this MCP server")
	status := fs.String("status", "", "only approved, pending or rejected")
	asJSON := fs.Bool("json", false, "print JSON (with the definitions) instead of a table")
	return run(env, fs, &t, 0, "mcp tools list [--server NAME] [--status pending] [--json] [--data DIR | --url URL]",
		func(ctx context.Context, be backend, _ []string) error {
			switch *status {
			case "", store.MCPToolApproved, store.MCPToolPending, store.MCPToolRejected:
			default:
				return errors.New("--status must be approved, pending or rejected")
			}
			m, err := mcpOf(be)
			if err != nil {
				return err
			}
			list, err := m.listMCPTools(ctx, *server, *status)
			if err != nil {
				return err
			}
			if *asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVER\tTOOL\tSTATUS\tPENDING HASH\tREASON\tDECIDED BY\tUPDATED")
			for _, x := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Server, x.Tool, x.Status, orDash(x.PendingHash),
					orDash(oneLine(x.Reason)), orDash(x.DecidedBy), when(x.UpdatedAt, "-"))
			}
			return tw.Flush()
		})
}

func mcpToolsDecide(env *Env, decision string) int {
	fs := flag.NewFlagSet("mcp tools "+decision, flag.ContinueOnError)
	var t target
	t.flags(fs)
	hash := fs.String("hash", "", "the pending definition's hash, as listed (required: you decide on what you reviewed)")
	return run(env, fs, &t, 2, "mcp tools "+decision+" SERVER TOOL --hash HASH [--data DIR | --url URL]",
		func(ctx context.Context, be backend, pos []string) error {
			if *hash == "" {
				return errors.New("--hash is required (see `rampart mcp tools list --status pending`)")
			}
			m, err := mcpOf(be)
			if err != nil {
				return err
			}
			out, err := m.decideMCPTool(ctx, admin.DecideMCPToolRequest{Server: pos[0], Tool: pos[1], Hash: *hash, Decision: decision})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s/%s: %s\n", out.Server, out.Tool, out.Status)
			return nil
		})
}
