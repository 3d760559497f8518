// Package pricing turns token usage into cost: a table of prices per model
// glob (USD per 1M prompt, cached prompt and completion tokens), from the
// configuration and an embedded, dated default for well-known OpenAI and
// Anthropic models (prices.yaml, which names its source).
//
// Costs are integers in nano-USD (1e-9 USD) so that they add up exactly in
// the store and in budget counters.
package pricing

import (
	_ "embed"
	"fmt"
	"math"
	"path"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
)

// NanosPerUSD is the unit of every cost.
const NanosPerUSD = 1_000_000_000

//go:embed prices.yaml
var defaultYAML []byte

// AsOf is the date of the embedded price table.
var AsOf string

var defaults []config.Price

func init() {
	var f struct {
		AsOf   string         `yaml:"as_of"`
		Prices []config.Price `yaml:"prices"`
	}
	if err := yaml.Unmarshal(defaultYAML, &f); err != nil {
		panic("pricing: embedded prices.yaml: " + err.Error())
	}
	AsOf, defaults = f.AsOf, f.Prices
}

// Defaults returns a copy of the embedded price table.
func Defaults() []config.Price { return append([]config.Price(nil), defaults...) }

// entry is one price in nano-USD per token.
type entry struct {
	models                []string
	input, cached, output float64
}

// Table prices models. The zero Table prices nothing.
type Table struct{ entries []entry }

// New builds the table for c: c.Prices first, then the embedded defaults
// unless c.Defaults is false.
func New(c config.Pricing) (*Table, error) {
	prices := append([]config.Price(nil), c.Prices...)
	if c.Defaults == nil || *c.Defaults {
		prices = append(prices, defaults...)
	}
	t := &Table{entries: make([]entry, 0, len(prices))}
	for i, p := range prices {
		for _, m := range p.Models {
			if _, err := path.Match(m, ""); err != nil || m == "" {
				return nil, fmt.Errorf("pricing: prices[%d]: bad model pattern %q", i, m)
			}
		}
		cached := p.Input
		if p.CachedInput != nil {
			cached = *p.CachedInput
		}
		for _, v := range []float64{p.Input, p.Output, cached} {
			if v < 0 || v > 100000 || math.IsNaN(v) {
				return nil, fmt.Errorf("pricing: prices[%d]: price %v outside [0, 100000]", i, v)
			}
		}
		// USD per 1M tokens = 1000 nano-USD per token.
		t.entries = append(t.entries, entry{models: p.Models, input: p.Input * 1000, cached: cached * 1000, output: p.Output * 1000})
	}
	return t, nil
}

// Cost is the cost of usage u of model in nano-USD, rounded to the
// nearest; ok is false when no entry prices the model (cost 0).
func (t *Table) Cost(model string, u conv.Usage) (nanos int64, ok bool) {
	if t == nil || model == "" {
		return 0, false
	}
	for i := range t.entries {
		e := &t.entries[i]
		for _, m := range e.models {
			if hit, _ := path.Match(m, model); hit {
				return e.cost(u), true
			}
		}
	}
	return 0, false
}

func (e *entry) cost(u conv.Usage) int64 {
	prompt := max(u.PromptTokens, 0)
	cached := min(max(u.CachedPromptTokens, 0), prompt)
	completion := max(u.CompletionTokens, 0)
	if completion == 0 && u.TotalTokens > prompt {
		completion = u.TotalTokens - prompt
	}
	c := float64(prompt-cached)*e.input + float64(cached)*e.cached + float64(completion)*e.output
	if c >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(math.Round(c))
}

// USD formats nanos as dollars with six decimals.
func USD(nanos int64) string {
	sign := ""
	if nanos < 0 {
		sign, nanos = "-", -nanos
	}
	micros := (nanos + 500) / 1000
	return fmt.Sprintf("%s%d.%06d", sign, micros/1_000_000, micros%1_000_000)
}
