package layers

import (
	"testing"

	"github.com/rampart-ai/rampart/engine"
)

// Every layer of the chain takes part in Check: a layer whose checks live
// only in Provision would pass `rampart config validate` and then stop
// `serve`.
func TestChainLayersValidateConfig(t *testing.T) {
	for _, m := range Chain {
		l, err := m.New(func(any) error { return nil })
		if err != nil {
			t.Fatalf("%s: New with defaults: %v", m.Name, err)
		}
		v, ok := l.(engine.ConfigValidator)
		if !ok {
			t.Errorf("%s does not implement engine.ConfigValidator", m.Name)
			continue
		}
		if m.DefaultMode != engine.ModeOff {
			if err := v.ValidateConfig(); err != nil {
				t.Errorf("%s: defaults do not validate: %v", m.Name, err)
			}
		}
	}
}
