package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// auditWriter is the part of a store that takes audit records.
type auditWriter interface {
	WriteAudit(ctx context.Context, recs []*store.AuditRecord) error
}

// auditAction writes the audit record of an administrative action taken
// directly on a store (local mode): the same shape as the admin API's
// (layer admin, the action as code, the object as rule, what changed as
// finding text; never a secret value), with subject "cli".
func auditAction(ctx context.Context, w auditWriter, route, code, object, tenant, what string) error {
	rec := &store.AuditRecord{RequestID: engine.NewRequestID(), Time: time.Now(), Route: route,
		Tenant: tenant, Subject: cliCreatedBy, Status: 200,
		Decisions: []engine.Outcome{{Layer: "admin", Phase: engine.PhaseFinish, Action: engine.Allow.String(),
			Rule: object, Code: code, Findings: []engine.Finding{{Layer: "admin", Rule: object, Message: -1, Text: what}}}}}
	if err := w.WriteAudit(ctx, []*store.AuditRecord{rec}); err != nil {
		return fmt.Errorf("%s done, but its audit record could not be written: %w", code, err)
	}
	return nil
}
