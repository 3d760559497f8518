package extraction

import (
	"errors"
	"fmt"
	"time"
)

// Actions, from mildest to strongest (MaxAction).
const (
	ActionFlag    = "flag"
	ActionTighten = "tighten"
	ActionBlock   = "block"
)

// Config is the layer's section under "layers: extraction:". A zero value
// means "use the default" for every field.
type Config struct {
	// ShortWindow is the short volume window. Default 10m.
	ShortWindow time.Duration `yaml:"short_window"`
	// LongWindow is the long volume window, and how far back prompt
	// signatures are compared. Default 1h. At most 24h, at least
	// ShortWindow. Counted in 60 buckets of LongWindow/60.
	LongWindow time.Duration `yaml:"long_window"`
	// BaselineShort is the number of requests per ShortWindow that is normal
	// for one identity (a fast human). Default 30. Volume below both
	// baselines never raises the score above 0.
	BaselineShort int `yaml:"baseline_short"`
	// BaselineLong is the normal number of requests per LongWindow. Default 120.
	BaselineLong int `yaml:"baseline_long"`
	// VolumeSaturation is the multiple of a baseline at which the volume
	// factor reaches 1 (it grows with the logarithm of the ratio). Default 6.
	VolumeSaturation float64 `yaml:"volume_saturation"`
	// History is how many recent prompt signatures are kept per identity
	// (about 40 bytes each) and compared with each new prompt. Default 64.
	History int `yaml:"history"`
	// MinSamples is how many signatures inside LongWindow the pattern and
	// diversity features need before they count (below it they are 0).
	// Default 12.
	MinSamples int `yaml:"min_samples"`
	// HammingThreshold is the largest number of differing bits between two
	// 64-bit SimHashes for the prompts to count as near-duplicates.
	// Default 8.
	HammingThreshold int `yaml:"hamming_threshold"`
	// MaxTextBytes is how much of the analysed text (the last paragraph of
	// the last user segment) is hashed: its last MaxTextBytes bytes.
	// Default 4096.
	MaxTextBytes int `yaml:"max_text_bytes"`
	// MaxIdentities caps the identities tracked. Past it the least recently
	// seen identity is forgotten (its score starts afresh). Default 20000;
	// each costs about 300 bytes plus 40 bytes per kept signature.
	MaxIdentities int `yaml:"max_identities"`
	// IPv6Prefix groups IPv6 clients without an identity by this prefix
	// length. Default 64.
	IPv6Prefix int `yaml:"ipv6_prefix"`

	// WeightVolume, WeightPattern and WeightDiversity weigh the features in
	// score = volume × min(1, WeightVolume + WeightPattern×pattern +
	// WeightDiversity×diversity). Defaults 0.5, 0.5, 0.45. Unlike other
	// fields, 0 is a valid weight: these four fields (with PatternBoost)
	// take their defaults only when all four are 0.
	WeightVolume    float64 `yaml:"weight_volume"`
	WeightPattern   float64 `yaml:"weight_pattern"`
	WeightDiversity float64 `yaml:"weight_diversity"`
	// PatternBoost makes repetitive traffic count as more volume: the
	// volume ratio is multiplied by (1 + PatternBoost×pattern) before it is
	// log-scaled, so a templated campaign is caught at a lower rate than
	// diverse traffic. Default 1; 0 turns the boost off.
	PatternBoost float64 `yaml:"pattern_boost"`

	// FlagScore, TightenScore and BlockScore are the score thresholds of the
	// three actions (increasing). Defaults 0.4, 0.6, 0.85.
	FlagScore    float64 `yaml:"flag_score"`
	TightenScore float64 `yaml:"tighten_score"`
	BlockScore   float64 `yaml:"block_score"`
	// FlagTTL, TightenTTL and BlockTTL are how long an identity stays at
	// least at that action once it reached it, even if its score drops
	// (hysteresis). Defaults 10m, 15m, 1h.
	FlagTTL    time.Duration `yaml:"flag_ttl"`
	TightenTTL time.Duration `yaml:"tighten_ttl"`
	BlockTTL   time.Duration `yaml:"block_ttl"`
	// MaxAction is the strongest action the layer takes: flag, tighten or
	// block (default). Scores above a weaker cap's threshold get that action.
	MaxAction string `yaml:"max_action"`
	// TightenRPM is the request rate (GCRA, per minute) a tightened identity
	// is held to; above it the layer answers 429. Default 6.
	TightenRPM int64 `yaml:"tighten_rpm"`
	// TightenBurst is the burst of the tightened rate. Default 3.
	TightenBurst int64 `yaml:"tighten_burst"`
}

// Defaults returns the zero-config configuration.
func Defaults() Config {
	return Config{
		ShortWindow:      10 * time.Minute,
		LongWindow:       time.Hour,
		BaselineShort:    30,
		BaselineLong:     120,
		VolumeSaturation: 6,
		History:          64,
		MinSamples:       12,
		HammingThreshold: 8,
		MaxTextBytes:     4096,
		MaxIdentities:    20_000,
		IPv6Prefix:       64,
		WeightVolume:     0.5,
		WeightPattern:    0.5,
		WeightDiversity:  0.45,
		PatternBoost:     1,
		FlagScore:        0.4,
		TightenScore:     0.6,
		BlockScore:       0.85,
		FlagTTL:          10 * time.Minute,
		TightenTTL:       15 * time.Minute,
		BlockTTL:         time.Hour,
		MaxAction:        ActionBlock,
		TightenRPM:       6,
		TightenBurst:     3,
	}
}

// fill sets defaults for fields left zero.
func (c *Config) fill() {
	d := Defaults()
	setD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	setI := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	setD(&c.ShortWindow, d.ShortWindow)
	setD(&c.LongWindow, d.LongWindow)
	setI(&c.BaselineShort, d.BaselineShort)
	setI(&c.BaselineLong, d.BaselineLong)
	setF(&c.VolumeSaturation, d.VolumeSaturation)
	setI(&c.History, d.History)
	setI(&c.MinSamples, d.MinSamples)
	setI(&c.HammingThreshold, d.HammingThreshold)
	setI(&c.MaxTextBytes, d.MaxTextBytes)
	setI(&c.MaxIdentities, d.MaxIdentities)
	setI(&c.IPv6Prefix, d.IPv6Prefix)
	if c.WeightVolume == 0 && c.WeightPattern == 0 && c.WeightDiversity == 0 && c.PatternBoost == 0 {
		c.WeightVolume, c.WeightPattern, c.WeightDiversity, c.PatternBoost = d.WeightVolume, d.WeightPattern, d.WeightDiversity, d.PatternBoost
	}
	setF(&c.FlagScore, d.FlagScore)
	setF(&c.TightenScore, d.TightenScore)
	setF(&c.BlockScore, d.BlockScore)
	setD(&c.FlagTTL, d.FlagTTL)
	setD(&c.TightenTTL, d.TightenTTL)
	setD(&c.BlockTTL, d.BlockTTL)
	if c.MaxAction == "" {
		c.MaxAction = d.MaxAction
	}
	if c.TightenRPM == 0 {
		c.TightenRPM = d.TightenRPM
	}
	if c.TightenBurst == 0 {
		c.TightenBurst = d.TightenBurst
	}
}

// Validate checks the configuration (after defaults).
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("extraction: "+format, a...)) }
	if c.ShortWindow < time.Minute || c.LongWindow > 24*time.Hour || c.ShortWindow > c.LongWindow {
		bad("want 1m <= short_window (%s) <= long_window (%s) <= 24h", c.ShortWindow, c.LongWindow)
	}
	if c.BaselineShort < 1 || c.BaselineLong < 1 || c.BaselineShort > 1<<20 || c.BaselineLong > 1<<20 {
		bad("baseline_short (%d) and baseline_long (%d) must be in [1, 2^20]", c.BaselineShort, c.BaselineLong)
	}
	if !(c.VolumeSaturation > 1 && c.VolumeSaturation <= 1000) {
		bad("volume_saturation %v outside (1, 1000]", c.VolumeSaturation)
	}
	if c.History < 8 || c.History > 1024 {
		bad("history %d outside [8, 1024]", c.History)
	}
	if c.MinSamples < 2 || c.MinSamples > c.History {
		bad("min_samples %d outside [2, history]", c.MinSamples)
	}
	if c.HammingThreshold < 0 || c.HammingThreshold > 32 {
		bad("hamming_threshold %d outside [0, 32]", c.HammingThreshold)
	}
	if c.MaxTextBytes < 64 || c.MaxTextBytes > 1<<20 {
		bad("max_text_bytes %d outside [64, 1MiB]", c.MaxTextBytes)
	}
	if c.MaxIdentities < 1 || c.MaxIdentities > 10_000_000 {
		bad("max_identities %d outside [1, 10000000]", c.MaxIdentities)
	}
	if c.IPv6Prefix < 1 || c.IPv6Prefix > 128 {
		bad("ipv6_prefix %d outside [1, 128]", c.IPv6Prefix)
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"weight_volume", c.WeightVolume}, {"weight_pattern", c.WeightPattern}, {"weight_diversity", c.WeightDiversity}} {
		if !(w.v >= 0 && w.v <= 1) {
			bad("%s %v outside [0, 1]", w.name, w.v)
		}
	}
	if !(c.PatternBoost >= 0 && c.PatternBoost <= 10) {
		bad("pattern_boost %v outside [0, 10]", c.PatternBoost)
	}
	if c.WeightVolume+c.WeightPattern+c.WeightDiversity == 0 {
		bad("weight_volume, weight_pattern and weight_diversity are all 0: the score would always be 0")
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"flag_score", c.FlagScore}, {"tighten_score", c.TightenScore}, {"block_score", c.BlockScore}} {
		if !(s.v > 0 && s.v <= 1) {
			bad("%s %v outside (0, 1]", s.name, s.v)
		}
	}
	if !(c.FlagScore <= c.TightenScore && c.TightenScore <= c.BlockScore) {
		bad("want flag_score <= tighten_score <= block_score")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"flag_ttl", c.FlagTTL}, {"tighten_ttl", c.TightenTTL}, {"block_ttl", c.BlockTTL}} {
		if d.v < time.Second || d.v > 7*24*time.Hour {
			bad("%s %s outside [1s, 168h]", d.name, d.v)
		}
	}
	switch c.MaxAction {
	case ActionFlag, ActionTighten, ActionBlock:
	default:
		bad("max_action %q: want flag, tighten or block", c.MaxAction)
	}
	if c.TightenRPM < 1 || c.TightenRPM > 1<<20 || c.TightenBurst < 1 || c.TightenBurst > 1<<20 {
		bad("tighten_rpm (%d) and tighten_burst (%d) must be in [1, 2^20]", c.TightenRPM, c.TightenBurst)
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}
