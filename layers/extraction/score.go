package extraction

import (
	"math"
	"time"
)

// features are one identity's feature values after a request, and the score
// they give. They are what a finding reports (never prompt text).
type features struct {
	short, long int     // requests in the short and long window (this one included)
	ratio       float64 // max(short/baseline_short, long/baseline_long)
	volume      float64 // V: log-scaled ratio × (1 + pattern_boost×pattern), in [0, 1]
	samples     int     // kept signatures inside the long window
	templated   float64 // share of samples that are near-duplicates, repeats or share an opening
	sweep       float64 // share of samples that differ from an earlier one only in enumerable tokens / a short slot
	pattern     float64 // P: share of samples that are templated or part of a sweep
	diversity   float64 // D: normalised entropy of the samples' SimHash buckets
	score       float64
}

// scorer holds the compiled scoring parameters.
type scorer struct {
	cfg          Config
	bucketNs     int64 // width of one volume bucket
	shortBuckets int
	longSec      int64
	lnSat        float64
}

func newScorer(cfg Config) scorer {
	w := int64(cfg.LongWindow) / buckets
	return scorer{
		cfg:          cfg,
		bucketNs:     w,
		shortBuckets: int(min((int64(cfg.ShortWindow)+w-1)/w, buckets)),
		longSec:      int64(cfg.LongWindow / time.Second),
		lnSat:        math.Log(cfg.VolumeSaturation),
	}
}

// baselines are the normal request counts of an identity per window.
type baselines struct{ short, long int64 }

// Identity.Limits keys that override the baselines for one key or tenant.
const (
	LimitBaselineShort = "extraction_baseline_short"
	LimitBaselineLong  = "extraction_baseline_long"
)

// baselinesFor returns the configured baselines, overridden by positive
// values of the identity's LimitBaselineShort / LimitBaselineLong (capped
// at 2^30).
func (sc *scorer) baselinesFor(lim map[string]int64) baselines {
	b := baselines{int64(sc.cfg.BaselineShort), int64(sc.cfg.BaselineLong)}
	if v := lim[LimitBaselineShort]; v > 0 {
		b.short = min(v, 1<<30)
	}
	if v := lim[LimitBaselineLong]; v > 0 {
		b.long = min(v, 1<<30)
	}
	return b
}

// cLnC[c] is c×ln(c) for the bucket counts of the entropy (c ≤ the largest
// history), so that scoring computes no logarithm per bucket.
var cLnC = func() (t [1025]float64) {
	for c := 2; c < len(t); c++ {
		t[c] = float64(c) * math.Log(float64(c))
	}
	return t
}()

// relate says how prompt a relates to an earlier prompt b.
func relate(a, b *signature, hammingMax int) uint8 {
	if a.raw == b.raw && a.words == b.words {
		return flagTemplated // exact repeat (after normalisation)
	}
	var f uint8
	switch {
	case a.skel == b.skel && a.enums > 0:
		f |= flagSweep // same words but for numbers / single letters: item 17, item 18
	case a.frame == b.frame && a.words >= 3 && a.words <= 12:
		f |= flagSweep // same first word, last two words and length: a short slot filled from a list
	}
	if hamming(a.sim, b.sim) <= hammingMax ||
		a.head == b.head && a.words >= headWords+2 && b.words >= headWords+2 {
		f |= flagTemplated // near-duplicate, or the same opening before a long slot
	}
	return f
}

// observe records one request of the identity with state s at now (and its
// prompt signature when hasText) and returns the identity's features
// against baselines bl. Called under the identity's lock.
func (sc *scorer) observe(s *state, now time.Time, sig signature, hasText bool, bl baselines) features {
	ns := now.UnixNano()
	b := max(ns/sc.bucketNs, 0)
	s.record(b)
	f := features{short: s.volume(b, sc.shortBuckets), long: s.volume(b, buckets)}
	sec := now.Unix()
	from := sec - sc.longSec
	if hasText {
		e := entry{signature: sig, at: sec}
		for i := range s.ring {
			o := &s.ring[i]
			if o.at >= from && o.at <= sec {
				e.flags |= relate(&e.signature, &o.signature, sc.cfg.HammingThreshold)
			}
		}
		s.push(e, sc.cfg.History)
	}
	var spread [64]uint16
	var nT, nS, nP int
	for i := range s.ring {
		o := &s.ring[i]
		if o.at < from || o.at > sec {
			continue
		}
		f.samples++
		spread[o.sim>>58]++
		if o.flags&flagTemplated != 0 {
			nT++
		}
		if o.flags&flagSweep != 0 {
			nS++
		}
		if o.flags != 0 {
			nP++
		}
	}
	if f.samples >= sc.cfg.MinSamples {
		n := float64(f.samples)
		f.templated, f.sweep, f.pattern = float64(nT)/n, float64(nS)/n, float64(nP)/n
		// H = -Σ (c/n) ln(c/n) = ln n - (1/n) Σ c ln c, with c ln c from a table.
		var sum float64
		for _, c := range spread {
			sum += cLnC[c]
		}
		h := cLnC[f.samples]/n - sum/n // cLnC[n]/n = ln n
		f.diversity = min(max(h, 0)/math.Log(min(n, 64)), 1)
	}
	f.ratio = max(float64(f.short)/float64(bl.short), float64(f.long)/float64(bl.long))
	if r := f.ratio * (1 + sc.cfg.PatternBoost*f.pattern); r > 1 {
		f.volume = min(math.Log(r)/sc.lnSat, 1)
	}
	f.score = f.volume * min(1, sc.cfg.WeightVolume+sc.cfg.WeightPattern*f.pattern+sc.cfg.WeightDiversity*f.diversity)
	return f
}

// levelFor maps a score to the action it calls for, capped by max_action.
func (sc *scorer) levelFor(score float64) level {
	lv := levelNone
	switch {
	case score >= sc.cfg.BlockScore:
		lv = levelBlock
	case score >= sc.cfg.TightenScore:
		lv = levelTighten
	case score >= sc.cfg.FlagScore:
		lv = levelFlag
	}
	return min(lv, sc.maxLevel())
}

func (sc *scorer) maxLevel() level {
	switch sc.cfg.MaxAction {
	case ActionFlag:
		return levelFlag
	case ActionTighten:
		return levelTighten
	}
	return levelBlock
}

func (sc *scorer) ttl(lv level) time.Duration {
	switch lv {
	case levelFlag:
		return sc.cfg.FlagTTL
	case levelTighten:
		return sc.cfg.TightenTTL
	case levelBlock:
		return sc.cfg.BlockTTL
	}
	return 0
}

// transition applies hysteresis: an identity rises to the level its score
// calls for at once, and keeps a level (re-armed while the score still
// supports it) until its TTL has passed. It returns the level to act on and
// whether the identity rose to it now.
func (sc *scorer) transition(s *state, now time.Time, target level) (level, bool) {
	sec := now.Unix()
	switch {
	case target > s.level:
		s.level, s.until = target, sec+int64(sc.ttl(target)/time.Second)
		return target, true
	case target == s.level && target != levelNone:
		s.until = sec + int64(sc.ttl(target)/time.Second)
	case target < s.level && sec >= s.until:
		s.level = target
		s.until = sec + int64(sc.ttl(target)/time.Second)
	}
	return s.level, false
}
