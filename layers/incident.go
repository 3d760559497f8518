package layers

import (
	"errors"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/layers/blocklist"
)

// deprecatedIncident is the old place of the incident section.
const deprecatedIncident = "layers." + blocklist.Name + ".incident"

// IncidentConfig is the incident response configuration in force, with
// defaults filled in: the top-level incident section, or the deprecated
// layers.blocklist.incident when only that is set (deprecated is then
// true). Both set is an error, as is a section that does not decode. It
// does not validate the values (Check does).
func IncidentConfig(cfg *config.Config) (c incident.Config, deprecated bool, err error) {
	top := cfg.IncidentSection()
	old, oldSet, err := blocklistIncident(cfg)
	if err != nil {
		return c, false, err
	}
	if top.IsSet() && oldSet {
		return c, false, top.Error("set here and in " + deprecatedIncident + " (deprecated): keep only the top-level incident section")
	}
	if oldSet {
		return old, true, nil
	}
	c = incident.Defaults()
	if err := top.Decode(&c); err != nil {
		return incident.Config{}, false, err
	}
	c.Fill()
	return c, false, nil
}

// offNote says why incident response needs the blocklist layer.
const offNote = "its blocks and throttles would not be enforced (turn layers.blocklist on, or incident response off)"

// blocklistIncident is layers.blocklist.incident (filled) and whether the
// file (or environment) sets it.
func blocklistIncident(cfg *config.Config) (incident.Config, bool, error) {
	sec := cfg.Layer(blocklist.Name)
	_, set := sec.Options["incident"]
	bc, err := blocklist.DecodeConfig(sec.Decode)
	if err != nil {
		return incident.Config{}, false, sec.Errors(err)
	}
	return bc.Incident, set, nil
}

// checkIncident is Check's part for incident response: the section in
// force decodes and validates (errors at their lines), is not set twice,
// and is not enabled with the blocklist layer off (its blocks would not
// be enforced, and the gateway opens no block cache for it).
func checkIncident(cfg *config.Config) error {
	if _, _, err := blocklistIncident(cfg); err != nil {
		return nil // the blocklist section's own error, reported by Check
	}
	c, deprecated, err := IncidentConfig(cfg)
	if err != nil {
		return err
	}
	blocklistOff := ModeOf(blocklist.Module, cfg.Layer(blocklist.Name)) == engine.ModeOff
	if deprecated {
		// The blocklist layer's own check validates its incident key.
		if blocklistOff && c.Enabled {
			sec := cfg.Layer(blocklist.Name)
			return sec.Errors(errors.New("incident: enabled with the blocklist layer off: " + offNote))
		}
		return nil
	}
	top := cfg.IncidentSection()
	var errs []error
	if err := c.Validate(); err != nil {
		errs = append(errs, top.Errors(err))
	}
	if c.Enabled && blocklistOff {
		errs = append(errs, top.Error("enabled with the blocklist layer off: "+offNote))
	}
	return errors.Join(errs...)
}

// Warnings are what `rampart config validate` (and serve and reload, in
// the log) report without refusing the configuration: deprecated
// settings, each with its file line.
func Warnings(cfg *config.Config) []string {
	if _, set, err := blocklistIncident(cfg); err == nil && set {
		sec := cfg.Layer(blocklist.Name)
		w := sec.Errors(errors.New("incident: deprecated: move it to a top-level incident section (same keys)"))
		return []string{w.Error()}
	}
	return nil
}
