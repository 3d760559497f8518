package limits

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

const memShards = 64

// DefaultMaxEntries is the memory backend's default cap on stored keys
// (about 200 bytes each).
const DefaultMaxEntries = 100_000

// MemoryOptions configure NewMemory.
type MemoryOptions struct {
	// MaxEntries caps the Rate and Counter keys kept (default
	// DefaultMaxEntries). Past it the least recently used key is forgotten,
	// which resets that key's limit: memory stays bounded however many
	// distinct clients appear.
	MaxEntries int
	// Now is the clock (default time.Now); tests pass a fake one.
	Now func() time.Time
}

// Memory is the in-process backend: state lives in this replica only.
// Rate and Counter state sits in sharded LRU maps with a total cap;
// Concurrency counts are kept per in-flight key and deleted at zero, so
// they are bounded by the number of requests in flight.
type Memory struct {
	shards    [memShards]memShard
	seed      maphash.Seed
	now       func() time.Time
	perShard  int
	evictions atomic.Uint64
}

type memShard struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, *cell]
	inflight map[string]int64
	_        [40]byte // keep shards on separate cache lines
}

// cell is the state of one Rate (tat) or Counter (n, expires) key.
type cell struct {
	v       int64 // Rate: theoretical arrival time (unix ns); Counter: sum
	expires int64 // Counter: end of window (unix ns); Rate: 0
}

// NewMemory returns an empty memory backend.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	per := (o.MaxEntries + memShards - 1) / memShards
	m := &Memory{seed: maphash.MakeSeed(), now: o.Now, perShard: per}
	for i := range m.shards {
		l, _ := simplelru.NewLRU[string, *cell](per, func(string, *cell) { m.evictions.Add(1) })
		m.shards[i].lru = l
		m.shards[i].inflight = map[string]int64{}
	}
	return m
}

// Len is the number of Rate and Counter keys held (at most the cap, rounded
// up to a multiple of the shard count).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.lru.Len()
		s.mu.Unlock()
	}
	return n
}

// Cap is the most Rate and Counter keys held.
func (m *Memory) Cap() int {
	return memShards * m.perShard
}

// InFlight is the number of keys with concurrency slots held.
func (m *Memory) InFlight() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.inflight)
		s.mu.Unlock()
	}
	return n
}

// Evictions counts keys forgotten because the cap was reached.
func (m *Memory) Evictions() uint64 { return m.evictions.Load() }

// Close implements Backend.
func (m *Memory) Close() error { return nil }

func (m *Memory) shardOf(key string) uint8 {
	return uint8(maphash.String(m.seed, key) % memShards)
}

// lockSet locks the shards of checks in ascending order (no deadlock with
// concurrent callers) and returns them for unlock.
func (m *Memory) lockSet(checks []Check, buf *[8]uint8) []uint8 {
	idx := buf[:0]
	for i := range checks {
		s := m.shardOf(checks[i].Key)
		// insertion into the sorted, de-duplicated list
		j := len(idx)
		dup := false
		for k := range idx {
			if idx[k] == s {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		idx = append(idx, s)
		for j > 0 && idx[j-1] > s {
			idx[j] = idx[j-1]
			j--
		}
		idx[j] = s
	}
	for _, s := range idx {
		m.shards[s].mu.Lock()
	}
	return idx
}

func (m *Memory) unlock(idx []uint8) {
	for _, s := range idx {
		m.shards[s].mu.Unlock()
	}
}

// Admit implements Backend.
func (m *Memory) Admit(_ context.Context, checks []Check, out []Status) (bool, error) {
	if len(out) < len(checks) {
		return false, ErrBadCheck
	}
	for i := range checks {
		if err := checks[i].validate(false); err != nil {
			return false, err
		}
	}
	now := m.now().UnixNano()
	var buf [8]uint8
	idx := m.lockSet(checks, &buf)
	defer m.unlock(idx)

	// Evaluate everything first, commit only if all pass. Peek does not
	// create entries, so denied requests add no state. The new values are
	// kept in a small stack array for the usual handful of checks.
	var nvBuf [8]int64
	nv := nvBuf[:0]
	if len(checks) > len(nvBuf) {
		nv = make([]int64, 0, len(checks))
	}
	all := true
	for i := range checks {
		c := &checks[i]
		s := &m.shards[m.shardOf(c.Key)]
		var v int64
		switch c.Kind {
		case Rate:
			var tat int64
			if e, ok := s.lru.Peek(c.Key); ok {
				tat = e.v
			}
			v, out[i] = gcra(tat, now, int64(c.Interval), c.Capacity, c.Cost)
		case Concurrency:
			n := s.inflight[c.Key]
			out[i] = Status{OK: n < c.Limit, Remaining: max(c.Limit-n-1, 0)}
			if !out[i].OK {
				out[i].RetryAfter = time.Second
				out[i].Remaining = 0
			}
		case Counter:
			exp := c.Expires.UnixNano()
			var used int64
			if e, ok := s.lru.Peek(c.Key); ok && e.expires > now {
				used = e.v
			}
			out[i] = counter(used, c.Limit, c.Cost, time.Duration(max(exp-now, 0)))
			v = used + c.Cost
		}
		nv = append(nv, v)
		all = all && out[i].OK
	}
	if !all {
		return false, nil
	}
	for i := range checks {
		c := &checks[i]
		s := &m.shards[m.shardOf(c.Key)]
		switch c.Kind {
		case Rate:
			m.put(s, c.Key, nv[i], 0)
		case Concurrency:
			s.inflight[c.Key]++
		case Counter:
			m.put(s, c.Key, nv[i], c.Expires.UnixNano())
		}
	}
	return true, nil
}

// put stores v for key, reusing the cell when present (Get marks it used).
func (m *Memory) put(s *memShard, key string, v, expires int64) {
	if e, ok := s.lru.Get(key); ok {
		e.v, e.expires = v, expires
		return
	}
	s.lru.Add(key, &cell{v: v, expires: expires})
}

// Settle implements Backend.
func (m *Memory) Settle(_ context.Context, checks []Check) error {
	for i := range checks {
		if err := checks[i].validate(true); err != nil {
			return err
		}
	}
	now := m.now().UnixNano()
	var buf [8]uint8
	idx := m.lockSet(checks, &buf)
	defer m.unlock(idx)
	for i := range checks {
		c := &checks[i]
		s := &m.shards[m.shardOf(c.Key)]
		switch c.Kind {
		case Rate:
			e, ok := s.lru.Get(c.Key)
			switch {
			case c.Cost > 0:
				tat := now
				if ok && e.v > now {
					tat = e.v
				}
				m.put(s, c.Key, addSat(tat, mulSat(c.Cost, int64(c.Interval))), 0)
			case c.Cost < 0 && ok:
				e.v = addSat(e.v, -mulSat(-max(c.Cost, -math.MaxInt64), int64(c.Interval)))
			}
		case Concurrency:
			if n := s.inflight[c.Key]; n > 1 {
				s.inflight[c.Key] = n - 1
			} else {
				delete(s.inflight, c.Key)
			}
		case Counter:
			e, ok := s.lru.Get(c.Key)
			if ok && e.expires <= now {
				e.v, ok = 0, true
			}
			switch {
			case ok:
				e.v = max(addSat(e.v, c.Cost), 0)
				e.expires = c.Expires.UnixNano()
			case c.Cost > 0:
				s.lru.Add(c.Key, &cell{v: c.Cost, expires: c.Expires.UnixNano()})
			}
		}
	}
	return nil
}
