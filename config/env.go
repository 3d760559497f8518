package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Environment variables that override the file (see README.md).
const (
	EnvListen       = "RAMPART_LISTEN"
	EnvDataDir      = "RAMPART_DATA_DIR"
	EnvLogLevel     = "RAMPART_LOG_LEVEL"
	EnvLogFormat    = "RAMPART_LOG_FORMAT"
	EnvMaxBodyBytes = "RAMPART_MAX_BODY_BYTES"
	EnvUpstreamURL  = "RAMPART_UPSTREAM_URL"
	EnvAuditSync    = "RAMPART_AUDIT_SYNC"
	EnvAuditEnabled = "RAMPART_AUDIT_ENABLED"
	// EnvLayerPrefix starts RAMPART_LAYERS_<NAME>_MODE and _FAILURE.
	EnvLayerPrefix = "RAMPART_LAYERS_"
)

// EnvUpstreamName is the upstream RAMPART_UPSTREAM_URL adds or replaces.
const EnvUpstreamName = "openai"

// applyEnv applies RAMPART_* overrides from environ (KEY=VALUE entries).
// Values are checked again by validate; parse errors name the variable.
func (c *Config) applyEnv(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "RAMPART_") {
			env[k] = v
		}
	}
	var errs []error
	str := func(key string, dst *string) {
		if v, ok := env[key]; ok {
			*dst = v
		}
	}
	str(EnvListen, &c.Server.Listen)
	str(EnvDataDir, &c.DataDir)
	str(EnvLogLevel, &c.Log.Level)
	str(EnvLogFormat, &c.Log.Format)
	if v, ok := env[EnvMaxBodyBytes]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number of bytes", EnvMaxBodyBytes, v))
		}
		c.Server.MaxBodyBytes = n
	}
	boolean := func(key string, set func(bool)) {
		if v, ok := env[key]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", key, v))
				return
			}
			set(b)
		}
	}
	boolean(EnvAuditSync, func(b bool) { c.Audit.Sync = b })
	boolean(EnvAuditEnabled, func(b bool) { c.Audit.Enabled = &b })
	if v, ok := env[EnvUpstreamURL]; ok {
		i := slices.IndexFunc(c.Upstreams, func(u Upstream) bool { return u.Name == EnvUpstreamName })
		if i < 0 {
			c.Upstreams = append(c.Upstreams, Upstream{Name: EnvUpstreamName, Provider: "openai"})
			i = len(c.Upstreams) - 1
		}
		c.Upstreams[i].BaseURL = v
	}
	for _, key := range sortedKeys(env) {
		rest, ok := strings.CutPrefix(key, EnvLayerPrefix)
		if !ok {
			continue
		}
		var field string
		switch {
		case strings.HasSuffix(rest, "_MODE"):
			field, rest = "mode", strings.TrimSuffix(rest, "_MODE")
		case strings.HasSuffix(rest, "_FAILURE"):
			field, rest = "failure", strings.TrimSuffix(rest, "_FAILURE")
		default:
			errs = append(errs, fmt.Errorf("%s: unknown variable (want %s<NAME>_MODE or _FAILURE)", key, EnvLayerPrefix))
			continue
		}
		if rest == "" {
			errs = append(errs, fmt.Errorf("%s: missing layer name", key))
			continue
		}
		name := strings.ToLower(rest)
		if c.Layers == nil {
			c.Layers = map[string]Layer{}
		}
		l, ok := c.Layers[name]
		if !ok {
			l.env = key // a layer the file does not have: errors name the variable
		}
		if field == "mode" {
			l.Mode = env[key]
		} else {
			l.Failure = env[key]
		}
		c.Layers[name] = l
	}
	return errors.Join(errs...)
}
