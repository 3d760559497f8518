package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// MaxSubjectIDBytes bounds the id given to Erase.
const MaxSubjectIDBytes = 512

// EraseRoute is the Route of an erasure's own audit record when the caller
// names none.
const EraseRoute = "erase_subject"

// Actor is who asked for an erasure (recorded in its audit record).
type Actor struct {
	KeyID, Subject, Tenant, ClientIP string
}

// Eraser erases every record of a user id or API key id (right to
// erasure) and audits the erasure without the erased id in clear: the
// erasure's record holds an HMAC of the id under the audit content key
// (SubjectMAC), which lets an investigator who knows an id confirm that it
// was erased, and the counts of what was deleted.
type Eraser struct {
	st  store.SubjectEraser
	w   store.AuditStore
	key []byte
	log *slog.Logger
	now func() time.Time
}

// NewEraser returns an eraser over st that writes its audit records to w
// with the content HMAC key (audit.ContentKey).
func NewEraser(st store.SubjectEraser, w store.AuditStore, macKey []byte, logger *slog.Logger) (*Eraser, error) {
	if st == nil || w == nil {
		return nil, errors.New("audit: eraser needs a store")
	}
	if len(macKey) < MinKeyBytes {
		return nil, errors.New("audit: eraser needs the content HMAC key")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Eraser{st: st, w: w, key: macKey, log: logger, now: time.Now}, nil
}

// SubjectMAC is the hex HMAC-SHA256 that stands for an erased id in audit
// records and logs.
func SubjectMAC(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("rampart erased subject v1\x00"))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// ErrNotAudited means the erasure happened but its audit record could not
// be written.
var ErrNotAudited = errors.New("audit: subject erased, but the erasure's audit record could not be written")

// Erase deletes every record of id (see store.SubjectEraser) and writes the
// erasure's audit record (route names how it was asked for, e.g. the admin
// endpoint). The record never holds id: when the actor's own key id or
// subject is id, those fields are left empty.
func (e *Eraser) Erase(ctx context.Context, id string, by Actor, route string) (store.Erasure, error) {
	if id == "" || len(id) > MaxSubjectIDBytes {
		return store.Erasure{}, fmt.Errorf("audit: erase: id must be 1 to %d bytes", MaxSubjectIDBytes)
	}
	start := e.now()
	res, err := e.st.EraseSubject(ctx, id)
	if err != nil {
		return res, err
	}
	if route == "" {
		route = EraseRoute
	}
	mac := SubjectMAC(e.key, id)
	if by.KeyID == id {
		by.KeyID = ""
	}
	if by.Subject == id {
		by.Subject = ""
	}
	rec := &Record{
		RequestID: engine.NewRequestID(), Time: start.UTC(), Route: route, Tenant: by.Tenant,
		KeyID: by.KeyID, Subject: by.Subject, ClientIP: by.ClientIP, Status: 200,
		Latency: e.now().Sub(start), ContentMAC: mac,
		Decisions: []engine.Outcome{{Layer: "erasure", Action: "erase", Code: "subject_erased",
			Findings: []engine.Finding{{Layer: "erasure", Rule: "subject_erased", Message: -1,
				Text: fmt.Sprintf("audit_records=%d keys=%d key_references=%d blocks=%d block_references=%d",
					res.AuditRecords, res.Keys, res.KeyReferences, res.Blocks, res.BlockReferences)}}}},
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeCallTimeout)
	defer cancel()
	if err := e.w.WriteAudit(wctx, []*Record{rec}); err != nil {
		e.log.Error("subject erased but not audited", "subject_mac", mac, "error", err.Error())
		return res, fmt.Errorf("%w: %v", ErrNotAudited, err)
	}
	e.log.Info("subject erased", "subject_mac", mac, "audit_records", res.AuditRecords, "keys", res.Keys,
		"blocks", res.Blocks, "by_key", by.KeyID, "audit_record", rec.RequestID)
	return res, nil
}
