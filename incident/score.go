package incident

import (
	"math"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Subject is one scored identity: an API key, a user, or a client address
// (or IPv6 prefix).
type Subject struct {
	// Scope is key, user or ip.
	Scope string `json:"scope"`
	// Value is the key id, the user's subject, or the address / prefix.
	Value string `json:"value"`
	// Tenant is the key's or user's tenant ("" for ip).
	Tenant string `json:"tenant,omitempty"`
}

// Firing is a threshold an identity's score reached.
type Firing struct {
	Threshold Threshold
	Subject   Subject
	// Score is the identity's score when the threshold fired.
	Score float64
	// Counts are the violations of each kind seen for the identity since
	// its score was last zero (at most one entry per kind).
	Counts map[string]int
}

// scoreState is what the scorer keeps per identity.
type scoreState struct {
	score  float64
	at     time.Time
	counts map[string]int
	// quietUntil is, per threshold index, when that threshold may fire
	// again for this identity.
	quietUntil map[int]time.Time
}

// forgetBelow is the score under which an identity's history is reset.
const forgetBelow = 0.01

// Scorer keeps a decaying score per identity in a bounded LRU map and
// reports the thresholds each new violation makes it reach. It is not safe
// for concurrent use (the responder's single worker owns it).
type Scorer struct {
	cfg        Config
	byScope    map[string][]int // threshold indexes per scope
	lru        *simplelru.LRU[Subject, *scoreState]
	evicted    uint64
	decayPerNs float64
}

// NewScorer returns a scorer for cfg (after Fill and Validate).
func NewScorer(cfg Config) *Scorer {
	s := &Scorer{cfg: cfg, byScope: map[string][]int{},
		decayPerNs: math.Ln2 / float64(cfg.HalfLife)}
	for i, t := range cfg.Thresholds {
		s.byScope[t.Scope] = append(s.byScope[t.Scope], i)
	}
	s.lru, _ = simplelru.NewLRU[Subject, *scoreState](max(cfg.MaxIdentities, 1), func(Subject, *scoreState) { s.evicted++ })
	return s
}

// Len is the number of identities tracked.
func (s *Scorer) Len() int { return s.lru.Len() }

// Evicted is how many identities were forgotten to stay within
// max_identities.
func (s *Scorer) Evicted() uint64 { return s.evicted }

// Score returns id's decayed score at now (0 if unknown).
func (s *Scorer) Score(id Subject, now time.Time) float64 {
	st, ok := s.lru.Peek(id)
	if !ok {
		return 0
	}
	return s.decayed(st, now)
}

func (s *Scorer) decayed(st *scoreState, now time.Time) float64 {
	dt := now.Sub(st.at)
	if dt <= 0 {
		return st.score
	}
	return st.score * math.Exp(-s.decayPerNs*float64(dt))
}

// Add records violations of the given kinds for id at now and returns the
// thresholds of id's scope that its score now reaches and that are not in
// their cooldown for id. Kinds with severity 0 are ignored.
func (s *Scorer) Add(id Subject, kinds []string, now time.Time) []Firing {
	points := 0.0
	for _, k := range kinds {
		points += s.cfg.Severities[k]
	}
	if points <= 0 {
		return nil
	}
	st, ok := s.lru.Get(id)
	if !ok {
		st = &scoreState{at: now, counts: map[string]int{}}
		s.lru.Add(id, st)
	}
	cur := s.decayed(st, now)
	if cur < forgetBelow {
		clear(st.counts)
	}
	st.score = cur + points
	if now.After(st.at) {
		st.at = now
	}
	for _, k := range kinds {
		if s.cfg.Severities[k] > 0 {
			st.counts[k]++
		}
	}
	var out []Firing
	for _, i := range s.byScope[id.Scope] {
		t := s.cfg.Thresholds[i]
		if st.score < t.Score {
			continue
		}
		if until, ok := st.quietUntil[i]; ok && now.Before(until) {
			continue
		}
		if st.quietUntil == nil {
			st.quietUntil = map[int]time.Time{}
		}
		st.quietUntil[i] = now.Add(t.Cooldown)
		counts := make(map[string]int, len(st.counts))
		for k, v := range st.counts {
			counts[k] = v
		}
		out = append(out, Firing{Threshold: t, Subject: id, Score: st.score, Counts: counts})
	}
	return out
}
