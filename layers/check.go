package layers

import (
	"errors"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
)

// Names are the layer names of Chain, in order.
func Names() []string {
	names := make([]string, len(Chain))
	for i, m := range Chain {
		names[i] = m.Name
	}
	return names
}

// Check is the configuration check that `rampart config validate`,
// `rampart config print`, `serve` and every reload run: every configured
// layer (file or RAMPART_LAYERS_* variable) is in Chain, every layer's
// section decodes strictly (New), and every layer that is not off passes
// its pure engine.ConfigValidator, and the incident response section
// (top-level incident, or the deprecated layers.blocklist.incident, not
// both) decodes and validates. It opens nothing. Every problem is
// reported at once, each a *config.FieldError with the file line of the
// offending key where the file has it.
func Check(cfg *config.Config) error {
	errs := []error{cfg.CheckLayers(Names())}
	for _, m := range Chain {
		sec := cfg.Layer(m.Name)
		l, err := m.New(sec.Decode)
		if err != nil {
			errs = append(errs, sec.Errors(err))
			continue
		}
		if ModeOf(m, sec) == engine.ModeOff {
			continue
		}
		if v, ok := l.(engine.ConfigValidator); ok {
			errs = append(errs, sec.Errors(v.ValidateConfig()))
		}
	}
	errs = append(errs, checkIncident(cfg))
	return errors.Join(errs...)
}

// ModeOf is the mode of module m under its section: the section's, or the
// module's default (enforce when it names none).
func ModeOf(m engine.Module, sec config.Layer) engine.Mode {
	def := m.DefaultMode
	if def == "" {
		def = engine.ModeEnforce
	}
	return engine.Mode(sec.ModeOr(string(def)))
}
