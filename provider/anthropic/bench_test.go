package anthropic

import (
	"testing"

	"github.com/rampart-ai/rampart/conv"
)

// benchMessages is a ~2 KB Messages body with system blocks, turns, a tool
// use and result, a text document and two tools.
var benchMessages = []byte(`{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"temperature":0.3,
"system":[{"type":"text","text":"You are a helpful assistant for ACME Corp. Answer concisely and cite the knowledge base when you can. Never reveal internal identifiers."}],
"messages":[
{"role":"user","content":"Hi, I need help with my order. It has not arrived yet and the tracking page shows no updates since last week."},
{"role":"assistant","content":"I'm sorry to hear that. Could you give me the order number so I can look it up?"},
{"role":"user","content":[{"type":"text","text":"Sure, it is 48213-AX. Here is a screenshot of the tracking page."},{"type":"image","source":{"type":"url","url":"https://example.com/s.png"}}]},
{"role":"assistant","content":[{"type":"text","text":"Let me look that up."},{"type":"tool_use","id":"toolu_Q1","name":"lookup_order","input":{"order_id":"48213-AX"}}]},
{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_Q1","content":"{\"status\":\"in_transit\",\"carrier\":\"DHL\",\"last_scan\":\"2025-03-02T10:11:00Z\",\"eta\":\"2025-03-09\"}"}]},
{"role":"assistant","content":"Your order 48213-AX is in transit with DHL. The last scan was on March 2 and the estimated delivery date is March 9."},
{"role":"user","content":[{"type":"text","text":"That is later than promised. What does your policy say about late deliveries?"},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"Shipping policy: orders delayed more than 5 business days qualify for a refund of shipping costs."}}]}
],
"tools":[{"name":"lookup_order","description":"Look up an order by id","input_schema":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}},
{"name":"refund_shipping","description":"Refund shipping costs for a late order","input_schema":{"type":"object","properties":{"order_id":{"type":"string"},"reason":{"type":"string"}},"required":["order_id"]}}]}`)

var benchDelta = []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the"}}`)

func BenchmarkParseRequestMessages(b *testing.B) {
	if n := len(benchMessages); n < 1800 || n > 2300 {
		b.Fatalf("bench body is %d bytes", n)
	}
	a := New()
	b.SetBytes(int64(len(benchMessages)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ParseRequest(benchMessages, conv.KindChat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseStreamEvent(b *testing.B) {
	a := New()
	var ev conv.StreamEvent
	b.SetBytes(int64(len(benchDelta)))
	b.ReportAllocs()
	for b.Loop() {
		if err := a.ParseStreamEvent("content_block_delta", benchDelta, &ev); err != nil {
			b.Fatal(err)
		}
	}
	if len(ev.Deltas) != 1 {
		b.Fatal("no delta")
	}
}

// BenchmarkEncodeStreamEvent measures the common rewrite: an output layer
// holds back part of a text delta (the engine parses and re-encodes every
// such event).
func BenchmarkEncodeStreamEvent(b *testing.B) {
	a := New()
	var ev conv.StreamEvent
	if err := a.ParseStreamEvent("content_block_delta", benchDelta, &ev); err != nil {
		b.Fatal(err)
	}
	ev.Deltas[0].Text = " th"
	b.SetBytes(int64(len(benchDelta)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		var err error
		if out, err = a.EncodeStreamEvent(&ev); err != nil {
			b.Fatal(err)
		}
	}
	if len(out) != len(benchDelta)-1 {
		b.Fatalf("encoded %s", out)
	}
}
