package store

import (
	"context"
	"errors"
	"time"
)

// States of a pinned MCP tool definition (MCPTool.Status).
const (
	// MCPToolApproved: the tool's served definition is the approved one.
	MCPToolApproved = "approved"
	// MCPToolPending: a definition (new and flagged, or changed since it
	// was approved) waits for an administrator; the tool is withheld.
	MCPToolPending = "pending"
	// MCPToolRejected: an administrator rejected the pending definition;
	// the tool stays withheld while the server serves it.
	MCPToolRejected = "rejected"
)

// Bounds of a pinned tool.
const (
	// MaxMCPToolDefinition bounds the stored definition JSON.
	MaxMCPToolDefinition = 64 << 10
	// MaxMCPToolNameLen bounds server and tool names.
	MaxMCPToolNameLen = 256
	// MaxMCPTools bounds what ListMCPTools returns.
	MaxMCPTools = 10_000
)

// ErrMCPToolNotFound is returned when a tool record to change does not exist.
var ErrMCPToolNotFound = errors.New("mcp tool not found")

// ErrMCPToolStale is returned by DecideMCPTool when the pending definition
// is no longer the one the administrator reviewed (its hash changed).
var ErrMCPToolStale = errors.New("the pending definition changed since it was listed; list again")

// MCPTool is the pinning record of one tool of one MCP server: the
// approved definition (what clients may see and call) and, when the
// server serves something else, the pending one.
type MCPTool struct {
	Server string `json:"server"`
	Tool   string `json:"tool"`
	Status string `json:"status"`
	// ApprovedHash is the SHA-256 (hex) of the approved definition; empty
	// when no definition was ever approved.
	ApprovedHash string `json:"approved_hash,omitempty"`
	// ApprovedDefinition is the approved definition's canonical JSON
	// (name, title, description, input and output schemas, annotations).
	ApprovedDefinition string `json:"approved_definition,omitempty"`
	// PendingHash and PendingDefinition are the served definition waiting
	// for a decision (status pending or rejected).
	PendingHash       string `json:"pending_hash,omitempty"`
	PendingDefinition string `json:"pending_definition,omitempty"`
	// Reason says why the pending definition was withheld (changed
	// definition, rule ids of a poisoning finding); never the text.
	Reason    string    `json:"reason,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MCPToolStore keeps the pinned definitions of MCP tools, shared by every
// replica.
type MCPToolStore interface {
	// GetMCPTool returns the record of one tool (false when none).
	GetMCPTool(ctx context.Context, server, tool string) (MCPTool, bool, error)
	// PinMCPTool stores t as the tool's record when the tool has none yet
	// (the first definition seen) and reports the record now stored: t,
	// or the one another replica stored first.
	PinMCPTool(ctx context.Context, t MCPTool) (MCPTool, error)
	// SetMCPToolPending records a served definition that differs from the
	// approved one as pending (unless it already is the pending or the
	// rejected one) and returns the record.
	SetMCPToolPending(ctx context.Context, server, tool, hash, definition, reason string) (MCPTool, error)
	// DecideMCPTool approves or rejects the pending definition whose hash
	// is hash (ErrMCPToolStale when the pending one is another,
	// ErrMCPToolNotFound when there is no such tool or nothing pending).
	DecideMCPTool(ctx context.Context, server, tool, hash string, approve bool, by string) (MCPTool, error)
	// ListMCPTools lists the records of one server ("" for all), status ""
	// for every state, at most MaxMCPTools, by server and tool.
	ListMCPTools(ctx context.Context, server, status string) ([]MCPTool, error)
}
