package extraction

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/layertest"
)

// campaign sends n templated requests from key at one every gap and returns
// the decisions.
func campaign(t *testing.T, l *Layer, clk *clock, key string, n int, gap time.Duration) []engine.Decision {
	t.Helper()
	out := make([]engine.Decision, 0, n)
	for i := 0; i < n; i++ {
		clk.add(gap)
		d, err := l.OnRequest(chatTx(key, "192.0.2.1", "Describe product SKU-"+strconv.Itoa(1000+i)+" in one sentence."))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// firstWith returns the index of the first decision with the given code
// (or, with code "", the first flag), -1 if none.
func firstWith(ds []engine.Decision, code string) int {
	for i, d := range ds {
		if code == "" && d.Action == engine.Flag || code != "" && d.Code == code {
			return i
		}
	}
	return -1
}

// TestGraduatedActions drives a templated campaign at 30 requests a minute:
// it is first allowed, then flagged, then held to the tightened rate (429),
// then refused (403); the answers carry codes, Retry-After and findings
// with feature values but no prompt text; another key is unaffected.
func TestGraduatedActions(t *testing.T) {
	l, clk := newLayer(t, Defaults())
	ds := campaign(t, l, clk, "k1", 200, 2*time.Second)
	flag, tight, block := firstWith(ds, ""), firstWith(ds, CodeRateLimited), firstWith(ds, CodeSuspected)
	if ds[0].Action != engine.Allow || flag < 0 || tight < 0 || block < 0 || !(flag < tight && tight < block) {
		t.Fatalf("first flag %d, 429 %d, 403 %d", flag, tight, block)
	}
	for i := block; i < len(ds); i++ {
		if ds[i].Code != CodeSuspected {
			t.Fatalf("request %d after the block: %+v", i, ds[i])
		}
	}
	d := ds[tight]
	if d.Status != 429 || d.Headers["Retry-After"] == "" || d.Headers["x-ratelimit-limit-requests"] != "6" ||
		!strings.Contains(d.Reason, "6 requests per minute") {
		t.Fatalf("429: %+v", d)
	}
	d = ds[block]
	if d.Status != 403 || d.Headers["Retry-After"] != "3600" || d.Rule != Rule {
		t.Fatalf("403: %+v", d)
	}
	for _, d := range ds {
		for _, f := range d.Findings {
			if strings.Contains(f.Text, "SKU") || strings.Contains(f.Text, "product") || f.Layer != Name || f.Score <= 0 {
				t.Fatalf("finding %+v", f)
			}
		}
	}
	f := ds[block].Findings[0]
	if f.Rule != "model_extraction/block" || f.Severity != engine.SeverityHigh || !strings.Contains(f.Text, "pattern 1.00") {
		t.Fatalf("block finding %+v", f)
	}
	// Another key, same IP, human pace: untouched.
	for i := 0; i < 20; i++ {
		clk.add(time.Minute)
		d, _ := l.OnRequest(chatTx("k2", "192.0.2.1", humanPrompts[i%len(humanPrompts)]))
		if d.Action != engine.Allow {
			t.Fatalf("k2 request %d: %+v", i, d)
		}
	}
}

var humanPrompts = []string{
	"How do I make my sourdough starter more active?", "what's a good name for a grey cat",
	"Explain the difference between a mutex and a semaphore.", "Can you help me write a birthday message for my aunt?",
	"why is my tomato plant turning yellow", "Summarise the causes of the French revolution in three bullet points.",
	"Is it safe to run a marathon with a cold?", "translate good morning into Japanese",
}

// TestHysteresis checks that a blocked identity stays blocked for the block
// TTL although it went quiet, and is free once the TTL has passed and its
// windows are empty.
func TestHysteresis(t *testing.T) {
	l, clk := newLayer(t, Defaults())
	ds := campaign(t, l, clk, "k1", 150, time.Second)
	if ds[len(ds)-1].Code != CodeSuspected {
		t.Fatalf("not blocked: %+v", ds[len(ds)-1])
	}
	clk.add(50 * time.Minute)
	d, _ := l.OnRequest(chatTx("k1", "192.0.2.1", humanPrompts[0]))
	if d.Code != CodeSuspected {
		t.Fatalf("after 50 quiet minutes: %+v", d)
	}
	clk.add(2 * time.Hour)
	d, _ = l.OnRequest(chatTx("k1", "192.0.2.1", humanPrompts[1]))
	if d.Action != engine.Allow {
		t.Fatalf("after the TTL: %+v", d)
	}
}

// TestTightenedRate holds an identity at max_action tighten and checks the
// GCRA: one request per interval passes, the next within it is refused.
func TestTightenedRate(t *testing.T) {
	cfg := Defaults()
	cfg.MaxAction = ActionTighten
	l, clk := newLayer(t, cfg)
	ds := campaign(t, l, clk, "k1", 150, time.Second)
	if firstWith(ds, CodeSuspected) >= 0 || firstWith(ds, CodeRateLimited) < 0 {
		t.Fatal("want 429s and no 403 with max_action tighten")
	}
	clk.add(10 * time.Second) // 6 rpm: one request earned back
	txt := "Describe product SKU-9999 in one sentence."
	if d, _ := l.OnRequest(chatTx("k1", "192.0.2.1", txt)); d.Action != engine.Flag {
		t.Fatalf("after 10s: %+v", d)
	}
	d, _ := l.OnRequest(chatTx("k1", "192.0.2.1", txt))
	if ra, _ := strconv.Atoi(d.Headers["Retry-After"]); d.Code != CodeRateLimited || ra < 1 || ra > 10 {
		t.Fatalf("second within the interval: %+v", d)
	}
}

func TestMaxActionFlag(t *testing.T) {
	cfg := Defaults()
	cfg.MaxAction = ActionFlag
	l, clk := newLayer(t, cfg)
	ds := campaign(t, l, clk, "k1", 150, time.Second)
	for _, d := range ds {
		if d.Action == engine.Block {
			t.Fatalf("blocked with max_action flag: %+v", d)
		}
	}
	if ds[len(ds)-1].Action != engine.Flag {
		t.Fatal("not flagged")
	}
}

// TestIdentityKeys checks who shares state: one key from many IPs; one IP
// without identity; an IPv6 /64; not two keys, nor two tenants' users.
func TestIdentityKeys(t *testing.T) {
	l, _ := newLayer(t, Defaults())
	id := func(tenant, key, user, ip string) uint64 {
		tx := &engine.Tx{ClientIP: ip}
		if tenant != "" {
			tx.Identity = &engine.Identity{Tenant: tenant, KeyID: key, Subject: user}
		}
		return l.identity(tx)
	}
	same := [][2]uint64{
		{id("t", "k1", "", "192.0.2.1"), id("t", "k1", "", "203.0.113.9")},
		{id("", "", "", "192.0.2.1"), id("", "", "", "::ffff:192.0.2.1")},
		{id("", "", "", "2001:db8::1"), id("", "", "", "2001:db8::ffff:1")},
		{id("t", "", "alice", "192.0.2.1"), id("t", "", "alice", "192.0.2.2")},
		{id("t", "k1", "alice", "192.0.2.1"), id("t", "k1", "bob", "192.0.2.2")},
		{id("t", "", "", "192.0.2.1"), id("", "", "", "192.0.2.1")}, // a tenant alone is no caller: by IP
	}
	for i, p := range same {
		if p[0] != p[1] {
			t.Errorf("same %d differ", i)
		}
	}
	diff := [][2]uint64{
		{id("t", "k1", "", "192.0.2.1"), id("t", "k2", "", "192.0.2.1")},
		{id("t", "", "alice", "192.0.2.1"), id("u", "", "alice", "192.0.2.1")},
		{id("t", "k1", "", "192.0.2.1"), id("t", "", "k1", "192.0.2.1")},
		{id("", "", "", "2001:db8::1"), id("", "", "", "2001:db8:0:1::1")},
		{id("", "", "", "192.0.2.1"), id("", "", "", "192.0.2.2")},
	}
	for i, p := range diff {
		if p[0] == p[1] {
			t.Errorf("different %d share", i)
		}
	}
}

// TestBaselineOverride: the same campaign on a key whose Identity.Limits
// raise the baselines is not acted on.
func TestBaselineOverride(t *testing.T) {
	l, clk := newLayer(t, Defaults())
	for i := 0; i < 150; i++ {
		clk.add(time.Second)
		tx := chatTx("svc", "192.0.2.1", "Describe product SKU-"+strconv.Itoa(i)+" in one sentence.")
		tx.Identity.Limits = map[string]int64{LimitBaselineShort: 1000, LimitBaselineLong: 6000}
		if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
}

// TestNoTextAndModels: model listings are not counted; requests without
// user text count as volume only.
func TestNoTextAndModels(t *testing.T) {
	l, clk := newLayer(t, Defaults())
	for i := 0; i < 500; i++ {
		clk.add(time.Second)
		tx := &engine.Tx{ClientIP: "192.0.2.1", Request: &conv.Conversation{Kind: conv.KindModels}}
		if d, _ := l.OnRequest(tx); d.Action != engine.Allow {
			t.Fatalf("models: %+v", d)
		}
		if d, _ := l.OnRequest(&engine.Tx{ClientIP: "192.0.2.1"}); d.Action != engine.Allow {
			t.Fatalf("no request: %+v", d)
		}
	}
	var last engine.Decision
	for i := 0; i < 500; i++ {
		clk.add(time.Second)
		last, _ = l.OnRequest(&engine.Tx{ClientIP: "192.0.2.9", Request: &conv.Conversation{Kind: conv.KindChat,
			Messages: []conv.Message{{Role: conv.RoleSystem, Segments: []conv.Segment{conv.NewSegment("s", conv.SourceSystem, "p")}}}}})
	}
	// Pure volume (about 17x the short baseline, no pattern or diversity
	// evidence): volume × weight_volume = 0.5, a flag.
	if last.Action != engine.Flag || !strings.Contains(last.Findings[0].Text, "over 0 prompts") {
		t.Fatalf("volume only: %+v", last)
	}
}

// TestWindows checks the bucketed volume counts.
func TestWindows(t *testing.T) {
	var s state
	for b := int64(100); b < 130; b++ {
		s.record(b)
		s.record(b)
	}
	if v := s.volume(129, 10); v != 20 {
		t.Fatalf("short %d", v)
	}
	if v := s.volume(129, buckets); v != 60 {
		t.Fatalf("long %d", v)
	}
	s.record(100) // within the long window, late: counted
	s.record(60)  // older than the window: not counted
	if v := s.volume(129, buckets); v != 61 {
		t.Fatalf("late %d", v)
	}
	s.record(129 + 45) // buckets 130..174 cleared as time moved
	if v := s.volume(174, buckets); v != 1+2*15 {
		t.Fatalf("after moving on %d", v)
	}
	s.record(1000)
	if v := s.volume(1000, buckets); v != 1 {
		t.Fatalf("after a long pause %d", v)
	}
}

func TestConfigFile(t *testing.T) {
	lay := layertest.FromFile(t, "testdata/extraction.yaml", Module)
	cfg := lay.(*Layer).Config()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.BaselineShort != 40 || cfg.MaxAction != ActionTighten || cfg.WeightDiversity != 0.45 || cfg.BlockTTL != 2*time.Hour {
		t.Fatalf("%+v", cfg)
	}
}

func strictDecode(data []byte) func(any) error { return layertest.Decoder(string(data)) }

func TestConfigDefaultsAndErrors(t *testing.T) {
	lay, err := Module.New(strictDecode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := lay.(*Layer).Config(); cfg != Defaults() {
		t.Fatalf("zero config: %+v", cfg)
	}
	if c := New(Config{}).Config(); c != Defaults() {
		t.Fatalf("New(Config{}) does not fill defaults: %+v", c)
	}
	if _, err := Module.New(strictDecode([]byte("baseline_shrot: 3"))); err == nil {
		t.Fatal("unknown key accepted")
	}
	c := Defaults()
	c.WeightDiversity = 0 // explicit zero weight is kept
	if got := New(c).Config(); got.WeightDiversity != 0 || got.Validate() != nil {
		t.Fatalf("zero weight: %+v", got)
	}
	for _, y := range []string{
		"short_window: 2h", "long_window: 48h", "short_window: 10s", "baseline_short: -1", "volume_saturation: 1",
		"history: 4", "history: 5000", "min_samples: 100", "hamming_threshold: 40", "max_text_bytes: 10",
		"max_identities: -5", "ipv6_prefix: 200", "weight_pattern: 2", "pattern_boost: -1",
		"weight_volume: 0\nweight_pattern: 0\nweight_diversity: 0\npattern_boost: 1",
		"flag_score: 0.9\nblock_score: 0.5", "block_score: 1.5", "flag_score: -0.1", "block_ttl: 1ms", "max_action: ban",
		"tighten_rpm: -1", "tighten_burst: 9999999999",
	} {
		lay, err := Module.New(strictDecode([]byte(y)))
		if err != nil {
			continue // a decoding error is fine too
		}
		l := lay.(*Layer)
		if err := l.Provision(&engine.Host{}); err == nil {
			t.Errorf("%q: accepted", y)
		}
	}
}

// TestConcurrent runs requests of shared and separate identities from many
// goroutines (run with -race) and checks the result is consistent: the
// shared campaign key ends up acted on, the quiet keys do not.
func TestConcurrent(t *testing.T) {
	l, clk := newLayer(t, Defaults())
	var wg sync.WaitGroup
	quiet := make([]engine.Action, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				l.OnRequest(chatTx("shared", "192.0.2.1", "Describe product SKU-"+strconv.Itoa(g*1000+i)+" in one sentence."))
				if i%20 == 0 {
					d, _ := l.OnRequest(chatTx("quiet-"+strconv.Itoa(g), "192.0.2.1", humanPrompts[i%len(humanPrompts)]))
					quiet[g] = max(quiet[g], d.Action)
				}
				if g == 0 && i%10 == 0 {
					clk.add(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	if d, _ := l.OnRequest(chatTx("shared", "192.0.2.1", "Describe product SKU-1 in one sentence.")); d.Code != CodeSuspected {
		t.Fatalf("shared key: %+v", d)
	}
	for g, a := range quiet {
		if a != engine.Allow {
			t.Fatalf("quiet key %d: %v", g, a)
		}
	}
}

// TestFindingTextMatchesSprintf: the strconv-built finding text is the
// fmt.Sprintf text it replaced, for ordinary and extreme feature values.
func TestFindingTextMatchesSprintf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []float64{0, 0.005, 0.015, 0.125, 0.995, 1, 1.05, 99.95, 1234.5678, -0.004, -2.5, 1e21, math.Inf(1), math.Inf(-1), math.NaN()}
	for i := range 2000 {
		pick := func() float64 {
			if i%2 == 0 {
				return vals[rng.IntN(len(vals))]
			}
			return rng.Float64() * float64(rng.IntN(1000))
		}
		f := features{short: rng.IntN(1 << 20), long: rng.IntN(1<<20) - 5, ratio: pick(), samples: rng.IntN(500),
			templated: pick(), sweep: pick(), pattern: pick(), diversity: pick(), score: pick()}
		lv := level(rng.IntN(4))
		short, long := time.Duration(rng.Int64N(int64(48*time.Hour))), time.Duration(rng.IntN(3))*time.Hour
		want := fmt.Sprintf("model-extraction risk %.2f (%s): volume %.1fx baseline (%d in %s, %d in %s), pattern %.2f "+
			"(templated %.2f, sweep %.2f), diversity %.2f over %d prompts",
			f.score, lv, f.ratio, f.short, short, f.long, long, f.pattern,
			f.templated, f.sweep, f.diversity, f.samples)
		if got := findingText(lv, &f, short, long); got != want {
			t.Fatalf("findingText = %q\nwant            %q", got, want)
		}
	}
}
