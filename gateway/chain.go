package gateway

import (
	"errors"
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
	// The same pure check as `rampart config validate`: every problem at
	// once, with its line, before anything is provisioned.
	if err := layers.Check(cfg); err != nil {
		return nil, nil, err
	}
	var chain []engine.Configured
	var closers []io.Closer
	for _, m := range layers.Chain {
		sec := cfg.Layer(m.Name)
		mode := layers.ModeOf(m, sec)
		failure := engine.FailureMode(sec.FailureOr(string(engine.FailClosed)))
		l, err := m.New(sec.Decode)
		if err != nil {
			return nil, closers, sec.Errors(err)
		}
		if mode == engine.ModeOff {
			continue
		}
		if p, ok := l.(engine.Provisioner); ok {
			if err := p.Provision(host); err != nil {
				// A layer that failed half-way may hold clients (Redis,
				// the block cache's refresher): close it, as Caddy
				// cleans up a module whose Provision failed. Shared
				// services it took are held by host.Services, which the
				// caller releases with the rest of the generation.
				err = fmt.Errorf("layers.%s: provision: %w", m.Name, err)
				if c, ok := l.(io.Closer); ok {
					err = errors.Join(err, c.Close())
				}
				return nil, closers, err
			}
		}
		// A layer closes only what it owns; what it shares through
		// host.Services is released with the generation.
		if c, ok := l.(io.Closer); ok {
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
