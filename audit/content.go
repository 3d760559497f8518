package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rampart-ai/rampart/detect/pii"
	"github.com/rampart-ai/rampart/detect/redact"
	detectsecrets "github.com/rampart-ai/rampart/detect/secrets"
	"github.com/rampart-ai/rampart/store"
)

// ContentCipher encrypts captured content bound to its record's request
// id (secrets.ContentSealer implements it).
type ContentCipher interface {
	Seal(ctx context.Context, requestID string, plaintext []byte) (keyID string, ciphertext []byte, err error)
	Open(ctx context.Context, keyID, requestID string, ciphertext []byte) ([]byte, error)
}

// Redactor replaces personal data (detect/pii) and credentials
// (detect/secrets) in captured text with "[ENTITY]" labels. It is safe for
// concurrent use.
type Redactor struct {
	pii *pii.Scanner
	sec *detectsecrets.Scanner
}

// NewRedactor builds a redactor with every PII entity and the full secret
// rule set (gitleaks' and rampart's).
func NewRedactor() (*Redactor, error) {
	p, err := pii.New(pii.Config{})
	if err != nil {
		return nil, fmt.Errorf("audit: redactor: %w", err)
	}
	s, err := detectsecrets.New(detectsecrets.Config{})
	if err != nil {
		return nil, fmt.Errorf("audit: redactor: %w", err)
	}
	return &Redactor{pii: p, sec: s}, nil
}

// Redact returns text with every PII and secret span replaced.
func (r *Redactor) Redact(text string) string {
	if text == "" {
		return text
	}
	var spans []redact.Span
	for _, m := range r.pii.Scan(text) {
		spans = append(spans, redact.Span{Entity: m.Entity, Start: m.Start, End: m.End, Score: m.Score})
	}
	for _, m := range r.sec.Scan(text) {
		spans = append(spans, redact.Span{Entity: m.Entity, Start: m.Start, End: m.End, Score: 1})
	}
	return redact.Apply(text, redact.Resolve(text, spans), func(s redact.Span, v string) string { return redact.Label(s.Entity, v) })
}

// protection is what the log needs to keep captured content.
type protection struct {
	redactor *Redactor
	cipher   ContentCipher
}

// EnableContentCapture turns audit.capture_content into effect: captured
// text is redacted with r and encrypted with c before it is stored. Until
// it is called (and always when capture_content is off) no text is
// captured, so plaintext never reaches the store. Call it before serving.
func (l *Log) EnableContentCapture(r *Redactor, c ContentCipher) error {
	if r == nil || c == nil {
		return errors.New("audit: content capture needs a redactor and a cipher")
	}
	if !l.enabled || !l.cfg.CaptureContent {
		return nil
	}
	l.prot.Store(&protection{redactor: r, cipher: c})
	return nil
}

// protect redacts and seals the content of recs in place. A record whose
// content cannot be sealed loses its content (counted), never stored in
// clear.
func (l *Log) protect(recs []*Record) {
	p := l.prot.Load()
	for _, r := range recs {
		if r.Content == nil || r.Content.Sealed != nil {
			continue
		}
		if p == nil {
			r.Content = nil
			continue
		}
		sealed, err := sealContent(p, r.RequestID, r.Content)
		if err != nil {
			r.Content = nil
			l.contentFailed.Add(1)
			l.logger.Error("audit content not stored: encryption failed", "request_id", r.RequestID, "error", err.Error())
			continue
		}
		r.Content = &store.AuditContent{Sealed: sealed}
	}
}

func sealContent(p *protection, requestID string, c *store.AuditContent) (*store.SealedContent, error) {
	red := store.AuditContent{Truncated: c.Truncated, Response: p.redactor.Redact(c.Response)}
	for _, s := range c.Request {
		s.Text = p.redactor.Redact(s.Text)
		red.Request = append(red.Request, s)
	}
	plain, err := json.Marshal(red)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeCallTimeout)
	defer cancel()
	keyID, ct, err := p.cipher.Seal(ctx, requestID, plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	return &store.SealedContent{KeyID: keyID, Data: ct}, nil
}

// ErrContentLocked means a record's content is sealed and no cipher (no
// master key) was given to open it.
var ErrContentLocked = errors.New("audit: content is encrypted; configure the master key to read it")

// OpenContent replaces r's sealed content by its (redacted) clear text.
// Records without content, or with content in clear (written before
// content was encrypted), are left as they are. With c nil and sealed
// content it returns ErrContentLocked and leaves r unchanged.
func OpenContent(ctx context.Context, c ContentCipher, r *Record) error {
	if r.Content == nil || r.Content.Sealed == nil {
		return nil
	}
	if c == nil {
		return ErrContentLocked
	}
	plain, err := c.Open(ctx, r.Content.Sealed.KeyID, r.RequestID, r.Content.Sealed.Data)
	if err != nil {
		return fmt.Errorf("audit: record %d: %w", r.ID, err)
	}
	var out store.AuditContent
	if err := json.Unmarshal(plain, &out); err != nil {
		return fmt.Errorf("audit: record %d: decode content: %w", r.ID, err)
	}
	out.Sealed = nil
	r.Content = &out
	return nil
}
