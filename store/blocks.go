package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
)

// What a block applies to (Block.Kind).
const (
	BlockKey  = "key"  // one API key, by key id
	BlockUser = "user" // one user (identity subject) of one tenant
	BlockIP   = "ip"   // one client address
	BlockCIDR = "cidr" // a network prefix of client addresses
)

// What a block does (Block.Action).
const (
	// ActionBlock refuses every request of the target (403 blocked).
	ActionBlock = "block"
	// ActionThrottle admits at most Block.RPM requests per minute from the
	// target (429 with Retry-After past it).
	ActionThrottle = "throttle"
)

// CreatedByAuto is Block.CreatedBy for blocks created by the incident
// responder (every other block names the admin key or "cli").
const CreatedByAuto = "auto"

// Bounds of a block's fields.
const (
	// MaxBlockTTL is the longest a block may last.
	MaxBlockTTL = 366 * 24 * time.Hour
	// MaxBlockValueLen bounds Block.Value, Tenant and CreatedBy.
	MaxBlockValueLen = 256
	// MaxBlockReasonLen bounds Block.Reason.
	MaxBlockReasonLen = 512
	// MaxBlockRPM bounds a throttle's rate.
	MaxBlockRPM = 1_000_000
	// MaxActiveBlocks bounds what ListBlocks returns (and so what every
	// replica caches).
	MaxActiveBlocks = 100_000
)

// Block is one active block or throttle: a key, user, address or network
// that the blocklist layer refuses (or slows) until ExpiresAt.
type Block struct {
	// ID is assigned by AddBlock ("blk_" and 16 hex digits).
	ID string `json:"id"`
	// Kind is key, user, ip or cidr.
	Kind string `json:"kind"`
	// Value is the key id, user subject, address or prefix, in canonical
	// form (see NormalizeBlock).
	Value string `json:"value"`
	// Tenant is the user's tenant for kind user (required), the key's
	// tenant for kind key (informational), "" for ip and cidr.
	Tenant string `json:"tenant,omitempty"`
	// Action is block or throttle.
	Action string `json:"action"`
	// RPM is the throttle's requests per minute (throttle only).
	RPM int64 `json:"rpm,omitempty"`
	// Reason says why (shown to operators, audited; never sent to the
	// blocked client).
	Reason string `json:"reason"`
	// CreatedBy is the admin key id, "cli", or CreatedByAuto.
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt ends the block; expired blocks are ignored and purged.
	ExpiresAt time.Time `json:"expires_at"`
}

// Active reports whether the block is in force at now.
func (b *Block) Active(now time.Time) bool { return now.Before(b.ExpiresAt) }

// ErrBlockNotFound is returned by RemoveBlock for an unknown (or already
// purged) block id.
var ErrBlockNotFound = errors.New("store: no such block")

// ErrInvalidBlock wraps every NormalizeBlock error.
var ErrInvalidBlock = errors.New("invalid block")

// BlockStore keeps the blocks that every replica enforces. Implementations
// are safe for concurrent use.
type BlockStore interface {
	// AddBlock validates b (NormalizeBlock), assigns its ID and CreatedAt
	// when unset, stores it and bumps the blocks version in the same
	// transaction. It returns the stored block.
	AddBlock(ctx context.Context, b Block) (Block, error)
	// RemoveBlock deletes one block (ErrBlockNotFound if none) and bumps
	// the version.
	RemoveBlock(ctx context.Context, id string) error
	// ListBlocks returns the blocks active at now (ExpiresAt > now), at most
	// MaxActiveBlocks, ordered by creation time then id.
	ListBlocks(ctx context.Context, now time.Time) ([]Block, error)
	// BlocksVersion returns a counter that changes whenever the set of
	// blocks changes (add, remove, purge): replicas poll it cheaply and
	// reload only when it moved.
	BlocksVersion(ctx context.Context) (int64, error)
	// PurgeExpiredBlocks deletes blocks that expired at or before now and
	// reports how many.
	PurgeExpiredBlocks(ctx context.Context, now time.Time) (int64, error)
}

// NewBlockID returns a fresh random block id.
func NewBlockID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "blk_" + hex.EncodeToString(b[:])
}

// ValidBlockID reports whether id has the form NewBlockID produces.
func ValidBlockID(id string) bool {
	if len(id) != 20 || !strings.HasPrefix(id, "blk_") {
		return false
	}
	_, err := hex.DecodeString(id[4:])
	return err == nil
}

// NormalizeBlock checks b and returns it in canonical form: IP addresses
// unmapped and without zone, prefixes masked (a /32 or /128 prefix becomes
// kind ip), text fields trimmed and bounded. now is used to check
// ExpiresAt. Errors wrap ErrInvalidBlock and are safe to show to admins.
func NormalizeBlock(b Block, now time.Time) (Block, error) {
	bad := func(format string, args ...any) (Block, error) {
		return Block{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidBlock}, args...)...)
	}
	b.Value = strings.TrimSpace(b.Value)
	b.Tenant = strings.TrimSpace(b.Tenant)
	b.Reason = strings.TrimSpace(b.Reason)
	if b.Value == "" {
		return bad("value is empty")
	}
	for _, f := range []struct{ name, v string }{{"value", b.Value}, {"tenant", b.Tenant}, {"created_by", b.CreatedBy}} {
		if len(f.v) > MaxBlockValueLen {
			return bad("%s longer than %d bytes", f.name, MaxBlockValueLen)
		}
		if !printable(f.v) {
			return bad("%s has control or non-UTF-8 characters", f.name)
		}
	}
	if len(b.Reason) > MaxBlockReasonLen {
		return bad("reason longer than %d bytes", MaxBlockReasonLen)
	}
	if !printable(b.Reason) {
		return bad("reason has control or non-UTF-8 characters")
	}
	switch b.Kind {
	case BlockKey:
		if strings.ContainsFunc(b.Value, unicode.IsSpace) {
			return bad("key id has spaces")
		}
	case BlockUser:
		if b.Tenant == "" {
			return bad("a user block needs the user's tenant")
		}
	case BlockIP:
		a, err := netip.ParseAddr(b.Value)
		if err != nil {
			return bad("ip %q is not an IP address", b.Value)
		}
		b.Value = a.Unmap().WithZone("").String()
		b.Tenant = ""
	case BlockCIDR:
		p, err := netip.ParsePrefix(b.Value)
		if err != nil {
			return bad("cidr %q is not a network prefix such as 203.0.113.0/24", b.Value)
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			a, bits = a.Unmap(), bits-96
		}
		p = netip.PrefixFrom(a, bits).Masked()
		if bits == a.BitLen() {
			b.Kind, b.Value = BlockIP, p.Addr().String()
		} else {
			b.Value = p.String()
		}
		b.Tenant = ""
	default:
		return bad("kind %q: want key, user, ip or cidr", b.Kind)
	}
	switch b.Action {
	case ActionBlock:
		b.RPM = 0
	case ActionThrottle:
		if b.RPM < 1 || b.RPM > MaxBlockRPM {
			return bad("a throttle needs rpm between 1 and %d", MaxBlockRPM)
		}
	default:
		return bad("action %q: want block or throttle", b.Action)
	}
	if b.ExpiresAt.IsZero() {
		return bad("expires_at is required (blocks have a TTL)")
	}
	if !b.ExpiresAt.After(now) {
		return bad("expires_at is not in the future")
	}
	if b.ExpiresAt.Sub(now) > MaxBlockTTL+time.Minute {
		return bad("ttl longer than %s", MaxBlockTTL)
	}
	if b.ID != "" && !ValidBlockID(b.ID) {
		return bad("id %q is not a block id", b.ID)
	}
	return b, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
