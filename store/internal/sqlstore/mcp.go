package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
)

var _ store.MCPToolStore = (*Store)(nil)

// mcpSQL holds the MCP tool pinning statements in the backend's dialect.
type mcpSQL struct {
	cols, get, getLocked, insert, pending, decide, list string
}

const mcpCols = `server, tool, status, approved_hash, approved_definition, pending_hash, pending_definition,
	reason, decided_by, seen_at, updated_at`

func newMCPSQL(d Dialect) mcpSQL {
	get := `SELECT ` + mcpCols + ` FROM mcp_tools WHERE server = ? AND tool = ?`
	return mcpSQL{
		get:       d.sql(get),
		getLocked: d.sql(get + d.ForUpdate),
		insert: d.sql(`INSERT INTO mcp_tools (` + mcpCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (server, tool) DO NOTHING`),
		pending: d.sql(`UPDATE mcp_tools SET status = ?, pending_hash = ?, pending_definition = ?, reason = ?,
			decided_by = '', updated_at = ? WHERE server = ? AND tool = ?`),
		decide: d.sql(`UPDATE mcp_tools SET status = ?, approved_hash = ?, approved_definition = ?, pending_hash = ?,
			pending_definition = ?, decided_by = ?, updated_at = ? WHERE server = ? AND tool = ?`),
		list: d.sql(`SELECT ` + mcpCols + ` FROM mcp_tools WHERE (? = '' OR server = ?) AND (? = '' OR status = ?)
			ORDER BY server, tool LIMIT ?`),
	}
}

func scanMCPTool(r Row) (store.MCPTool, error) {
	var t store.MCPTool
	var first, upd int64
	err := r.Scan(&t.Server, &t.Tool, &t.Status, &t.ApprovedHash, &t.ApprovedDefinition, &t.PendingHash,
		&t.PendingDefinition, &t.Reason, &t.DecidedBy, &first, &upd)
	t.FirstSeen, t.UpdatedAt = sqlcodec.FromNanos(first), sqlcodec.FromNanos(upd)
	return t, err
}

// checkMCPTool bounds what a pinning record may hold.
func checkMCPTool(server, tool string, defs ...string) error {
	if server == "" || tool == "" || len(server) > store.MaxMCPToolNameLen || len(tool) > store.MaxMCPToolNameLen {
		return errors.New("mcp tool: server and tool names must be 1-256 bytes")
	}
	for _, d := range defs {
		if len(d) > store.MaxMCPToolDefinition {
			return errors.New("mcp tool: definition over 64 KiB")
		}
	}
	return nil
}

// GetMCPTool returns the pinning record of one tool.
func (s *Store) GetMCPTool(ctx context.Context, server, tool string) (store.MCPTool, bool, error) {
	t, err := scanMCPTool(s.read.QueryRow(ctx, s.mcp.get, server, tool))
	if isNoRows(err) {
		return store.MCPTool{}, false, nil
	}
	if err != nil {
		return store.MCPTool{}, false, s.errorf("get mcp tool: %w", err)
	}
	return t, true, nil
}

// PinMCPTool stores t unless the tool has a record already, and returns
// the record in force.
func (s *Store) PinMCPTool(ctx context.Context, t store.MCPTool) (store.MCPTool, error) {
	if err := checkMCPTool(t.Server, t.Tool, t.ApprovedDefinition, t.PendingDefinition); err != nil {
		return store.MCPTool{}, err
	}
	now := time.Now().UTC()
	if t.FirstSeen.IsZero() {
		t.FirstSeen = now
	}
	t.UpdatedAt = now
	var out store.MCPTool
	err := s.inTx(ctx, false, func(tx Tx) error {
		if _, err := tx.Exec(ctx, s.mcp.insert, t.Server, t.Tool, t.Status, t.ApprovedHash, t.ApprovedDefinition,
			t.PendingHash, t.PendingDefinition, t.Reason, t.DecidedBy, sqlcodec.Nanos(t.FirstSeen),
			sqlcodec.Nanos(t.UpdatedAt)); err != nil {
			return err
		}
		var err error
		out, err = scanMCPTool(tx.QueryRow(ctx, s.mcp.get, t.Server, t.Tool))
		return err
	})
	if err != nil {
		return store.MCPTool{}, s.errorf("pin mcp tool: %w", err)
	}
	return out, nil
}

// SetMCPToolPending records a served definition that differs from the
// approved one.
func (s *Store) SetMCPToolPending(ctx context.Context, server, tool, hash, def, reason string) (store.MCPTool, error) {
	if err := checkMCPTool(server, tool, def); err != nil {
		return store.MCPTool{}, err
	}
	var out store.MCPTool
	err := s.inTx(ctx, false, func(tx Tx) error {
		t, err := scanMCPTool(tx.QueryRow(ctx, s.mcp.getLocked, server, tool))
		if isNoRows(err) {
			return store.ErrMCPToolNotFound
		}
		if err != nil {
			return err
		}
		if t.PendingHash == hash || t.ApprovedHash == hash {
			out = t // already known: no new review, no new alert
			return nil
		}
		now := time.Now().UTC()
		if _, err := tx.Exec(ctx, s.mcp.pending, store.MCPToolPending, hash, def, reason, sqlcodec.Nanos(now),
			server, tool); err != nil {
			return err
		}
		t.Status, t.PendingHash, t.PendingDefinition, t.Reason, t.DecidedBy, t.UpdatedAt =
			store.MCPToolPending, hash, def, reason, "", now
		out = t
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrMCPToolNotFound) {
			return store.MCPTool{}, err
		}
		return store.MCPTool{}, s.errorf("mcp tool pending: %w", err)
	}
	return out, nil
}

// DecideMCPTool approves or rejects the pending definition hash.
func (s *Store) DecideMCPTool(ctx context.Context, server, tool, hash string, approve bool, by string) (store.MCPTool, error) {
	var out store.MCPTool
	err := s.inTx(ctx, false, func(tx Tx) error {
		t, err := scanMCPTool(tx.QueryRow(ctx, s.mcp.getLocked, server, tool))
		if isNoRows(err) || (err == nil && t.PendingHash == "") {
			return store.ErrMCPToolNotFound
		}
		if err != nil {
			return err
		}
		if hash != t.PendingHash {
			return store.ErrMCPToolStale
		}
		now := time.Now().UTC()
		if approve {
			t.Status, t.ApprovedHash, t.ApprovedDefinition, t.PendingHash, t.PendingDefinition =
				store.MCPToolApproved, t.PendingHash, t.PendingDefinition, "", ""
		} else {
			t.Status = store.MCPToolRejected
		}
		t.DecidedBy, t.UpdatedAt = by, now
		if _, err := tx.Exec(ctx, s.mcp.decide, t.Status, t.ApprovedHash, t.ApprovedDefinition, t.PendingHash,
			t.PendingDefinition, by, sqlcodec.Nanos(now), server, tool); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrMCPToolNotFound) || errors.Is(err, store.ErrMCPToolStale) {
			return store.MCPTool{}, err
		}
		return store.MCPTool{}, s.errorf("decide mcp tool: %w", err)
	}
	return out, nil
}

// ListMCPTools lists pinning records.
func (s *Store) ListMCPTools(ctx context.Context, server, status string) ([]store.MCPTool, error) {
	rows, err := s.read.Query(ctx, s.mcp.list, server, server, status, status, store.MaxMCPTools)
	out, err := collect(rows, err, scanMCPTool)
	if err != nil {
		return nil, s.errorf("list mcp tools: %w", err)
	}
	return out, nil
}

// isNoRows reports a query that found no row (pgx.ErrNoRows matches
// sql.ErrNoRows with errors.Is).
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
