package injection

import (
	"strings"
	"sync"

	"github.com/rampart-ai/rampart/detect"
)

// Scan results are remembered per layer: applications send the same text
// on request after request (the system prompt and tool definitions on
// every call, each earlier turn of a chat again with every new turn, the
// same retrieved documents), and the detector's result is a function of
// the text, its role and its context only (the detector keeps no state
// between scans; a configuration change builds a new layer with a new
// cache). A remembered result is the result a new scan would give, so no
// text is scanned less: repeats are not scanned again. Keys hold the whole
// text (compared byte for byte by the map), never a hash of it.
const (
	// cacheBytes bounds the bytes of text the cache keeps (two
	// generations of at most half of it each).
	cacheBytes = 2 << 20
	// cacheEntries bounds the number of results kept.
	cacheEntries = 2048
	// cacheMinText and cacheMaxText bound the texts worth remembering:
	// shorter ones scan in about the time a lookup takes; one longer
	// one would hold a large share of the cache.
	cacheMinText = 64
	cacheMaxText = 64 << 10
	// cacheMaxKey bounds a whole key (text, user turn, tool names): the
	// user turn is not bounded by cacheMaxText, and an entry larger than
	// half of cacheBytes would hold a generation past its share.
	cacheMaxKey = cacheBytes / 16
)

// scanKey is everything a scan result depends on.
type scanKey struct {
	text   string
	role   detect.Role
	hasCtx bool
	user   string // ctx.UserRequest
	tools  string // ctx.Tools, each followed by a NUL byte
}

func keyOf(text string, role detect.Role, ctx *detect.Context) scanKey {
	k := scanKey{text: text, role: role}
	if ctx != nil {
		k.hasCtx, k.user = true, ctx.UserRequest
		if len(ctx.Tools) > 0 {
			var b strings.Builder
			for _, t := range ctx.Tools {
				b.WriteString(t)
				b.WriteByte(0)
			}
			k.tools = b.String()
		}
	}
	return k
}

func (k *scanKey) size() int { return len(k.text) + len(k.user) + len(k.tools) }

// scanCache is a bounded map from scanKey to result with two generations:
// when the current one is full it becomes the old one (the previous old
// one is dropped), and a hit in the old one moves the entry back.
type scanCache struct {
	mu       sync.Mutex
	cur, old map[scanKey]detect.Result
	curBytes int
}

func newScanCache() *scanCache {
	return &scanCache{cur: map[scanKey]detect.Result{}}
}

// cacheable reports whether a text is worth a lookup (the whole key is
// bounded too: see cacheMaxKey).
func cacheable(text string) bool { return len(text) >= cacheMinText && len(text) <= cacheMaxText }

func (c *scanCache) get(k scanKey) (detect.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.cur[k]; ok {
		return r, true
	}
	r, ok := c.old[k]
	if ok {
		delete(c.old, k)
		c.insert(k, r) // the key's strings are the cache's own copies already
	}
	return r, ok
}

// put remembers r for k. The key's strings are copied (they point into the
// request body otherwise) and so are the findings (callers may keep r).
func (c *scanCache) put(k scanKey, r detect.Result) {
	k.text, k.user, k.tools = strings.Clone(k.text), strings.Clone(k.user), strings.Clone(k.tools)
	r.Findings = append([]detect.Finding(nil), r.Findings...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[k]; !ok {
		c.insert(k, r)
	}
}

func (c *scanCache) insert(k scanKey, r detect.Result) {
	if len(c.cur) >= cacheEntries/2 || c.curBytes+k.size() > cacheBytes/2 {
		c.old, c.cur, c.curBytes = c.cur, make(map[scanKey]detect.Result, len(c.cur)), 0
	}
	c.cur[k] = r
	c.curBytes += k.size()
}
