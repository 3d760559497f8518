package gateway

import (
	"context"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
)

// fullStore is every store interface the backends (store/sqlite,
// store/postgres) implement and the gateway's services look for.
type fullStore interface {
	Store
	store.SecretStore
	store.SubjectEraser
	store.SpendStore
	store.FeedbackStore
	store.MCPToolStore
}

// boundStore gives every call to st a deadline of at most timeout
// (store.timeout), whatever the caller passed: the identity service, the
// admin API, the audit log, the blocklist cache, the incident responder,
// secrets, spend and MCP pins all reach the store through it, so a hung
// database stalls none of them longer than that. The bulk jobs (subject
// erasure, audit purge, data-key rewrap) keep the caller's deadline and
// get bulk when the caller gave none. A store that does not implement
// every interface (one given with WithStore) is returned as is.
func boundStore(st Store, timeout, bulk time.Duration) Store {
	fs, ok := st.(fullStore)
	if !ok || timeout <= 0 {
		return st
	}
	return &deadlineStore{s: fs, d: timeout, bulk: bulk}
}

type deadlineStore struct {
	s       fullStore
	d, bulk time.Duration
}

// call bounds one ordinary store call.
func (b *deadlineStore) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.d) // keeps an earlier deadline of ctx
}

// long bounds a bulk job: the caller's deadline, or bulk when it has none.
func (b *deadlineStore) long(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || b.bulk <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, b.bulk)
}

func (b *deadlineStore) Close() error { return b.s.Close() }

// identity.Store

func (b *deadlineStore) CreateTenant(ctx context.Context, t identity.Tenant) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.CreateTenant(ctx, t)
}

func (b *deadlineStore) GetTenant(ctx context.Context, id string) (identity.Tenant, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.GetTenant(ctx, id)
}

func (b *deadlineStore) ListTenants(ctx context.Context) ([]identity.Tenant, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ListTenants(ctx)
}

func (b *deadlineStore) CreateKey(ctx context.Context, k identity.Key) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.CreateKey(ctx, k)
}

func (b *deadlineStore) KeyByHash(ctx context.Context, hash []byte) (identity.Key, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.KeyByHash(ctx, hash)
}

func (b *deadlineStore) GetKey(ctx context.Context, id string) (identity.Key, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.GetKey(ctx, id)
}

func (b *deadlineStore) ListKeys(ctx context.Context, tenant string) ([]identity.Key, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ListKeys(ctx, tenant)
}

func (b *deadlineStore) CountKeys(ctx context.Context) (int, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.CountKeys(ctx)
}

func (b *deadlineStore) RevokeKey(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.RevokeKey(ctx, id, at)
}

func (b *deadlineStore) ExpireKey(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ExpireKey(ctx, id, at)
}

func (b *deadlineStore) SetKeyLimits(ctx context.Context, id string, limits map[string]int64) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.SetKeyLimits(ctx, id, limits)
}

func (b *deadlineStore) SetTenantLimits(ctx context.Context, id string, limits map[string]int64) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.SetTenantLimits(ctx, id, limits)
}

func (b *deadlineStore) RotateKey(ctx context.Context, oldID string, oldExpires time.Time, next identity.Key) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.RotateKey(ctx, oldID, oldExpires, next)
}

func (b *deadlineStore) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.TouchKeys(ctx, used)
}

func (b *deadlineStore) IdentityGeneration(ctx context.Context) (int64, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.IdentityGeneration(ctx)
}

// store.AuditStore

func (b *deadlineStore) WriteAudit(ctx context.Context, recs []*store.AuditRecord) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.WriteAudit(ctx, recs)
}

func (b *deadlineStore) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditRecord, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.QueryAudit(ctx, f)
}

func (b *deadlineStore) PurgeAudit(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := b.long(ctx)
	defer cancel()
	return b.s.PurgeAudit(ctx, before)
}

// store.BlockStore

func (b *deadlineStore) AddBlock(ctx context.Context, bl store.Block) (store.Block, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.AddBlock(ctx, bl)
}

func (b *deadlineStore) RemoveBlock(ctx context.Context, id string) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.RemoveBlock(ctx, id)
}

func (b *deadlineStore) ListBlocks(ctx context.Context, now time.Time) ([]store.Block, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ListBlocks(ctx, now)
}

func (b *deadlineStore) BlocksVersion(ctx context.Context) (int64, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.BlocksVersion(ctx)
}

func (b *deadlineStore) PurgeExpiredBlocks(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.PurgeExpiredBlocks(ctx, now)
}

// store.SecretStore

func (b *deadlineStore) PutSecret(ctx context.Context, dk store.DataKey, s store.Secret) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.PutSecret(ctx, dk, s)
}

func (b *deadlineStore) GetSecret(ctx context.Context, name string) (store.Secret, store.DataKey, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.GetSecret(ctx, name)
}

func (b *deadlineStore) ListSecrets(ctx context.Context) ([]store.SecretInfo, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ListSecrets(ctx)
}

func (b *deadlineStore) DeleteSecret(ctx context.Context, name string) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.DeleteSecret(ctx, name)
}

func (b *deadlineStore) PutDataKey(ctx context.Context, dk store.DataKey) error {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.PutDataKey(ctx, dk)
}

func (b *deadlineStore) GetDataKey(ctx context.Context, id string) (store.DataKey, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.GetDataKey(ctx, id)
}

func (b *deadlineStore) RewrapDataKeys(ctx context.Context, fn store.Rewrap) (int, error) {
	ctx, cancel := b.long(ctx)
	defer cancel()
	return b.s.RewrapDataKeys(ctx, fn)
}

// store.SubjectEraser

func (b *deadlineStore) EraseSubject(ctx context.Context, id string) (store.Erasure, error) {
	ctx, cancel := b.long(ctx)
	defer cancel()
	return b.s.EraseSubject(ctx, id)
}

// store.SpendStore

func (b *deadlineStore) QuerySpend(ctx context.Context, f store.SpendFilter) ([]store.SpendRow, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.QuerySpend(ctx, f)
}

// store.FeedbackStore

func (b *deadlineStore) AddFeedback(ctx context.Context, f store.Feedback) (store.Feedback, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.AddFeedback(ctx, f)
}

func (b *deadlineStore) ListFeedback(ctx context.Context, f store.FeedbackFilter) ([]store.Feedback, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ListFeedback(ctx, f)
}

// store.MCPToolStore

func (b *deadlineStore) GetMCPTool(ctx context.Context, server, tool string) (store.MCPTool, bool, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.GetMCPTool(ctx, server, tool)
}

func (b *deadlineStore) PinMCPTool(ctx context.Context, t store.MCPTool) (store.MCPTool, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.PinMCPTool(ctx, t)
}

func (b *deadlineStore) SetMCPToolPending(ctx context.Context, server, tool, hash, definition, reason string) (store.MCPTool, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.SetMCPToolPending(ctx, server, tool, hash, definition, reason)
}

func (b *deadlineStore) DecideMCPTool(ctx context.Context, server, tool, hash string, approve bool, by string) (store.MCPTool, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.DecideMCPTool(ctx, server, tool, hash, approve, by)
}

func (b *deadlineStore) ListMCPTools(ctx context.Context, server, status string) ([]store.MCPTool, error) {
	ctx, cancel := b.call(ctx)
	defer cancel()
	return b.s.ListMCPTools(ctx, server, status)
}

var _ fullStore = (*deadlineStore)(nil)
