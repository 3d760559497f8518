// Command train builds rampart's injection model from data/injection:
//
//	go run ./tools/train            # writes detect/model/weights.bin and manifest.json
//
// It is deterministic (fixed seed, fixed order): the same data and code give
// byte-identical weights, which detect/model's tests check against the
// committed manifest. The train split fits the model; the dev split picks the
// decision thresholds; the test split is never read.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/model"
)

func main() {
	data := flag.String("data", "data/injection", "dataset directory (train.jsonl, dev.jsonl)")
	out := flag.String("out", "detect/model/weights.bin", "model file to write")
	manifest := flag.String("manifest", "detect/model/manifest.json", "manifest to write (\"\" to skip)")
	flag.Parse()
	if err := run(*data, *out, *manifest); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(data, out, manifest string) error {
	start := time.Now()
	m, man, err := detect.TrainFromDir(data, detect.DefaultTrainConfig(), func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(f, a...))
	})
	if err != nil {
		return err
	}
	b := m.Marshal()
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d bytes, sha256 %s)\n", out, len(b), model.Hash(b))
	if manifest == "" {
		return nil
	}
	j, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Clean(manifest), append(j, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", manifest)
	return nil
}
