package extraction

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// level is an identity's current action.
type level uint8

const (
	levelNone level = iota
	levelFlag
	levelTighten
	levelBlock
)

func (l level) String() string {
	switch l {
	case levelFlag:
		return ActionFlag
	case levelTighten:
		return ActionTighten
	case levelBlock:
		return ActionBlock
	}
	return "none"
}

// Entry flags: how a prompt relates to the identity's earlier prompts.
const (
	flagTemplated uint8 = 1 << iota // near-duplicate, exact repeat or shared opening
	flagSweep                       // differs only in enumerable tokens, or a short slot in a fixed frame
)

// entry is one kept prompt signature.
type entry struct {
	signature
	flags uint8
	at    int64 // unix seconds
}

// buckets is the number of volume buckets spanning the long window.
const buckets = 60

// state is what the layer keeps per identity. Its size is fixed by the
// configuration: the ring grows up to History entries, the volume counts are
// a fixed array.
type state struct {
	ring []entry // the last History signatures; next is the oldest when full
	next int

	counts   [buckets]uint16 // requests per bucket (saturating)
	bucketAt int64           // bucket number of counts' newest bucket
	seen     bool            // counts and bucketAt are set

	level level
	until int64 // unix seconds until which level holds at least
}

// record counts one request at bucket b (b >= 0).
func (s *state) record(b int64) {
	switch {
	case !s.seen || b-s.bucketAt >= buckets:
		s.counts = [buckets]uint16{}
		s.bucketAt, s.seen = b, true
	case b > s.bucketAt:
		for k := s.bucketAt + 1; k <= b; k++ {
			s.counts[k%buckets] = 0
		}
		s.bucketAt = b
	case b <= s.bucketAt-buckets:
		return // older than the long window (the clock went back): not counted
	}
	if c := &s.counts[b%buckets]; *c < 0xffff {
		*c++
	}
}

// volume is the number of requests in the last n buckets up to bucket b.
func (s *state) volume(b int64, n int) int {
	total := 0
	for k := b - int64(n) + 1; k <= b; k++ {
		if k > s.bucketAt || k <= s.bucketAt-buckets || k < 0 {
			continue
		}
		total += int(s.counts[k%buckets])
	}
	return total
}

// push adds e to the ring (bounded by history).
func (s *state) push(e entry, history int) {
	if len(s.ring) < history {
		s.ring = append(s.ring, e)
		return
	}
	s.ring[s.next] = e
	s.next = (s.next + 1) % len(s.ring)
}

// tracker holds the per-identity states in sharded LRU maps with a total
// cap, keyed by a keyed hash of the identity.
type tracker struct {
	shards    [trackerShards]trackerShard
	perShard  int
	evictions atomic.Uint64
}

const trackerShards = 32

type trackerShard struct {
	mu  sync.Mutex
	lru *simplelru.LRU[uint64, *state]
	_   [48]byte // keep shards on separate cache lines
}

func newTracker(maxIdentities int) *tracker {
	t := &tracker{perShard: max((maxIdentities+trackerShards-1)/trackerShards, 1)}
	for i := range t.shards {
		l, _ := simplelru.NewLRU[uint64, *state](t.perShard, func(uint64, *state) { t.evictions.Add(1) })
		t.shards[i].lru = l
	}
	return t
}

// with runs fn on id's state (created if new) under its shard's lock.
func (t *tracker) with(id uint64, fn func(*state)) {
	sh := &t.shards[id%trackerShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s, ok := sh.lru.Get(id)
	if !ok {
		s = &state{}
		sh.lru.Add(id, s)
	}
	fn(s)
}

// Len is the number of identities tracked.
func (t *tracker) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += sh.lru.Len()
		sh.mu.Unlock()
	}
	return n
}

// Cap is the most identities tracked.
func (t *tracker) Cap() int { return trackerShards * t.perShard }
