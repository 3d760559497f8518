package store

import "context"

// Erasure counts what EraseSubject deleted.
type Erasure struct {
	// AuditRecords is the number of audit records (with their captured
	// content) whose subject or key id was the erased id.
	AuditRecords int64 `json:"audit_records"`
	// Keys is 1 when the id was an API key's id (the key row is deleted,
	// which also revokes it), else 0.
	Keys int64 `json:"keys"`
	// KeyReferences is how many other keys named it as their replacement
	// (the reference is cleared).
	KeyReferences int64 `json:"key_references"`
	// Blocks is how many blocks (layers/blocklist) had the id as their
	// value. They are deleted: erasing a blocked subject lifts its block.
	Blocks int64 `json:"blocks"`
	// BlockReferences is how many other blocks named the id as their
	// creator or in their reason (those fields are cleared).
	BlockReferences int64 `json:"block_references"`
	// SpendRows is how many daily spend rows named the id as user or key:
	// their amounts move to the same day, tenant and model with the id
	// cleared, so tenant totals stay right and the id is gone.
	SpendRows int64 `json:"spend_rows"`
}

// Total is the number of rows deleted or changed.
func (e Erasure) Total() int64 {
	return e.AuditRecords + e.Keys + e.KeyReferences + e.Blocks + e.BlockReferences + e.SpendRows
}

// SubjectEraser erases every record of a user id or API key id (right to
// erasure). Implementations run it in one transaction and make deleted
// bytes unrecoverable from the store's files where the backend allows it.
type SubjectEraser interface {
	EraseSubject(ctx context.Context, id string) (Erasure, error)
}
