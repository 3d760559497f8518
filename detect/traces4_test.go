package detect

import (
	"os"
	"testing"

	"github.com/rampart-ai/rampart/internal/agenttrace"
)

// TestAgentTraces4 measures the detector on agent-trace set 4
// (internal/agenttrace/set4.go, go run ./tools/agenttracegen). The tuning
// file is always measured, with floors; the held-out file only when
// RAMPART_LOOK=agent_traces4_heldout is set, because every look at it is
// recorded in docs/DETECTION.md:
//
//	RAMPART_LOOK=agent_traces4_heldout go test ./detect -run TestAgentTraces4/held-out -v
func TestAgentTraces4(t *testing.T) {
	read := func(t *testing.T, name string) []agenttrace.Trace {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return agenttrace.ParseTraces(b)
	}
	t.Run("tuning", func(t *testing.T) { agentTraces(t, read(t, "agent_traces4_tuning.jsonl"), 0, 1) })
	t.Run("held-out", func(t *testing.T) {
		if os.Getenv("RAMPART_LOOK") != "agent_traces4_heldout" {
			t.Skip("held-out set 4 is looked at only on purpose (RAMPART_LOOK=agent_traces4_heldout); every look is recorded in docs/DETECTION.md")
		}
		agentTraces(t, read(t, "agent_traces4_heldout.jsonl"), 0, 1)
	})
}
