// Command agenttracegen writes the agent-trace files of set 4
// (internal/agenttrace/set4.go): the held-out file, for measuring only,
// and the tuning file, which may be read freely.
//
//	go run ./tools/agenttracegen
//
// writes detect/testdata/agent_traces4_heldout.jsonl (seed 20261208, 1,200
// generated traces and the hand-written rows of
// internal/agenttrace/testdata/set4_heldout_hand.jsonl) and
// detect/testdata/agent_traces4_tuning.jsonl (seed 4242, the other half of
// every template list, and set4_tuning_hand.jsonl). Each line has the
// fields `rampart eval --file` reads (text, label, role, kind) and the
// conversation that `rampart scan --jsonl` reads (user, tools).
package main

import (
	"bufio"

	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampart-ai/rampart/internal/agenttrace"
)

func main() {
	dir := flag.String("dir", "detect/testdata", "directory to write the two files into")
	flag.Parse()
	for _, f := range []struct {
		name    string
		heldOut bool
	}{{"agent_traces4_heldout.jsonl", true}, {"agent_traces4_tuning.jsonl", false}} {
		if err := write(filepath.Join(*dir, f.name), agenttrace.Set4File(f.heldOut)); err != nil {
			fmt.Fprintln(os.Stderr, "agenttracegen:", err)
			os.Exit(1)
		}
	}
}

func write(path string, traces []agenttrace.Trace) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, t := range traces {
		b, err := agenttrace.EncodeTrace(t)
		if err != nil {
			f.Close()
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
