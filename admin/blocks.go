package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// AuditWriter writes audit records (store.AuditStore implementations
// provide it).
type AuditWriter interface {
	WriteAudit(ctx context.Context, recs []*store.AuditRecord) error
}

// WithBlocks serves GET/POST /admin/blocks and DELETE /admin/blocks/{id}
// over bs (the gateway passes the blocklist layer's cache, so that changes
// apply on this replica at once and on the others at their next refresh).
// Every change is written to aw (nil: logged only) with the admin's key id.
func WithBlocks(bs store.BlockStore, aw AuditWriter) Option {
	return func(h *handler) { h.blocks, h.blocksAudit = bs, aw }
}

// CreateBlockRequest is the body of POST /admin/blocks.
type CreateBlockRequest struct {
	// Kind is key, user, ip or cidr.
	Kind string `json:"kind"`
	// Value is the key id, user subject, IP address or network prefix.
	Value string `json:"value"`
	// Tenant is the user's tenant (kind user; default: the caller's).
	Tenant string `json:"tenant,omitempty"`
	// Action is block (default) or throttle.
	Action string `json:"action,omitempty"`
	// RPM is a throttle's requests per minute.
	RPM int64 `json:"rpm,omitempty"`
	// TTL is how long the block lasts, e.g. "1h" or "7d" (required).
	TTL string `json:"ttl"`
	// Reason says why (required; audited, never shown to the client).
	Reason string `json:"reason"`
}

// blockView is a block as the API shows it.
type blockView struct {
	Object string `json:"object"`
	store.Block
}

func (h *handler) blocksUnavailable(w http.ResponseWriter) bool {
	if h.blocks == nil {
		writeError(w, http.StatusServiceUnavailable, "blocks_unavailable", "Blocks are not available on this gateway.")
		return true
	}
	return false
}

// visible reports whether p may see or remove b: a global admin every
// block, a tenant's caller only key and user blocks of its own tenant.
func visible(p *identity.Principal, b *store.Block) bool {
	return p.Global() || (b.Tenant == p.Tenant && (b.Kind == store.BlockKey || b.Kind == store.BlockUser))
}

func (h *handler) listBlocks(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.blocksUnavailable(w) {
		return
	}
	tenant, ok := scope(p, r.URL.Query().Get("tenant"))
	if !ok {
		writeError(w, http.StatusForbidden, "permission_denied", "You may only list your own tenant's blocks.")
		return
	}
	list, err := h.blocks.ListBlocks(r.Context(), time.Now())
	if err != nil {
		h.blocksStoreError(w, err)
		return
	}
	out := make([]blockView, 0, len(list))
	for i := range list {
		if visible(p, &list[i]) && (tenant == "" || list[i].Tenant == tenant) {
			out = append(out, blockView{Object: "block", Block: list[i]})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": out})
}

func (h *handler) createBlock(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.blocksUnavailable(w) {
		return
	}
	var req CreateBlockRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Action == "" {
		req.Action = store.ActionBlock
	}
	if req.Reason == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "reason is required (it is audited).")
		return
	}
	ttl, err := identity.ParseDuration(req.TTL)
	if err != nil || ttl <= 0 || ttl > store.MaxBlockTTL {
		writeError(w, http.StatusBadRequest, "invalid_request", "ttl must be a positive duration up to 366d, such as 1h or 7d.")
		return
	}
	b := store.Block{Kind: req.Kind, Value: req.Value, Tenant: req.Tenant, Action: req.Action, RPM: req.RPM,
		Reason: req.Reason, CreatedBy: p.KeyID, ExpiresAt: time.Now().Add(ttl)}
	if b.CreatedBy == "" {
		b.CreatedBy = p.Source + ":" + p.Subject
	}
	switch req.Kind {
	case store.BlockIP, store.BlockCIDR:
		if !p.Global() {
			writeError(w, http.StatusForbidden, "permission_denied", "Only a global admin may block addresses (they affect every tenant).")
			return
		}
		b.Tenant = ""
	case store.BlockUser:
		if b.Tenant == "" {
			b.Tenant = p.Tenant
		}
		if _, ok := scope(p, b.Tenant); !ok || b.Tenant == identity.GlobalTenant && !p.Global() {
			writeError(w, http.StatusForbidden, "permission_denied", "You may only block users of your own tenant.")
			return
		}
	case store.BlockKey:
		k, err := h.svc.Store().GetKey(r.Context(), req.Value)
		if errors.Is(err, identity.ErrNotFound) || err == nil && !p.Global() && k.Tenant != p.Tenant {
			writeError(w, http.StatusNotFound, "not_found", "No such key.")
			return
		}
		if err != nil {
			h.storeError(w, err)
			return
		}
		if req.Tenant != "" && req.Tenant != k.Tenant {
			writeError(w, http.StatusBadRequest, "invalid_request", "tenant does not match the key's tenant.")
			return
		}
		b.Tenant = k.Tenant
	}
	stored, err := h.blocks.AddBlock(r.Context(), b)
	if err != nil {
		h.blocksStoreError(w, err)
		return
	}
	noteBlock(r, "block_added", stored)
	writeJSON(w, http.StatusCreated, blockView{Object: "block", Block: stored})
}

func (h *handler) removeBlock(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if h.blocksUnavailable(w) {
		return
	}
	id := r.PathValue("id")
	if !store.ValidBlockID(id) {
		writeError(w, http.StatusNotFound, "not_found", "No such block.")
		return
	}
	list, err := h.blocks.ListBlocks(r.Context(), time.Now())
	if err != nil {
		h.blocksStoreError(w, err)
		return
	}
	var found *store.Block
	for i := range list {
		if list[i].ID == id {
			found = &list[i]
			break
		}
	}
	// Another tenant's block is "not found", so ids are not disclosed.
	if found == nil || !visible(p, found) {
		writeError(w, http.StatusNotFound, "not_found", "No such block.")
		return
	}
	if err := h.blocks.RemoveBlock(r.Context(), id); err != nil {
		h.blocksStoreError(w, err)
		return
	}
	noteBlock(r, "block_removed", *found)
	writeJSON(w, http.StatusOK, map[string]any{"object": "block", "id": id, "deleted": true})
}

func (h *handler) blocksStoreError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrInvalidBlock):
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, store.ErrBlockNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such block.")
	default:
		h.log.Error("admin: block store error", "err", err)
		writeError(w, http.StatusServiceUnavailable, "store_unavailable", "The store is temporarily unavailable.")
	}
}

// noteBlock describes a block change for its audit record: the action
// code, the block id as object and what changed.
func noteBlock(r *http.Request, code string, b store.Block) {
	what := b.Action + " of " + b.Kind + " " + b.Value
	if code == "block_added" {
		what += " until " + b.ExpiresAt.UTC().Format(time.RFC3339) + ": " + b.Reason
	} else {
		what = "removed " + what
	}
	note(r, code, b.ID, b.Tenant, what)
}
