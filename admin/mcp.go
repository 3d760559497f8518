package admin

import (
	"errors"
	"net/http"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// WithMCPTools serves GET /admin/mcp/tools and POST
// /admin/mcp/tools/decide over ps, the store of pinned MCP tool
// definitions. Tool definitions belong to a server that every tenant may
// use, so both are for global admins only.
func WithMCPTools(ps store.MCPToolStore) Option { return func(h *handler) { h.mcpTools = ps } }

// DecideMCPToolRequest is the body of POST /admin/mcp/tools/decide.
type DecideMCPToolRequest struct {
	Server string `json:"server"`
	Tool   string `json:"tool"`
	// Hash is the pending definition's hash as listed: a decision applies
	// to the definition the administrator reviewed, never to a newer one.
	Hash string `json:"hash"`
	// Decision is approve or reject.
	Decision string `json:"decision"`
}

// mcpToolView is a pinning record as the API shows it.
type mcpToolView struct {
	Object string `json:"object"`
	store.MCPTool
}

func (h *handler) mcpUsable(w http.ResponseWriter, p *identity.Principal) bool {
	if h.mcpTools == nil {
		writeError(w, http.StatusServiceUnavailable, "mcp_unavailable", "MCP tool pinning is not available on this gateway.")
		return false
	}
	if !p.Global() {
		writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin reviews MCP tool definitions.")
		return false
	}
	return true
}

// listMCPTools answers GET /admin/mcp/tools[?server=&status=].
func (h *handler) listMCPTools(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !h.mcpUsable(w, p) {
		return
	}
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", store.MCPToolApproved, store.MCPToolPending, store.MCPToolRejected:
	default:
		writeError(w, http.StatusBadRequest, "invalid_status", "status must be approved, pending or rejected.")
		return
	}
	list, err := h.mcpTools.ListMCPTools(r.Context(), q.Get("server"), status)
	if err != nil {
		h.log.Error("admin: list mcp tools", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is unavailable; try again.")
		return
	}
	out := make([]mcpToolView, len(list))
	for i, t := range list {
		out[i] = mcpToolView{Object: "mcp_tool", MCPTool: t}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

// decideMCPTool answers POST /admin/mcp/tools/decide.
func (h *handler) decideMCPTool(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !h.mcpUsable(w, p) {
		return
	}
	var req DecideMCPToolRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Server == "" || req.Tool == "" || req.Hash == "" || (req.Decision != "approve" && req.Decision != "reject") {
		writeError(w, http.StatusBadRequest, "invalid_request", "server, tool, hash and decision (approve or reject) are required.")
		return
	}
	by := p.KeyID
	if by == "" {
		by = p.Subject
	}
	t, err := h.mcpTools.DecideMCPTool(r.Context(), req.Server, req.Tool, req.Hash, req.Decision == "approve", by)
	switch {
	case errors.Is(err, store.ErrMCPToolNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No pending definition of that tool.")
		return
	case errors.Is(err, store.ErrMCPToolStale):
		writeError(w, http.StatusConflict, "stale_definition", err.Error())
		return
	case err != nil:
		h.log.Error("admin: decide mcp tool", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is unavailable; try again.")
		return
	}
	note(r, "mcp_tool_"+req.Decision, req.Server+"/"+req.Tool, "", "definition "+req.Hash)
	h.log.Info("admin: mcp tool "+req.Decision, "server", req.Server, "tool", req.Tool, "hash", req.Hash, "by", by)
	writeJSON(w, http.StatusOK, mcpToolView{Object: "mcp_tool", MCPTool: t})
}
