package scan

import (
	"fmt"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/injection"
	"github.com/rampart-ai/rampart/layers/outputguard"
)

// FromConfig builds the one-shot text scanner behind `rampart scan` and
// POST /v1/scan from cfg's "injection" and "outputguard" sections, so that
// both give the verdicts the gateway's own layers would: direction input
// runs the injection detector, direction output the output guard (PII,
// secrets, links) with its redaction.
func FromConfig(cfg *config.Config) (*Scanner, error) {
	return FromChain(cfg, nil)
}

// DetectorSource is a provisioned layer that holds the injection detector
// (layers/injection).
type DetectorSource interface {
	Detector() *detect.Detector
}

// TextScanner is a provisioned output layer that finds sensitive spans in
// a text and returns it rewritten by its policy (layers/outputguard).
type TextScanner interface {
	ScanText(text string) ([]engine.Finding, string)
}

// FromChain is FromConfig reusing the detector and output scanner that a
// chain built from the same cfg already provisioned (found by the
// DetectorSource and TextScanner interfaces); what the chain lacks (a layer
// that is off) is built from cfg, so that scanning works also then.
func FromChain(cfg *config.Config, chain []engine.Layer) (*Scanner, error) {
	var det *detect.Detector
	var og TextScanner
	for _, l := range chain {
		if d, ok := l.(DetectorSource); ok && det == nil {
			det = d.Detector()
		}
		if t, ok := l.(TextScanner); ok && og == nil {
			og = t
		}
	}
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
		l, err := outputguard.New(ocfg)
		if err != nil {
			return nil, fmt.Errorf("layers.%s: %w", outputguard.Name, err)
		}
		if err := l.Provision(&engine.Host{}); err != nil {
			return nil, fmt.Errorf("layers.%s: %w", outputguard.Name, err)
		}
		og = l
	}
	return &Scanner{Input: []Checker{Injection(det)}, Output: []Checker{OutputChecker(og)}}, nil
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

// OutputChecker adapts a provisioned output scanner to the scan API: its
// findings (entity, code-point span) and, when its policy changed the text
// (redaction, pseudonymisation, link removal), the rewritten text. A text
// it only flagged gets no Redacted: echoing it there would hand back the
// very value the caller asked to have found.
func OutputChecker(og TextScanner) Checker {
	return func(item Item, res *Result) {
		fs, redacted := og.ScanText(item.Text)
		for _, f := range fs {
			res.Findings = append(res.Findings, Finding{Layer: f.Layer, Rule: f.Rule, Severity: string(f.Severity),
				Score: f.Score, Start: f.Start, End: f.End, Message: f.Text, Entity: f.Entity})
			res.Score = max(res.Score, f.Score)
			res.Flagged = true
		}
		if redacted != item.Text {
			res.Redacted = redacted
		}
	}
}
