package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/engine"
)

// AuditRecord is one finished transaction as the audit log keeps it. It never
// holds raw prompt or answer text unless content capture is configured, in
// which case Content is set.
type AuditRecord struct {
	// ID is assigned by the store on write (monotonic per store); 0 before.
	ID        int64     `json:"id"`
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
	Route     string    `json:"route"`
	Model     string    `json:"model,omitempty"`
	Upstream  string    `json:"upstream,omitempty"`
	Tenant    string    `json:"tenant,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	ClientIP  string    `json:"client_ip,omitempty"`
	Status    int       `json:"status"`
	// Latency is the whole transaction's duration.
	Latency          time.Duration `json:"latency_ns"`
	PromptTokens     int           `json:"prompt_tokens"`
	CompletionTokens int           `json:"completion_tokens"`
	TotalTokens      int           `json:"total_tokens"`
	RequestBytes     int64         `json:"request_bytes"`
	ResponseBytes    int64         `json:"response_bytes"`
	// ContentMAC is the hex HMAC-SHA256 of the request content: it lets an
	// investigator match a known prompt to a record without storing it.
	ContentMAC string `json:"content_mac,omitempty"`
	// Decisions are every layer outcome, in chain order. Findings carry
	// rule ids, entities and offsets, never matched text.
	Decisions []engine.Outcome `json:"decisions"`
	Blocked   bool             `json:"blocked"`
	// Error is the upstream or engine failure, if any.
	Error string `json:"error,omitempty"`
	// Content is captured text, present only with audit.capture_content on;
	// the audit log stores it redacted and sealed (AuditContent.Sealed).
	Content *AuditContent `json:"content,omitempty"`
	// Attempts are the upstream calls made, in order (which upstream,
	// status, why it was not used), when the router made any.
	Attempts []engine.Attempt `json:"attempts,omitempty"`
	// CostNanos is the request's cost in nano-USD (1e-9 USD) from the
	// price table; Priced is false when its model had no price.
	CostNanos int64 `json:"cost_nanos"`
	Priced    bool  `json:"priced"`
	// TraceID is the transaction's OpenTelemetry trace id (32 hex digits),
	// the same as in its log lines; empty when tracing was off.
	TraceID string `json:"trace_id,omitempty"`
}

// AuditContent is captured raw text (audit.capture_content only).
type AuditContent struct {
	// Request holds the request's text segments in conversation order.
	Request []ContentSegment `json:"request,omitempty"`
	// Response is the answer text as sent to the client, when known.
	Response string `json:"response,omitempty"`
	// Truncated is true when the text was cut to the capture bound.
	Truncated bool `json:"truncated,omitempty"`
	// Sealed, when set, holds Request, Response and Truncated encrypted
	// (package secrets); the clear fields are then empty. The audit log
	// always stores content sealed; readers with the master key open it.
	Sealed *SealedContent `json:"sealed,omitempty"`
}

// SealedContent is encrypted audit content: AES-256-GCM under the data key
// KeyID, bound to the record's request id.
type SealedContent struct {
	KeyID string `json:"key_id"`
	Data  []byte `json:"data"`
}

// ContentSegment is one captured piece of request text.
type ContentSegment struct {
	Message int    `json:"message_index"` // -1 for a top-level system prompt
	Role    string `json:"role"`
	Source  string `json:"source"`
	Text    string `json:"text"`
}

// AuditFilter selects audit records. Zero fields do not filter.
type AuditFilter struct {
	// Since and Until bound the record time: Since <= t < Until.
	Since, Until time.Time
	// Tenant keeps only one tenant's records.
	Tenant string
	// KeyID and Subject keep only the records of one key id and one
	// subject (each when set): a viewer's own audit trail.
	KeyID, Subject string
	// AfterID keeps records with ID > AfterID (pagination cursor).
	AfterID int64
	// BeforeID keeps records with ID < BeforeID (paging back from the
	// newest with Latest).
	BeforeID int64
	// RequestID keeps the records of one request id.
	RequestID string
	// Layer and Rule keep records with an outcome or finding of that layer
	// and with that rule id (each when set; not necessarily the same
	// outcome).
	Layer, Rule string
	// Decision keeps records by what happened: DecisionBlocked,
	// DecisionAllowed, DecisionWouldBlock (a monitor-mode layer would have
	// blocked) or DecisionFlagged; "" keeps all.
	Decision string
	// Limit caps the result (<= 0: DefaultAuditLimit; capped at MaxAuditLimit).
	Limit int
	// Latest returns the newest Limit matching records instead of the
	// oldest; the result is still in ascending ID order.
	Latest bool
}

// AuditFilter.Decision values.
const (
	DecisionBlocked    = "blocked"
	DecisionAllowed    = "allowed"
	DecisionWouldBlock = "would_block"
	DecisionFlagged    = "flagged"
)

// ValidDecision reports whether d is an AuditFilter.Decision value ("" too).
func ValidDecision(d string) bool {
	switch d {
	case "", DecisionBlocked, DecisionAllowed, DecisionWouldBlock, DecisionFlagged:
		return true
	}
	return false
}

// WouldBlock reports whether o is a monitor-mode layer's block: recorded,
// not enforced.
func WouldBlock(o engine.Outcome) bool { return o.Monitor && o.Action == "block" }

const (
	// DefaultAuditLimit is the page size when AuditFilter.Limit is unset.
	DefaultAuditLimit = 100
	// MaxAuditLimit bounds one query's result so memory stays bounded;
	// callers page with AfterID.
	MaxAuditLimit = 10000
)

// EffectiveLimit is the limit a backend applies for f.Limit.
func (f AuditFilter) EffectiveLimit() int {
	return effectiveLimit(f.Limit, DefaultAuditLimit, MaxAuditLimit)
}

// effectiveLimit is n, or def when n <= 0, capped at most.
func effectiveLimit(n, def, most int) int {
	switch {
	case n <= 0:
		return def
	case n > most:
		return most
	}
	return n
}

// AuditStore persists audit records. Implementations are safe for
// concurrent use.
type AuditStore interface {
	// WriteAudit stores recs in one transaction (all or none) and sets
	// each record's ID.
	WriteAudit(ctx context.Context, recs []*AuditRecord) error
	// QueryAudit returns records matching f in ascending ID order.
	QueryAudit(ctx context.Context, f AuditFilter) ([]*AuditRecord, error)
	// PurgeAudit deletes records older than before and reports how many.
	PurgeAudit(ctx context.Context, before time.Time) (int64, error)
	// Close releases the store.
	Close() error
}

// ErrRecordRefused marks a WriteAudit error the store gives because of the
// records' values (a data exception or a limit of the backend), not
// because it is unreachable: writing the same records again fails again.
var ErrRecordRefused = errors.New("store: the store refused the records' values")

// MaxAuditName bounds the model name and the subject of a stored audit
// record (CleanAuditRecord): a client chooses its model name, and both are
// part of the spend table's key, whose index holds about 2.7 KB a row on
// PostgreSQL.
const MaxAuditName = 256

// CleanAuditRecord makes r's strings storable by every backend, in place:
// invalid UTF-8 and NUL bytes (which PostgreSQL's text type refuses)
// become U+FFFD, and the model and subject are cut to MaxAuditName bytes.
// A client picks its model name, so without it one request could make the
// store refuse the batch its record is in, for ever.
func CleanAuditRecord(r *AuditRecord) {
	for _, s := range [...]*string{&r.RequestID, &r.Route, &r.Model, &r.Upstream, &r.Tenant, &r.KeyID,
		&r.Subject, &r.ClientIP, &r.ContentMAC, &r.Error, &r.TraceID} {
		*s = CleanText(*s)
	}
	r.Model = CutUTF8(r.Model, MaxAuditName)
	r.Subject = CutUTF8(r.Subject, MaxAuditName)
}

// CleanText returns s as valid UTF-8 without NUL bytes (each replaced by
// U+FFFD), s itself when it is already.
func CleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// CutUTF8 cuts s to at most n bytes without splitting a character.
func CutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
