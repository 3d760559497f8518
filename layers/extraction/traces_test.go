package extraction

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// This file generates the synthetic traces of the README deterministically
// (seeded) and measures detection and false-alarm rates:
//
//	go test -run TestSyntheticTraces -v ./layers/extraction/
//
// Each simulated identity sends a timed sequence of requests through a
// default-config layer with a fake clock; an identity is "caught" when the
// layer tightened or blocked it at least once, and "flagged" when it
// returned any action at all.

var (
	simIDs  = flag.Int("sim-ids", 60, "identities per trace kind in TestSyntheticTraces")
	simSeed = flag.Uint64("sim-seed", 7, "seed of TestSyntheticTraces")
)

// vocab is a topic vocabulary for generated prompts.
var vocab = strings.Fields(`
python golang rust javascript database index query latency cache kubernetes cluster pod container deploy
network packet router firewall certificate tls handshake password login session cookie token browser
recipe pasta garlic oven bread dough yeast sugar butter flour chocolate coffee tea breakfast dinner
garden tomato soil compost seeds water sunlight winter spring autumn summer rain snow weather forecast
history empire revolution treaty war peace king queen parliament election vote democracy constitution
physics energy momentum gravity quantum electron photon wave particle relativity orbit planet star galaxy
biology cell protein enzyme gene dna evolution species habitat forest ocean river mountain desert climate
finance budget invoice tax mortgage loan interest savings retirement stock bond market inflation salary
travel flight hotel passport visa luggage train station airport museum beach island city village map
music guitar piano chord melody rhythm song album concert band lyrics tempo jazz rock classical opera
health sleep exercise running muscle diet vitamin headache fever doctor appointment medicine therapy
career interview resume manager team meeting deadline project roadmap feedback promotion hiring remote
language grammar verb noun sentence essay paragraph poem novel author chapter story character plot
math equation integral derivative matrix vector probability statistics mean variance proof theorem
car engine brake tire battery charger electric fuel mileage repair insurance license parking traffic
dog cat puppy kitten training food vet walk leash toy bird fish aquarium hamster rabbit pet
`)

var humanOpeners = []string{
	"how do i", "can you explain", "what's the best way to", "why does my", "write a short", "help me with",
	"i need advice on", "is it true that", "what is the difference between", "give me tips for", "explain like i'm five:",
	"could you summarize", "what should i do about", "any ideas for", "compare", "tell me about", "fix this:",
	"is there a way to", "what happens if", "suggest a", "draft an email about", "translate this:", "how long does",
	"when should i", "which is better,", "how can i improve", "please review my", "what are common mistakes with",
}

var distillTasks = []string{
	"Write a detailed explanation of", "Solve step by step:", "Generate a story involving", "Summarize the key facts about",
	"Provide five examples of", "Explain the reasoning behind", "Write Python code that handles", "List pros and cons of",
	"Describe the history of", "Create a quiz question on", "Give a counterargument to", "Rewrite formally:",
	"Answer concisely:", "Compose a haiku about", "Draft a product description for", "Explain to an expert:",
	"What would happen if", "Critique the following claim:", "Outline a lesson plan on", "Debate both sides of",
}

func words(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = vocab[r.IntN(len(vocab))]
	}
	return strings.Join(w, " ")
}

// humanPrompt is a varied, human-like chat prompt.
func humanPrompt(r *rand.Rand) string {
	p := humanOpeners[r.IntN(len(humanOpeners))] + " " + words(r, 3+r.IntN(14))
	if r.IntN(3) == 0 {
		p += "? " + words(r, 2+r.IntN(8))
	}
	if r.IntN(4) == 0 {
		p += ". thanks!"
	}
	return p
}

// rephrase changes one or two words of p (a user asking again).
func rephrase(r *rand.Rand, p string) string {
	w := strings.Fields(p)
	for k := 0; k < 1+r.IntN(2); k++ {
		w[r.IntN(len(w))] = vocab[r.IntN(len(vocab))]
	}
	return strings.Join(w, " ")
}

// event is one request of a trace.
type event struct {
	at   time.Duration // since the identity's start
	text string        // last user message
	doc  string        // RAG context before the question (same message) when set
	sys  string        // system prompt when set
}

type trace struct {
	kind   string
	events []event
	limits map[string]int64 // the key's Identity.Limits
}

// humanGaps returns think times: exponential with the given mean, bursts
// of quick follow-ups, and long breaks between sessions.
func humanTimeline(r *rand.Rand, sessions int, meanGap time.Duration, perSession [2]int) []time.Duration {
	var out []time.Duration
	t := time.Duration(r.IntN(3600)) * time.Second
	for s := 0; s < sessions; s++ {
		n := perSession[0] + r.IntN(perSession[1]-perSession[0]+1)
		for i := 0; i < n; i++ {
			gap := time.Duration(r.ExpFloat64() * float64(meanGap))
			gap = max(gap, 4*time.Second) // typing and reading take a few seconds at least
			t += gap
			out = append(out, t)
		}
		t += time.Duration(20+r.IntN(180)) * time.Minute
	}
	return out
}

func machineTimeline(r *rand.Rand, rpm float64, d time.Duration) []time.Duration {
	var out []time.Duration
	mean := float64(time.Minute) / rpm
	for t := time.Duration(0); t < d; {
		t += time.Duration(mean * (0.5 + r.Float64())) // jittered machine rate
		out = append(out, t)
	}
	return out
}

func chatTrace(r *rand.Rand) trace {
	ts := humanTimeline(r, 2+r.IntN(5), time.Duration(25+r.IntN(60))*time.Second, [2]int{3, 30})
	tr := trace{kind: "chat"}
	repeater := r.IntN(4) == 0 // asks variants of the same questions
	base := humanPrompt(r)
	for _, at := range ts {
		p := humanPrompt(r)
		if repeater && r.IntN(2) == 0 {
			if r.IntN(3) == 0 {
				p = base
			} else {
				p = rephrase(r, base)
			}
		} else if repeater {
			base = p
		}
		tr.events = append(tr.events, event{at: at, text: p, sys: "You are a helpful assistant."})
	}
	return tr
}

// powerUserTrace is a heavy but human user: long sessions of quick
// follow-ups (about 2 a minute), some of them retries of the same prompt.
func powerUserTrace(r *rand.Rand) trace {
	ts := humanTimeline(r, 3, 25*time.Second, [2]int{40, 80})
	tr := trace{kind: "chat-power"}
	last := humanPrompt(r)
	for _, at := range ts {
		p := humanPrompt(r)
		if r.IntN(6) == 0 {
			p = rephrase(r, last)
		}
		last = p
		tr.events = append(tr.events, event{at: at, text: p})
	}
	return tr
}

func ragTrace(r *rand.Rand, doc string) trace {
	ts := humanTimeline(r, 2+r.IntN(4), time.Duration(20+r.IntN(40))*time.Second, [2]int{5, 40})
	tr := trace{kind: "rag"}
	inSystem := r.IntN(2) == 0
	faq := []string{"what is the refund policy", "how do i reset my password", "what are the opening hours", "how much does shipping cost"}
	for _, at := range ts {
		q := humanPrompt(r)
		if r.IntN(5) == 0 {
			q = faq[r.IntN(len(faq))]
		}
		ev := event{at: at}
		if inSystem {
			ev.sys = "Answer from these documents only:\n" + doc
			ev.text = q
		} else {
			ev.doc = doc
			ev.text = "Question: " + q
		}
		tr.events = append(tr.events, ev)
	}
	return tr
}

// ragServiceTrace is one application key relaying many end users'
// questions over the same documents at a steady 10-30 requests a minute.
// With limits it carries the baseline override an operator gives such keys.
func ragServiceTrace(r *rand.Rand, doc string, limits map[string]int64) trace {
	ts := machineTimeline(r, 10+20*r.Float64(), 2*time.Hour)
	tr := trace{kind: "rag service key", limits: limits}
	for _, at := range ts {
		tr.events = append(tr.events, event{at: at, doc: doc, text: "Question: " + humanPrompt(r)})
	}
	return tr
}

func templatedTrace(r *rand.Rand, rpm float64) trace {
	ts := machineTimeline(r, rpm, 2*time.Hour)
	tr := trace{kind: "templated"}
	variant := r.IntN(4)
	start := r.IntN(100000)
	for i, at := range ts {
		var p string
		switch variant {
		case 0:
			p = "Classify the sentiment of the following review as positive, negative or neutral: " + words(r, 8+r.IntN(30))
		case 1:
			p = "Describe product SKU-" + strconv.Itoa(start+i) + " in one sentence."
		case 2:
			p = "Translate '" + vocab[r.IntN(len(vocab))] + "' into " + []string{"French", "German", "Spanish"}[i%3] + "."
		case 3:
			p = "Question " + strconv.Itoa(i+1) + ": what is option " + string(rune('A'+i%26)) + " of the list?"
		}
		tr.events = append(tr.events, event{at: at, text: p})
	}
	return tr
}

func distillTrace(r *rand.Rand, rpm float64) trace {
	ts := machineTimeline(r, rpm, 2*time.Hour)
	tr := trace{kind: "distill"}
	for _, at := range ts {
		var p string
		switch r.IntN(3) {
		case 0:
			p = distillTasks[r.IntN(len(distillTasks))] + " " + words(r, 4+r.IntN(25))
		case 1:
			p = humanPrompt(r) // harvested real-user-like prompts
		default:
			p = words(r, 5+r.IntN(30)) // no template at all
		}
		tr.events = append(tr.events, event{at: at, text: p})
	}
	return tr
}

// outcome of one identity's trace.
type outcome struct {
	flagged, caught bool
	firstCatch      int // requests before the first tighten/block (-1: never)
	maxScore        float64
}

func runTrace(t testing.TB, l *Layer, clk *clock, id int, tr trace) outcome {
	t.Helper()
	o := outcome{firstCatch: -1}
	l.onScore = func(s float64) { o.maxScore = max(o.maxScore, s) }
	defer func() { l.onScore = nil }()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * 48 * time.Hour)
	for i, ev := range tr.events {
		clk.set(start.Add(ev.at))
		tx := &engine.Tx{ClientIP: "198.51.100.7", Identity: &engine.Identity{Tenant: "t", KeyID: "key-" + strconv.Itoa(id), Limits: tr.limits},
			Request: &conv.Conversation{Kind: conv.KindChat, Model: "m"}}
		if ev.sys != "" {
			tx.Request.Messages = append(tx.Request.Messages, conv.Message{Role: conv.RoleSystem,
				Segments: []conv.Segment{conv.NewSegment(ev.sys, conv.SourceSystem, "messages.0.content")}})
		}
		text := ev.text
		if ev.doc != "" {
			text = "Context:\n" + ev.doc + "\n\n" + ev.text
		}
		tx.Request.Messages = append(tx.Request.Messages, conv.Message{Role: conv.RoleUser,
			Segments: []conv.Segment{conv.NewSegment(text, conv.SourceUser, "messages.1.content")}})
		d, err := l.OnRequest(tx)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action == engine.Allow {
			continue
		}
		o.flagged = true
		if f := d.Findings[0]; f.Rule != Rule+"/"+ActionFlag {
			if !o.caught {
				o.firstCatch = i + 1
			}
			o.caught = true
		}
	}
	return o
}

// traceStats aggregates the outcomes of one trace kind.
type traceStats struct {
	kind                       string
	n, flagged, caught, events int
	catchAt                    []int
	scores                     []float64 // highest score of each identity
}

func (s traceStats) String() string {
	med := "-"
	if len(s.catchAt) > 0 {
		sortInts(s.catchAt)
		med = strconv.Itoa(s.catchAt[len(s.catchAt)/2])
	}
	sc := append([]float64(nil), s.scores...)
	for i := 1; i < len(sc); i++ {
		for j := i; j > 0 && sc[j] < sc[j-1]; j-- {
			sc[j], sc[j-1] = sc[j-1], sc[j]
		}
	}
	return fmt.Sprintf("| %-24s | %5d | %8d | %6.1f%% | %6.1f%% | %6s | %.2f / %.2f |", s.kind, s.n, s.events,
		100*float64(s.flagged)/float64(s.n), 100*float64(s.caught)/float64(s.n), med, sc[len(sc)/2], sc[len(sc)-1])
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// simulate runs n identities of each generator and returns the stats by kind.
func simulate(t testing.TB, n int, seed uint64) map[string]*traceStats {
	l, clk := newLayer(t, Defaults())
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	doc := strings.Repeat(words(r, 40)+".\n", 30) // ~8 KB shared RAG context
	gens := []struct {
		kind string
		gen  func() trace
	}{
		{"templated 10-60 rpm", func() trace { return templatedTrace(r, 10+50*r.Float64()) }},
		{"distill 20-120 rpm", func() trace { return distillTrace(r, 20+100*r.Float64()) }},
		{"templated 4-8 rpm", func() trace { return templatedTrace(r, 4+4*r.Float64()) }},
		{"distill 6-12 rpm", func() trace { return distillTrace(r, 6+6*r.Float64()) }},
		{"distill 3-5 rpm", func() trace { return distillTrace(r, 3+2*r.Float64()) }},
		{"chat", func() trace { return chatTrace(r) }},
		{"chat power user", func() trace { return powerUserTrace(r) }},
		{"rag", func() trace { return ragTrace(r, doc) }},
		{"rag service key", func() trace { return ragServiceTrace(r, doc, nil) }},
		{"rag service key+baseline", func() trace {
			return ragServiceTrace(r, doc, map[string]int64{LimitBaselineShort: 400, LimitBaselineLong: 2400})
		}},
	}
	out := map[string]*traceStats{}
	id := 0
	for _, g := range gens {
		s := &traceStats{kind: g.kind}
		out[g.kind] = s
		for range n {
			tr := g.gen()
			o := runTrace(t, l, clk, id, tr)
			id++
			s.n++
			s.events += len(tr.events)
			s.scores = append(s.scores, o.maxScore)
			if o.flagged {
				s.flagged++
			}
			if o.caught {
				s.caught++
				s.catchAt = append(s.catchAt, o.firstCatch)
			}
		}
	}
	return out
}

// TestSyntheticTraces measures detection (campaign identities tightened or
// blocked) and false alarms (normal identities flagged at all) and holds
// them to thresholds.
func TestSyntheticTraces(t *testing.T) {
	n := *simIDs
	if testing.Short() {
		n = min(n, 20)
	}
	st := simulate(t, n, *simSeed)
	t.Logf("| trace                    | ids   | requests | flagged | caught  | median requests to catch | highest score: median / max |")
	for _, k := range []string{"templated 10-60 rpm", "distill 20-120 rpm", "templated 4-8 rpm", "distill 6-12 rpm",
		"distill 3-5 rpm", "chat", "chat power user", "rag", "rag service key", "rag service key+baseline"} {
		t.Log(st[k].String())
	}
	rate := func(k string, caught bool) float64 {
		s := st[k]
		if caught {
			return float64(s.caught) / float64(s.n)
		}
		return float64(s.flagged) / float64(s.n)
	}
	for _, k := range []string{"templated 10-60 rpm", "distill 20-120 rpm", "distill 6-12 rpm"} {
		if r := rate(k, true); r < 0.98 {
			t.Errorf("%s: detection %.3f < 0.98", k, r)
		}
	}
	if r := rate("templated 4-8 rpm", true); r < 0.9 {
		t.Errorf("slow templated: detection %.3f < 0.9", r)
	}
	for _, k := range []string{"chat", "rag", "rag service key+baseline"} {
		if r := rate(k, false); r > 0.01 {
			t.Errorf("%s: false alarms %.3f > 0.01", k, r)
		}
	}
	if r := rate("chat power user", true); r > 0.02 {
		t.Errorf("power users tightened or blocked: %.3f > 0.02", r)
	}
	if math.IsNaN(rate("chat", false)) {
		t.Fatal("no chat identities")
	}
}
