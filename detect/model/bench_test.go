package model

import (
	"strings"
	"testing"
)

// traceText is ~2 KB of ordinary prose, not repeated.
const traceText = "i am writing a report for my manager about our quarterly results. could you help me restructure the following notes into a clear summary with headings? " +
	"the quarterly report covers revenue, costs and headcount across all regions. sales in the northern region grew by four percent while costs stayed flat. " +
	"the board approved the budget for the next fiscal year after a short discussion. hiring will continue at a moderate pace, focused on engineering and support roles. " +
	"our largest customer renewed their contract for three more years, although they asked for a discount on the premium tier. marketing spent less than planned because two campaigns were postponed to the spring. " +
	"the warehouse in rotterdam finally moved to the new inventory system, which cut picking errors by half according to the operations team. " +
	"customer support tickets rose slightly after the pricing change, mostly questions about invoices and tax. we expect this to settle within a month. " +
	"on the product side, the mobile app shipped offline mode and a redesigned settings page; reviews mention faster start-up and fewer crashes. " +
	"risks: a supplier in taiwan warned about longer lead times for sensors, and the currency swing against the yen may hurt margins in japan. " +
	"open questions for the leadership meeting: should we delay the office move, how much budget to keep for the autumn trade show, and whether to hire a second data analyst. " +
	"please keep the tone neutral, use short paragraphs, and add a table comparing this quarter with the previous one for revenue, gross margin, operating costs and headcount. " +
	"if anything in the notes is ambiguous, list it at the end instead of guessing. thank you!"

func benchTrace(b *testing.B, text string, dom uint32) {
	m, err := Embedded()
	if err != nil {
		b.Fatal(err)
	}
	var bounds []int
	for i := 0; i < len(text); i++ {
		if text[i] == '.' || text[i] == '?' || text[i] == '!' || text[i] == ';' {
			bounds = append(bounds, i+1)
		}
	}
	bounds = append(append([]int{0}, bounds...), len(text))
	var tr Trace
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Trace(text, dom, bounds, &tr)
	}
}

func BenchmarkTrace2KB(b *testing.B)          { benchTrace(b, traceText, 0) }
func BenchmarkTrace2KBUntrusted(b *testing.B) { benchTrace(b, traceText, DomainUntrusted) }
func BenchmarkTrace16KB(b *testing.B)         { benchTrace(b, strings.Repeat(traceText+" ", 8), 0) }

func BenchmarkFeaturize2KB(b *testing.B) {
	b.SetBytes(int64(len(traceText)))
	for i := 0; i < b.N; i++ {
		z := tokenizer{text: traceText}
		for {
			if _, ok := z.next(); !ok {
				break
			}
		}
	}
}
