package gateway

import (
	"fmt"
	"io"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers"
)

// buildChain instantiates every module of layers.Chain with its config
// section: New (decode), then, unless its mode is off, Provision and
// Validate. It returns the layers to close with the generation, also on
// error.
func buildChain(cfg *config.Config, host *engine.Host) ([]engine.Configured, []io.Closer, error) {
	names := make([]string, len(layers.Chain))
	for i, m := range layers.Chain {
		names[i] = m.Name
	}
	if err := cfg.CheckLayers(names); err != nil {
		return nil, nil, err
	}
	var chain []engine.Configured
	var closers []io.Closer
	for _, m := range layers.Chain {
		sec := cfg.Layer(m.Name)
		def := m.DefaultMode
		if def == "" {
			def = engine.ModeEnforce
		}
		mode := engine.Mode(sec.ModeOr(string(def)))
		failure := engine.FailureMode(sec.FailureOr(string(engine.FailClosed)))
		switch mode {
		case engine.ModeEnforce, engine.ModeMonitor, engine.ModeOff:
		default:
			return nil, closers, fmt.Errorf("layers.%s: unknown mode %q (enforce, monitor or off)", m.Name, mode)
		}
		switch failure {
		case engine.FailClosed, engine.FailOpen:
		default:
			return nil, closers, fmt.Errorf("layers.%s: unknown failure mode %q (closed or open)", m.Name, failure)
		}
		l, err := m.New(sec.Decode)
		if err != nil {
			return nil, closers, fmt.Errorf("layers.%s: %w", m.Name, err)
		}
		if mode == engine.ModeOff {
			continue
		}
		published := false
		if p, ok := l.(engine.Provisioner); ok {
			before := len(host.Services)
			if err := p.Provision(host); err != nil {
				return nil, closers, fmt.Errorf("layers.%s: provision: %w", m.Name, err)
			}
			published = len(host.Services) > before
		}
		// A layer that published a service in host.Services (the identity
		// service, a rate-limit memory backend) hands it to the gateway:
		// later generations share it, and the gateway closes it at
		// shutdown, not when this generation is replaced.
		if c, ok := l.(io.Closer); ok && !published {
			closers = append(closers, c)
		}
		if v, ok := l.(engine.Validator); ok {
			if err := v.Validate(); err != nil {
				return nil, closers, fmt.Errorf("layers.%s: %w", m.Name, err)
			}
		}
		chain = append(chain, engine.Configured{Layer: l, Mode: mode, Failure: failure})
	}
	return chain, closers, nil
}
