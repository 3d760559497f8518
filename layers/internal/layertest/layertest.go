// Package layertest holds test helpers shared by the layer packages:
// building a layer from its example configuration file the way the gateway
// does, and strict decoding of option snippets.
package layertest

import (
	"errors"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
)

// FromFile builds m's layer from the layers.<m.Name> section of the
// configuration file at path, decoded as the gateway decodes it: the whole
// file loads (unknown keys anywhere are errors), mode and failure stay with
// the gateway, and the layer's options are decoded strictly. The layer is
// not provisioned.
func FromFile(t testing.TB, path string, m engine.Module) engine.Layer {
	t.Helper()
	cfg, err := config.LoadEnv(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Layers[m.Name]; !ok {
		t.Fatalf("%s has no layers.%s section", path, m.Name)
	}
	sec := cfg.Layer(m.Name)
	l, err := m.New(sec.Decode)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Decoder returns a decode function over a YAML snippet of layer options,
// strict like the gateway's (unknown keys are errors); an empty snippet
// decodes to nothing.
func Decoder(snippet string) func(into any) error {
	return func(into any) error {
		dec := yaml.NewDecoder(strings.NewReader(snippet))
		dec.KnownFields(true)
		if err := dec.Decode(into); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
}
