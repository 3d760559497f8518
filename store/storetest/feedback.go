package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

// FeedbackStore is a backend's review feedback store, closable by the suite.
type FeedbackStore interface {
	store.FeedbackStore
	store.AuditStore
}

// RunFeedback runs the review feedback contract and the audit filters the
// admin console searches with; open returns a fresh, empty store (closed
// by the suite).
func RunFeedback(t *testing.T, open func(t *testing.T) FeedbackStore) {
	t.Run("Feedback", func(t *testing.T) { testFeedback(t, open(t)) })
	t.Run("AuditFilters", func(t *testing.T) { testAuditFilters(t, open(t)) })
}

func testFeedback(t *testing.T, s FeedbackStore) {
	defer s.Close()
	fb := store.Feedback{Tenant: "acme", RequestID: "req-1", Layer: "injection", Rule: "ignore-previous",
		Verdict: store.FeedbackFalsePositive, Role: "user", Text: "please ignore the typo", By: "key_a"}
	got, err := s.AddFeedback(ctx, fb)
	if err != nil || got.ID == 0 || got.Time.IsZero() {
		t.Fatalf("add: %+v %v", got, err)
	}
	// The same request, layer and rule again replaces the judgement.
	fb.Verdict, fb.Note = store.FeedbackTruePositive, "on second thought"
	if _, err := s.AddFeedback(ctx, fb); err != nil {
		t.Fatal(err)
	}
	other := store.Feedback{Tenant: "beta", RequestID: "req-2", Layer: "pii", Verdict: store.FeedbackFalsePositive, By: "key_b"}
	if _, err := s.AddFeedback(ctx, other); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListFeedback(ctx, store.FeedbackFilter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("list all: %d %v", len(all), err)
	}
	acme, err := s.ListFeedback(ctx, store.FeedbackFilter{Tenant: "acme"})
	if err != nil || len(acme) != 1 || acme[0].Verdict != store.FeedbackTruePositive || acme[0].Note != "on second thought" ||
		acme[0].Text != "please ignore the typo" || acme[0].Rule != "ignore-previous" || acme[0].By != "key_a" {
		t.Fatalf("list acme: %+v %v", acme, err)
	}
	page, err := s.ListFeedback(ctx, store.FeedbackFilter{AfterID: all[0].ID, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != all[1].ID {
		t.Fatalf("page: %+v %v", page, err)
	}
	for _, bad := range []store.Feedback{
		{RequestID: "r", Layer: "x", Verdict: "maybe"},
		{Layer: "x", Verdict: store.FeedbackFalsePositive},
		{RequestID: "r", Layer: "x", Verdict: store.FeedbackFalsePositive, Text: strings.Repeat("a", store.MaxFeedbackText+1)},
		{RequestID: strings.Repeat("r", 300), Layer: "x", Verdict: store.FeedbackFalsePositive},
	} {
		if _, err := s.AddFeedback(ctx, bad); !errors.Is(err, store.ErrInvalidFeedback) {
			t.Errorf("add %+v: %v, want ErrInvalidFeedback", bad.Verdict, err)
		}
	}
}

func testAuditFilters(t *testing.T, s FeedbackStore) {
	defer s.Close()
	base := time.Now().Add(-time.Hour).UTC()
	out := func(layer, action, rule string, monitor bool) engine.Outcome {
		return engine.Outcome{Layer: layer, Phase: engine.PhaseRequest, Action: action, Rule: rule, Monitor: monitor}
	}
	recs := []*store.AuditRecord{
		{RequestID: "a", Decisions: []engine.Outcome{out("injection", "block", "ignore-previous", true)}},
		{RequestID: "b", Decisions: []engine.Outcome{out("injection", "block", "ignore-previous", false)}, Blocked: true},
		{RequestID: "c", Decisions: []engine.Outcome{out("pii", "flag", "email", false)}},
		{RequestID: "d", Decisions: []engine.Outcome{out("pii", "allow", "", false)}},
		// A rule name with LIKE and JSON metacharacters matches only itself.
		{RequestID: "e", Decisions: []engine.Outcome{out("policy", "block", `50%_"x"`, true)}},
	}
	for i, r := range recs {
		r.Time, r.Route, r.Status = base.Add(time.Duration(i)*time.Second), "/v1/chat/completions", 200
	}
	if err := s.WriteAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.AuditFilter) string {
		t.Helper()
		got, err := s.QueryAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, r := range got {
			b.WriteString(r.RequestID)
		}
		return b.String()
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want string
	}{
		{store.AuditFilter{Decision: store.DecisionWouldBlock}, "ae"},
		{store.AuditFilter{Decision: store.DecisionBlocked}, "b"},
		{store.AuditFilter{Decision: store.DecisionAllowed}, "acde"},
		{store.AuditFilter{Decision: store.DecisionFlagged}, "c"},
		{store.AuditFilter{Layer: "injection"}, "ab"},
		{store.AuditFilter{Layer: "inject"}, ""},
		{store.AuditFilter{Rule: "email"}, "c"},
		{store.AuditFilter{Rule: `50%_"x"`}, "e"},
		{store.AuditFilter{Rule: `50`}, ""},
		{store.AuditFilter{Rule: `%`}, ""},
		{store.AuditFilter{RequestID: "d"}, "d"},
		{store.AuditFilter{Layer: "injection", Decision: store.DecisionWouldBlock}, "a"},
		{store.AuditFilter{BeforeID: recs[2].ID}, "ab"},
		{store.AuditFilter{BeforeID: recs[4].ID, Latest: true, Limit: 2}, "cd"},
	} {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
		}
	}
}
