package ui

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"
)

func TestHighlight(t *testing.T) {
	for _, tc := range []struct {
		text  string
		spans []span
		want  string // marked runs in brackets
	}{
		{"hello world", nil, "hello world"},
		{"hello world", []span{{6, 11, "a"}}, "hello [world]"},
		{"héllo wörld", []span{{1, 2, "a"}, {7, 8, "b"}}, "h[é]llo w[ö]rld"},
		{"abcdef", []span{{1, 3, "a"}, {2, 5, "b"}}, "a[b][c][de]f"}, // overlaps split by label
		{"abc", []span{{-5, 99, "a"}}, "[abc]"},                      // clamped
		{"abc", []span{{2, 1, "a"}}, "abc"},                          // empty
	} {
		var b strings.Builder
		for _, p := range highlight(tc.text, tc.spans) {
			if p.Mark {
				b.WriteString("[" + p.Text + "]")
			} else {
				b.WriteString(p.Text)
			}
		}
		if b.String() != tc.want {
			t.Errorf("highlight(%q, %v) = %q, want %q", tc.text, tc.spans, b.String(), tc.want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	m, err := parseLimits(" rpm=60, tpm = 1000;budget_usd_day=-1\n")
	if err != nil || m["rpm"] != 60 || m["tpm"] != 1000 || m["budget_usd_day"] != -1 || len(m) != 3 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"rpm", "rpm=x", "=5", "rpm=99999999999999999999"} {
		if _, err := parseLimits(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The console's parsers of untrusted input: finding spans over any text,
// limits typed in a form, a token's payload, a time field.
func FuzzParsers(f *testing.F) {
	f.Add("hello world", 6, 11, "rpm=60, tpm=1000", "a.eyJub25jZSI6IngiLCJleHAiOjF9.c", "2026-12-07T10:00")
	f.Add("héllo", -3, 99, "x=", "..", "")
	f.Add("", 0, 0, "=,=", "a.!!!.b", "2026-13-45")
	f.Fuzz(func(t *testing.T, text string, start, end int, limits, token, when string) {
		parts := highlight(text, []span{{start, end, "x"}, {end, start + 3, "y"}})
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		if utf8.ValidString(text) && b.String() != text {
			t.Fatalf("highlight lost text: %q -> %q", text, b.String())
		}
		_, _ = parseLimits(limits)
		_, _ = jwtClaims(token)
		_, _ = parseWhen(when)
	})
}

// The overview's aggregation: totals, per-rule counts with their series
// per interval, top blocked keys, upstream figures; administrative and
// incident records are not requests.
func TestAggregate(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	out := func(layer, action, rule string, monitor bool) engine.Outcome {
		return engine.Outcome{Layer: layer, Action: action, Rule: rule, Monitor: monitor}
	}
	recs := []*store.AuditRecord{
		{Time: at(58 * time.Minute), Route: "/v1/chat/completions", Upstream: "oa", Latency: 10 * time.Millisecond, Status: 200,
			Decisions: []engine.Outcome{out("injection", "block", "ignore", true)}},
		{Time: at(2 * time.Minute), Route: "/v1/chat/completions", KeyID: "key_bad", Blocked: true, Status: 403,
			Decisions: []engine.Outcome{out("blocklist", "block", "blk_1", false)}},
		{Time: at(1 * time.Minute), Route: "/v1/chat/completions", KeyID: "key_bad", Blocked: true, Status: 403,
			Decisions: []engine.Outcome{out("blocklist", "block", "blk_1", false)}},
		{Time: at(1 * time.Minute), Route: "/v1/chat/completions", Upstream: "oa", Latency: 30 * time.Millisecond, Status: 502, Error: "upstream",
			Decisions: []engine.Outcome{out("pii", "flag", "email", false)}},
		{Time: at(1 * time.Minute), Route: "/admin/keys", Decisions: []engine.Outcome{out("admin", "allow", "key_x", false)}},
		{Time: at(1 * time.Minute), Route: "incident", Decisions: []engine.Outcome{out("incident", "block", "key-block", false)}},
	}
	d := aggregate(recs, now, time.Hour, 5*time.Minute)
	if d.Totals != (counts{Requests: 4, Blocked: 2, WouldBlock: 1, Flagged: 1, Errors: 1}) {
		t.Errorf("totals %+v", d.Totals)
	}
	series := map[string]string{}
	for _, r := range d.Rules {
		series[r.Layer+"/"+r.Rule] = r.Trend
	}
	if series["blocklist/blk_1"] != "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2" || series["injection/ignore"] != "1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0" ||
		series["pii/email"] != "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1" || len(series) != 3 {
		t.Errorf("per-rule series %v", series)
	}
	if len(d.TopKeys) != 1 || d.TopKeys[0].Name != "key_bad" || d.TopKeys[0].Count != 2 {
		t.Errorf("top keys %+v", d.TopKeys)
	}
	if len(d.Upstreams) != 1 || d.Upstreams[0].Requests != 2 || d.Upstreams[0].Errors != 1 || d.Upstreams[0].Max != "30.0 ms" {
		t.Errorf("upstreams %+v", d.Upstreams)
	}
	if len(d.Chart.Bars) != 12 || d.Chart.Bars[11].Blocked != 2 || d.Chart.Bars[0].Would != 1 {
		t.Errorf("chart %+v", d.Chart.Bars)
	}
}
