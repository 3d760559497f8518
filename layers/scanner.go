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
	opt, err := InjectionOptions(cfg)
	if err != nil {
		return nil, err
	}
	sc, err := scan.New(opt)
	if err != nil {
		return nil, err
	}
	var ocfg outputguard.Config
	osec := cfg.Layer(outputguard.Name)
	if err := osec.Decode(&ocfg); err != nil {
		return nil, err
	}
	og, err := outputguard.New(ocfg)
	if err != nil {
		return nil, fmt.Errorf("layers.%s: %w", outputguard.Name, err)
	}
	if err := og.Provision(&engine.Host{}); err != nil {
		return nil, fmt.Errorf("layers.%s: %w", outputguard.Name, err)
	}
	sc.Output = append(sc.Output, OutputChecker(og))
	return sc, nil
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
	return detect.Options{UserThreshold: icfg.UserThreshold, UntrustedThreshold: icfg.UntrustedThreshold,
		MaxScanBytes: icfg.MaxScanBytes, NoDecode: icfg.Decoders != nil && !*icfg.Decoders}, nil
}

// OutputChecker adapts a provisioned output guard to the scan API: its
// findings (entity, code-point span) and its rewritten text.
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
		} else if len(fs) > 0 {
			res.Redacted = item.Text
		}
	}
}
