// Command train builds rampart's injection model from data/injection:
//
//	go run ./tools/train            # writes detect/model/weights.bin and manifest.json
//	go run ./tools/train -cv 5      # group 5-fold cross-validation over train only
//	go run ./tools/train -source-folds off -out /tmp/m.bin -manifest ""  # a candidate
//
// It is deterministic (fixed seed, fixed order): the same data and code give
// byte-identical weights, which detect/model's tests check against the
// committed manifest. The train split fits the model; thresholds come from
// its group out-of-fold scores pooled with the dev split's scores; the
// test split is never read.
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
	cv := flag.Int("cv", 0, "instead of training, report group k-fold cross-validation over the train split")
	bits := flag.Int("bits", 0, "hash bits (0: default)")
	l2 := flag.Float64("l2", 0, "L2 penalty (0: default)")
	epochs := flag.Int("epochs", 0, "epochs (0: default)")
	mlp := flag.String("mlp", "", "MLP on, off or only (\"\": default)")
	mlpHidden := flag.Int("mlp-hidden", 0, "MLP hidden units (0: default)")
	mlpEpochs := flag.Int("mlp-epochs", 0, "MLP epochs (0: default)")
	classes := flag.String("classes", "", "WordNet class features on or off (\"\": default)")
	mlpChars := flag.String("mlp-chars", "", "character n-grams in the MLP on or off (\"\": default)")
	composed := flag.String("composed", "", "composed hard negatives (GeneratedComposed) on or off (\"\": default)")
	mlNeg := flag.String("ml-negatives", "", "multilingual hard negatives (GeneratedMultilingual) on or off (\"\": default)")
	carriers := flag.Int("carriers", -1, "planted carrier rows (CarrierRows; -1: default)")
	srcWeight := flag.String("source-weight", "", "per-source weights on or off (\"\": default)")
	srcFolds := flag.String("source-folds", "", "stacker/threshold folds hold out whole sources, on or off (\"\": default)")
	userFPR := flag.Float64("user-fpr", 0, "target user-role FPR of the thresholds (0: default)")
	group := flag.String("cv-group", "near", "with -cv: fold groups, near (near-duplicate groups) or source (whole sources held out)")
	shortSig := flag.String("short-signals", "", "short-text stacker signals on or off (\"\": default)")
	mixed := flag.String("mixed-stacker", "", "stacker on source-fold and near-duplicate-fold signals, on or off (\"\": default)")
	shortAtt := flag.String("short-attacks", "", "generated short attacks (GeneratedShortAttacks) on or off (\"\": default)")
	overDef := flag.String("overdefense", "", "over-defense hard negatives (GeneratedOverDefense) on or off (\"\": default)")
	docFPR := flag.Float64("doc-fpr", 0, "target FPR of the document threshold on the out-of-fold document pool (0: default)")
	flag.Parse()
	{
		// the configuration flags apply to -cv and to training (a
		// candidate written elsewhere with -out and -manifest "")
		cfg := detect.DefaultTrainConfig()
		if *bits > 0 {
			cfg.Bits = uint8(*bits)
		}
		if *l2 > 0 {
			cfg.L2 = *l2
		}
		if *epochs > 0 {
			cfg.Epochs = *epochs
		}
		switch *mlp {
		case "on":
			cfg.MLP = true
		case "off":
			cfg.MLP = false
		case "only":
			cfg.MLP, cfg.NoLinear = true, true
		}
		if *mlpHidden > 0 {
			cfg.MLPHidden = *mlpHidden
		}
		if *mlpEpochs > 0 {
			cfg.MLPEpochs = *mlpEpochs
		}
		if *classes != "" {
			cfg.WordClasses = *classes == "on"
		}
		if *composed != "" {
			cfg.Composed = *composed == "on"
		}
		if *carriers >= 0 {
			cfg.Carriers = *carriers
		}
		if *srcWeight != "" {
			cfg.SourceWeight = *srcWeight == "on"
		}
		if *srcFolds != "" {
			cfg.SourceFolds = *srcFolds == "on"
		}
		if *userFPR > 0 {
			cfg.UserFPR = *userFPR
		}
		if *mlNeg != "" {
			cfg.Multilingual = *mlNeg == "on"
		}
		if *mlpChars != "" {
			cfg.MLPChars = *mlpChars == "on"
		}
		if *shortSig != "" {
			cfg.ShortSignals = *shortSig == "on"
		}
		if *mixed != "" {
			cfg.MixedStacker = *mixed == "on"
		}
		if *shortAtt != "" {
			cfg.ShortAttacks = *shortAtt == "on"
		}
		if *overDef != "" {
			cfg.OverDefense = *overDef == "on"
		}
		if *docFPR > 0 {
			cfg.UntrustedFPR = *docFPR
		}
		if *cv <= 1 {
			if err := run(*data, *out, *manifest, cfg); err != nil {
				fmt.Fprintln(os.Stderr, "train:", err)
				os.Exit(1)
			}
			return
		}
		if *group != "near" && *group != "source" {
			fmt.Fprintln(os.Stderr, "train: -cv-group is near or source")
			os.Exit(2)
		}
		if err := crossValidate(*data, cfg, *cv, *group == "source"); err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			os.Exit(1)
		}
	}
}

func run(data, out, manifest string, cfg detect.TrainConfig) error {
	start := time.Now()
	m, man, err := detect.TrainFromDir(data, cfg, func(f string, a ...any) {
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

func crossValidate(data string, cfg detect.TrainConfig, k int, bySource bool) error {
	rows, err := detect.ReadRows(filepath.Join(data, "train.jsonl"))
	if err != nil {
		return err
	}
	keys, what := detect.FoldKeys(rows), "near-duplicate groups"
	if bySource {
		keys, what = detect.SourceKeys(rows), "whole sources"
	}
	fmt.Printf("group %d-fold cross-validation over train (%s held out), config %+v\n", k, what, cfg)
	start := time.Now()
	return detect.CrossValidateBy(os.Stdout, rows, keys, cfg, k, func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(f, a...))
	})
}
