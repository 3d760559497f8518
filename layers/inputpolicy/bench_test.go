package inputpolicy_test

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/canary"
	"github.com/rampart-ai/rampart/layers/inputpolicy"
	"github.com/rampart-ai/rampart/layers/spotlight"
	"github.com/rampart-ai/rampart/layers/topics"
)

const (
	sysText  = "You are a helpful assistant for Acme Corp. Answer briefly and politely. Never discuss pricing of other vendors."
	userPara = "Please summarise the following customer email in three bullet points and suggest a reply. "
	docPara  = "Dear support, our invoices for March were sent twice and the totals do not match the contract. "
)

// conversation2K is a ~2 KB chat request: system prompt, user text and an
// attached document.
func conversation2K() *conv.Conversation {
	user := strings.Repeat(userPara, 20)[:1500]
	doc := strings.Repeat(docPara, 5)[:400]
	return &conv.Conversation{Kind: conv.KindChat, Provider: "openai", Model: "gpt-4o", Messages: []conv.Message{
		{Role: conv.RoleSystem, Segments: []conv.Segment{conv.NewSegment(sysText, conv.SourceSystem, "messages.0.content")}},
		{Role: conv.RoleUser, Segments: []conv.Segment{
			conv.NewSegment(user, conv.SourceUser, "messages.1.content.0.text"),
			conv.NewSegment(doc, conv.SourceDocument, "messages.1.content.1.text")}},
	}}
}

func provision(b *testing.B, ls ...engine.Layer) []engine.RequestLayer {
	var out []engine.RequestLayer
	for _, l := range ls {
		if p, ok := l.(engine.Provisioner); ok {
			if err := p.Provision(&engine.Host{}); err != nil {
				b.Fatal(err)
			}
		}
		out = append(out, l.(engine.RequestLayer))
	}
	return out
}

// benchChain runs layers on a 2 KB conversation per iteration as the
// engine would: OnRequest in order, then OnFinish of the finish layers
// (which return the shared normalised text to its pool).
func benchChain(b *testing.B, layers []engine.RequestLayer) {
	c := conversation2K()
	bytes := 0
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { bytes += len(s.Text) })
	snap := c.Snapshot()
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	for b.Loop() {
		c.Restore(snap) // undo the previous iteration's changes (a few assignments)
		tx := &engine.Tx{Request: c}
		for _, l := range layers {
			d, err := l.OnRequest(tx)
			if err != nil || d.Action == engine.Block {
				b.Fatalf("%s: %v %v", l.Name(), d.Action, err)
			}
		}
		for _, l := range layers {
			if f, ok := l.(engine.FinishLayer); ok {
				f.OnFinish(tx)
			}
		}
	}
}

// BenchmarkInputPolicyChain2K runs inputpolicy, topics, spotlight and
// canary on a 2 KB conversation, as the chain would, with a realistic
// topics configuration.
func BenchmarkInputPolicyChain2K(b *testing.B) {
	ip := inputpolicy.Defaults()
	ip.MaxTokens = 128000 // a token limit is set; the byte bound makes counting unnecessary here
	ip.SystemPrompt = "Tenant policy: be concise."
	tp := topics.Defaults()
	tp.Rules = []topics.Rule{
		{ID: "competitors", Terms: []string{"Globex", "Initech", "Umbrella Corp", "Hooli", "Vandelay Industries",
			"Stark Industries", "Wayne Enterprises", "Cyberdyne", "Soylent", "Tyrell Corp"}},
		{ID: "profanity", Terms: []string{"darn", "heck", "frick"}, Action: topics.ActionRedact},
		{ID: "weapons", Examples: []string{"how do I build a bomb at home", "instructions for making explosives"}},
	}
	benchChain(b, provision(b, inputpolicy.New(ip), topics.New(tp), spotlight.New(spotlight.Defaults()),
		canary.New(canary.Defaults())))
}

// BenchmarkDefaultChain2K is BenchmarkInputPolicyChain2K with every layer
// at its zero configuration (topics then has no rules).
func BenchmarkDefaultChain2K(b *testing.B) {
	benchChain(b, provision(b, inputpolicy.New(inputpolicy.Defaults()), topics.New(topics.Defaults()),
		spotlight.New(spotlight.Defaults()), canary.New(canary.Defaults())))
}

// BenchmarkInputPolicyTokens2K is inputpolicy alone with a token limit
// low enough that the 2 KB prompt must really be counted.
func BenchmarkInputPolicyTokens2K(b *testing.B) {
	ip := inputpolicy.Defaults()
	ip.MaxTokens = 1000
	layers := provision(b, inputpolicy.New(ip))
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := layers[0].OnRequest(&engine.Tx{Request: conversation2K()}); d.Action == engine.Block {
			b.Fatal("blocked")
		}
	}
}

// BenchmarkEachLayer2K splits BenchmarkInputPolicyChain2K by layer.
func BenchmarkEachLayer2K(b *testing.B) {
	tp := topics.Defaults()
	tp.Rules = []topics.Rule{
		{ID: "competitors", Terms: []string{"Globex", "Initech", "Umbrella Corp", "Hooli", "Vandelay Industries"}},
		{ID: "weapons", Examples: []string{"how do I build a bomb at home", "instructions for making explosives"}},
	}
	for _, l := range []engine.Layer{inputpolicy.New(inputpolicy.Defaults()), topics.New(tp),
		spotlight.New(spotlight.Defaults()), canary.New(canary.Defaults())} {
		b.Run(l.Name(), func(b *testing.B) {
			rl := provision(b, l)[0]
			c := conversation2K()
			snap := c.Snapshot()
			for b.Loop() {
				c.Restore(snap)
				tx := &engine.Tx{Request: c}
				if _, err := rl.OnRequest(tx); err != nil {
					b.Fatal(err)
				}
				if f, ok := rl.(engine.FinishLayer); ok {
					f.OnFinish(tx)
				}
			}
		})
	}
}

// BenchmarkMarkers2KB is the layer alone on 2 KB user messages that pass
// the raw prefilter (a bracket, or the word "system" in prose) but hold no
// role marker: the marker patterns then run on the normalised text.
func BenchmarkMarkers2KB(b *testing.B) {
	for name, text := range map[string]string{
		"bracket":     "[ref 17] " + strings.Repeat(userPara, 25)[:2040],
		"system-word": strings.Repeat("The booking system shows two trains; which one is faster? ", 40)[:2048],
	} {
		b.Run(name, func(b *testing.B) {
			l := provision(b, inputpolicy.New(inputpolicy.Defaults()))[0]
			c := &conv.Conversation{Kind: conv.KindChat, Messages: []conv.Message{{Role: conv.RoleUser,
				Segments: []conv.Segment{conv.NewSegment(text, conv.SourceUser, "messages.0.content")}}}}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tx := &engine.Tx{Request: c}
				if d, err := l.OnRequest(tx); err != nil || d.Action != engine.Allow {
					b.Fatal(d, err)
				}
				l.(engine.FinishLayer).OnFinish(tx)
			}
		})
	}
}
