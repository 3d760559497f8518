package audit

import (
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

const (
	// MaxCaptureBytes bounds captured raw text per record (request and
	// response together) when audit.capture_content is on.
	MaxCaptureBytes = 256 << 10
	// maxErrorBytes bounds the error string kept in a record.
	maxErrorBytes = 1024
)

// StateResponseText is the tx.State key under which the gateway leaves the
// answer text it sent to the client (a string), so that capture mode can
// store it. Set it only when CaptureContent reports true.
const StateResponseText = "audit.response_text"

// CaptureContent reports whether the log stores (redacted, encrypted)
// text, so the gateway knows whether to assemble the answer text for
// StateResponseText: audit.capture_content is on and EnableContentCapture
// was called.
func (l *Log) CaptureContent() bool {
	return l.enabled && l.cfg.CaptureContent && l.prot.Load() != nil
}

// build copies what a record needs out of tx.
func build(tx *engine.Tx, capture bool, now time.Time) *Record {
	r := &Record{
		RequestID:        tx.ID,
		Time:             tx.Start.UTC(),
		Route:            tx.Route,
		Upstream:         tx.Upstream,
		ClientIP:         tx.ClientIP,
		Status:           tx.Status,
		PromptTokens:     tx.Usage.PromptTokens,
		CompletionTokens: tx.Usage.CompletionTokens,
		TotalTokens:      tx.Usage.TotalTokens,
		RequestBytes:     tx.RequestBytes,
		ResponseBytes:    tx.ResponseBytes,
		ContentMAC:       tx.ContentMAC,
		Blocked:          tx.Blocked,
		TraceID:          tx.TraceID(),
		CostNanos:        tx.Cost,
		Priced:           tx.Priced,
	}
	if len(tx.Attempts) > 0 {
		r.Attempts = append([]engine.Attempt(nil), tx.Attempts...)
	}
	if !tx.Start.IsZero() {
		r.Latency = now.Sub(tx.Start)
	}
	if tx.Request != nil {
		r.Model = tx.Request.Model
	}
	if id := tx.Identity; id != nil {
		r.Tenant, r.KeyID, r.Subject = id.Tenant, id.KeyID, id.Subject
	}
	if tx.Err != nil {
		r.Error = truncate(tx.Err.Error(), maxErrorBytes)
	}
	r.Decisions = make([]engine.Outcome, len(tx.Outcomes))
	for i, o := range tx.Outcomes {
		if o.Findings != nil {
			o.Findings = append([]engine.Finding(nil), o.Findings...)
		}
		r.Decisions[i] = o
	}
	if capture {
		r.Content = captureContent(tx)
	}
	return r
}

func captureContent(tx *engine.Tx) *store.AuditContent {
	c := &store.AuditContent{}
	budget := MaxCaptureBytes
	take := func(s string) string {
		if len(s) > budget {
			c.Truncated = true
			s = truncate(s, budget)
		}
		budget -= len(s)
		return s
	}
	if tx.Request != nil {
		tx.Request.EachSegment(func(msg int, role conv.Role, s *conv.Segment) {
			if budget == 0 {
				c.Truncated = c.Truncated || s.Text != ""
				return
			}
			c.Request = append(c.Request, store.ContentSegment{
				Message: msg, Role: string(role), Source: string(s.Source), Text: take(s.Text),
			})
		})
	}
	if resp, ok := tx.State(StateResponseText).(string); ok && resp != "" {
		c.Response = take(resp)
	}
	return c
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string { return store.CutUTF8(s, n) }
