package layers

import (
	"fmt"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/injection"
	"github.com/rampart-ai/rampart/layers/outputguard"
)

// Scanner builds the one-shot text scanner behind `rampart scan` and
// POST /v1/scan from cfg's "injection" and "outputguard" sections, so that
// both give the verdicts the gateway's own layers would: direction input
// runs the injection detector, direction output the output guard (PII,
// secrets, links) with its redaction.
func Scanner(cfg *config.Config) (*scan.Scanner, error) {
	return ScannerReusing(cfg, nil, nil)
}

// ScannerReusing is Scanner with the detector and output guard that a chain
// built from the same cfg already provisioned: a nil one is built from cfg,
// so that scanning works also when that layer is off in the chain.
func ScannerReusing(cfg *config.Config, det *detect.Detector, og *outputguard.Layer) (*scan.Scanner, error) {
	if det == nil {
		opt, err := InjectionOptions(cfg)
		if err != nil {
			return nil, err
		}
		if det, err = detect.New(opt); err != nil {
			return nil, err
		}
	}
	if og == nil {
		var ocfg outputguard.Config
		osec := cfg.Layer(outputguard.Name)
		if err := osec.Decode(&ocfg); err != nil {
			return nil, err
		}
		var err error
		if og, err = outputguard.New(ocfg); err != nil {
			return nil, fmt.Errorf("layers.%s: %w", outputguard.Name, err)
		}
		if err := og.Provision(&engine.Host{}); err != nil {
			return nil, fmt.Errorf("layers.%s: %w", outputguard.Name, err)
		}
	}
	return &scan.Scanner{Input: []scan.Checker{scan.Injection(det)}, Output: []scan.Checker{OutputChecker(og)}}, nil
}

// InjectionOptions are the detector options of cfg's "injection" section.
func InjectionOptions(cfg *config.Config) (detect.Options, error) {
	icfg := injection.Defaults()
	isec := cfg.Layer(injection.Name)
	if err := isec.Decode(&icfg); err != nil {
		return detect.Options{}, err
	}
	if err := icfg.Validate(); err != nil {
		return detect.Options{}, fmt.Errorf("layers.%s: %w", injection.Name, err)
	}
	return icfg.DetectOptions(), nil
}

// OutputChecker adapts a provisioned output guard to the scan API: its
// findings (entity, code-point span) and, when its policy changed the text
// (redaction, pseudonymisation, link removal), the rewritten text. A text
// it only flagged gets no Redacted: echoing it there would hand back the
// very value the caller asked to have found.
func OutputChecker(og *outputguard.Layer) scan.Checker {
	return func(item scan.Item, res *scan.Result) {
		fs, redacted := og.ScanText(item.Text)
		for _, f := range fs {
			res.Findings = append(res.Findings, scan.Finding{Layer: f.Layer, Rule: f.Rule, Severity: string(f.Severity),
				Score: f.Score, Start: f.Start, End: f.End, Message: f.Text, Entity: f.Entity})
			res.Score = max(res.Score, f.Score)
			res.Flagged = true
		}
		if redacted != item.Text {
			res.Redacted = redacted
		}
	}
}
