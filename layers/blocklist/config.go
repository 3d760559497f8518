package blocklist

import (
	"errors"
	"fmt"
	"time"

	"github.com/rampart-ai/rampart/incident"
)

// Config is the layer's section under "layers: blocklist:".
type Config struct {
	// RefreshInterval is how often each replica asks the store whether
	// the blocks changed (one cheap version query) and reloads them when
	// they did. A block added on another replica is enforced here within
	// this interval. Default 2s; at least 100ms.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// PurgeInterval is how often expired blocks are deleted from the store
	// (expired blocks are ignored at once; purging only keeps the table
	// small). Default 5m.
	PurgeInterval time.Duration `yaml:"purge_interval"`
	// Incident is the deprecated place of the top-level incident section
	// (automatic incident response; see layers.IncidentConfig, which
	// reads either). Still read; `rampart config validate` warns, and
	// setting both is an error.
	Incident incident.Config `yaml:"incident"`
}

// Defaults returns the zero-config configuration: blocks refreshed every
// 2s, purged every 5m, incident response off.
func Defaults() Config {
	return Config{
		RefreshInterval: 2 * time.Second,
		PurgeInterval:   5 * time.Minute,
		Incident:        incident.Defaults(),
	}
}

// DecodeConfig decodes the layer's section (decode as handed to
// Module.New) over the defaults and fills what it leaves empty, without
// building a layer.
func DecodeConfig(decode func(into any) error) (Config, error) {
	cfg := Defaults()
	if err := decode(&cfg); err != nil {
		return Config{}, err
	}
	cfg.fill()
	return cfg, nil
}

// fill sets defaults for fields left empty.
func (c *Config) fill() {
	d := Defaults()
	if c.RefreshInterval == 0 {
		c.RefreshInterval = d.RefreshInterval
	}
	if c.PurgeInterval == 0 {
		c.PurgeInterval = d.PurgeInterval
	}
	c.Incident.Fill()
}

// Validate checks the configuration (after defaults).
func (c *Config) Validate() error {
	var errs []error
	if c.RefreshInterval < 100*time.Millisecond || c.RefreshInterval > time.Hour {
		errs = append(errs, fmt.Errorf("blocklist: refresh_interval %s outside [100ms, 1h]", c.RefreshInterval))
	}
	if c.PurgeInterval < time.Second {
		errs = append(errs, errors.New("blocklist: purge_interval below 1s"))
	}
	if err := c.Incident.Validate(); err != nil {
		all := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			all = j.Unwrap()
		}
		for _, e := range all {
			errs = append(errs, fmt.Errorf("blocklist: incident: %w", e))
		}
	}
	return errors.Join(errs...)
}
