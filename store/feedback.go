package store

import (
	"context"
	"errors"
	"time"
)

// Feedback is a reviewer's judgement of one would-be (or real) block: the
// audit record's request id, the layer and rule that fired, and whether
// it was a false positive. Text is the (redacted) text the reviewer
// judged, when known; exported feedback with text is a labelled row for
// `rampart eval --file`.
type Feedback struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Tenant    string    `json:"tenant"`
	RequestID string    `json:"request_id"`
	Layer     string    `json:"layer"`
	Rule      string    `json:"rule"`
	// Verdict is FeedbackFalsePositive or FeedbackTruePositive.
	Verdict string `json:"verdict"`
	// Role is the role of the judged text (user, system, assistant,
	// document, tool); empty: user.
	Role string `json:"role,omitempty"`
	Text string `json:"text,omitempty"`
	Note string `json:"note,omitempty"`
	// By is who judged: a key id, or source:subject for a token.
	By string `json:"by"`
}

// Feedback verdicts.
const (
	FeedbackFalsePositive = "false_positive"
	FeedbackTruePositive  = "true_positive"
)

// Bounds of one feedback record.
const (
	MaxFeedbackText  = 32 << 10
	MaxFeedbackNote  = 1 << 10
	MaxFeedbackIDLen = 256
	// MaxFeedbackLimit bounds one ListFeedback result.
	MaxFeedbackLimit = 10000
)

// ErrInvalidFeedback wraps a feedback record the store refuses.
var ErrInvalidFeedback = errors.New("invalid feedback")

// FeedbackFilter selects feedback records. Zero fields do not filter.
type FeedbackFilter struct {
	Tenant string
	// AfterID keeps records with ID > AfterID (pagination cursor).
	AfterID int64
	// Limit caps the result (<= 0: 1000; capped at MaxFeedbackLimit).
	Limit int
}

// EffectiveLimit is the limit a backend applies for f.Limit.
func (f FeedbackFilter) EffectiveLimit() int { return effectiveLimit(f.Limit, 1000, MaxFeedbackLimit) }

// FeedbackStore keeps review feedback. One record per request id, layer
// and rule: a second judgement replaces the first.
type FeedbackStore interface {
	// AddFeedback stores f (replacing an earlier judgement of the same
	// request id, layer and rule) and returns it with its ID and Time.
	AddFeedback(ctx context.Context, f Feedback) (Feedback, error)
	// ListFeedback returns matching records in ascending ID order.
	ListFeedback(ctx context.Context, f FeedbackFilter) ([]Feedback, error)
}

// CheckFeedback bounds what a feedback record may hold.
func CheckFeedback(f Feedback) error {
	switch {
	case f.RequestID == "" || f.Layer == "":
		return errors.Join(ErrInvalidFeedback, errors.New("request_id and layer are required"))
	case len(f.RequestID) > MaxFeedbackIDLen || len(f.Layer) > MaxFeedbackIDLen || len(f.Rule) > MaxFeedbackIDLen ||
		len(f.Tenant) > MaxFeedbackIDLen || len(f.By) > MaxFeedbackIDLen || len(f.Role) > 32:
		return errors.Join(ErrInvalidFeedback, errors.New("an id is over 256 bytes"))
	case f.Verdict != FeedbackFalsePositive && f.Verdict != FeedbackTruePositive:
		return errors.Join(ErrInvalidFeedback, errors.New("verdict must be false_positive or true_positive"))
	case len(f.Text) > MaxFeedbackText:
		return errors.Join(ErrInvalidFeedback, errors.New("text over 32 KiB"))
	case len(f.Note) > MaxFeedbackNote:
		return errors.Join(ErrInvalidFeedback, errors.New("note over 1 KiB"))
	}
	return nil
}
