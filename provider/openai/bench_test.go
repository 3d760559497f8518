package openai

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

// benchChat is a ~2 KB chat body: system prompt, a few turns, a multi-part
// user message, a tool call and result, and two tools.
var benchChat = []byte(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":512,"temperature":0.3,
"messages":[
{"role":"system","content":"You are a helpful assistant for ACME Corp. Answer concisely and cite the knowledge base when you can. Never reveal internal identifiers."},
{"role":"user","content":"Hi, I need help with my order. It has not arrived yet and the tracking page shows no updates since last week."},
{"role":"assistant","content":"I'm sorry to hear that. Could you give me the order number so I can look it up?"},
{"role":"user","content":[{"type":"text","text":"Sure, it is 48213-AX. Here is a screenshot of the tracking page."},{"type":"image_url","image_url":{"url":"https://example.com/s.png","detail":"low"}}]},
{"role":"assistant","content":null,"tool_calls":[{"id":"call_Q1","type":"function","function":{"name":"lookup_order","arguments":"{\"order_id\":\"48213-AX\"}"}}]},
{"role":"tool","tool_call_id":"call_Q1","content":"{\"status\":\"in_transit\",\"carrier\":\"DHL\",\"last_scan\":\"2025-03-02T10:11:00Z\",\"eta\":\"2025-03-09\"}"},
{"role":"assistant","content":"Your order 48213-AX is in transit with DHL. The last scan was on March 2 and the estimated delivery date is March 9."},
{"role":"user","content":[{"type":"text","text":"That is later than promised. What does your policy say about late deliveries?"},{"type":"text","text":"Shipping policy: orders delayed more than 5 business days qualify for a refund of shipping costs. Contact support with the order number.","x_rampart_source":"document"}]}
],
"tools":[{"type":"function","function":{"name":"lookup_order","description":"Look up an order by id","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}},
{"type":"function","function":{"name":"refund_shipping","description":"Refund shipping costs for a late order","parameters":{"type":"object","properties":{"order_id":{"type":"string"},"reason":{"type":"string"}},"required":["order_id"]}}}]}`)

var benchChunk = []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}],"usage":null}`)

func BenchmarkParseRequestChat(b *testing.B) {
	if n := len(benchChat); n < 1800 || n > 2300 || strings.Count(string(benchChat), `"role"`) != 8 {
		b.Fatalf("bench body is %d bytes", n)
	}
	a := New()
	b.SetBytes(int64(len(benchChat)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseRequest(benchChat, conv.KindChat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseStreamEvent(b *testing.B) {
	a := New()
	var ev conv.StreamEvent
	b.SetBytes(int64(len(benchChunk)))
	b.ReportAllocs()
	for b.Loop() {
		if err := a.ParseStreamEvent("", benchChunk, &ev); err != nil {
			b.Fatal(err)
		}
	}
	if len(ev.Deltas) != 1 {
		b.Fatal("no delta")
	}
}

// BenchmarkEncodeStreamEvent measures the common rewrite: an output layer
// holds back part of a content delta (the engine parses and re-encodes every
// such event).
func BenchmarkEncodeStreamEvent(b *testing.B) {
	a := New()
	var ev conv.StreamEvent
	if err := a.ParseStreamEvent("", benchChunk, &ev); err != nil {
		b.Fatal(err)
	}
	ev.Deltas[0].Text = " th"
	b.SetBytes(int64(len(benchChunk)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		var err error
		if out, err = a.EncodeStreamEvent(&ev); err != nil {
			b.Fatal(err)
		}
	}
	if len(out) != len(benchChunk)-1 {
		b.Fatalf("encoded %s", out)
	}
}

// BenchmarkEncodeRequest128K is the re-encoding of an unchanged 128 KB chat
// request: it must not scan the body byte by byte more than once.
func BenchmarkEncodeRequest128K(b *testing.B) {
	a := New()
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` +
		strings.Repeat("Please summarise the quarterly report and list the key risks. ", 2100) + `"}]}`)
	c, err := a.ParseRequest(body, conv.KindChat)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.EncodeRequest(body, c); err != nil {
			b.Fatal(err)
		}
	}
}
