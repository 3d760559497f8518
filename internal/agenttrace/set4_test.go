package agenttrace

import (
	"bytes"
	"os"
	"testing"
)

// TestSet4Files: the committed set-4 files are what the generator and the
// hand-written rows give (go run ./tools/agenttracegen), and the held-out
// and tuning halves share no goal, wrapper or hard negative.
func TestSet4Files(t *testing.T) {
	for _, f := range []struct {
		path    string
		heldOut bool
	}{{"../../detect/testdata/agent_traces4_heldout.jsonl", true}, {"../../detect/testdata/agent_traces4_tuning.jsonl", false}} {
		want, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		for _, tr := range Set4File(f.heldOut) {
			b, err := EncodeTrace(tr)
			if err != nil {
				t.Fatal(err)
			}
			got.Write(b)
			got.WriteByte('\n')
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from the generator: run go run ./tools/agenttracegen", f.path)
		}
		traces := ParseTraces(want)
		var pos, neg int
		for _, tr := range traces {
			if tr.User == "" || len(tr.Tools) == 0 || tr.Text == "" || (tr.Role != "tool" && tr.Role != "document") {
				t.Errorf("%s: incomplete trace %v", f.path, tr)
			}
			if tr.Label == 1 {
				pos++
			} else {
				neg++
			}
		}
		if pos < 600 || neg < 600 {
			t.Errorf("%s: %d planted, %d benign", f.path, pos, neg)
		}
	}
	held, tune := map[string]bool{}, map[string]bool{}
	for _, d := range s4domains {
		for i, g := range d.goals {
			if i%2 == 0 {
				held[g] = true
			} else {
				tune[g] = true
			}
		}
	}
	for g := range tune {
		if held[g] {
			t.Errorf("goal %q in both halves", g)
		}
	}
	if len(half(len(s4wrappers), true))+len(half(len(s4wrappers), false)) != len(s4wrappers) {
		t.Errorf("wrapper halves do not partition the list")
	}
}
