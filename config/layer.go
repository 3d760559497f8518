package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Layer returns the named layer's section with its name attached, so that
// Decode errors name it. A layer not in the file gets an empty section
// (mode and failure unset, no options).
func (c *Config) Layer(name string) Layer {
	l := c.Layers[name]
	l.name = name
	return l
}

// Name is the layer's config key ("" for a Layer built by hand).
func (l *Layer) Name() string { return l.name }

// ModeOr returns the configured mode, or def when none is set.
func (l *Layer) ModeOr(def string) string {
	if l.Mode == "" {
		return def
	}
	return l.Mode
}

// FailureOr returns the configured failure mode, or def when none is set.
func (l *Layer) FailureOr(def string) string {
	if l.Failure == "" {
		return def
	}
	return l.Failure
}

// Decode fills into (a pointer to the layer's config struct, pre-set with
// its defaults) from the layer's options. Unknown keys and wrong types are
// errors prefixed "layers.<name>:". Without options, into is untouched.
func (l *Layer) Decode(into any) error {
	if len(l.Options) == 0 {
		return nil
	}
	data, err := yaml.Marshal(l.Options)
	if err != nil {
		return l.errorf("%v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := safeDecode(dec, into); err != nil {
		// Line numbers refer to the re-encoded options, not the file;
		// drop them and point at the layer's section instead.
		var msgs []string
		for _, m := range yamlMessages(err) {
			_, m = splitLine(m)
			msgs = append(msgs, m)
		}
		return l.errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

func (l *Layer) errorf(format string, args ...any) error {
	prefix := "layers." + l.name
	if l.name == "" {
		prefix = "layers"
	}
	if l.line > 0 {
		prefix += fmt.Sprintf(" (line %d)", l.line)
	}
	return fmt.Errorf("%s: "+format, append([]any{prefix}, args...)...)
}

// CheckLayers reports every configured layer name not in known (the names
// of the chain's modules), so that a typo such as "pii_redact" for
// "pii" is an error rather than a silently ignored section.
func (c *Config) CheckLayers(known []string) error {
	var errs []error
	for _, name := range sortedKeys(c.Layers) {
		if !slices.Contains(known, name) {
			l := c.Layer(name)
			errs = append(errs, l.errorf("unknown layer (known: %s)", strings.Join(known, ", ")))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
