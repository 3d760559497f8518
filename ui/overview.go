package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/store"
)

// windows are the overview's time ranges and their chart buckets.
var windows = map[string]struct {
	span, bucket time.Duration
	label        string
}{
	"1h":  {time.Hour, 5 * time.Minute, "last hour"},
	"24h": {24 * time.Hour, time.Hour, "last day"},
}

type overviewData struct {
	Window, WindowLabel string
	Windows             []string
	Totals              counts
	Truncated           bool
	Limit               int
	Chart               *chart
	Rules               []ruleCount
	TopKeys             []topEntry
	TopUsers            []topEntry
	TopIPs              []topEntry
	Upstreams           []upstreamRow
	Status              *Status
	Since               string
}

type counts struct {
	Requests, Blocked, WouldBlock, Flagged, Errors int
}

type ruleCount struct {
	Layer, Rule string
	Blocked     int
	WouldBlock  int
	Flagged     int
	// Series counts the rule's blocks, would-blocks and flags per chart
	// interval; Spark draws it (a small SVG bar chart).
	Series []int
	Spark  []rect
	Trend  string // the series as text, for screen readers
}

// spark draws a series as bars in a 120×20 box.
func spark(series []int) []rect {
	peak := 1
	for _, v := range series {
		peak = max(peak, v)
	}
	var out []rect
	w := 120 / max(1, len(series))
	for i, v := range series {
		if v == 0 {
			continue
		}
		h := max(1, v*20/peak)
		out = append(out, rect{X: i * w, Y: 20 - h, W: max(1, w-1), H: h})
	}
	return out
}

type topEntry struct {
	Name  string
	Count int
	Link  string // its audit search
}

type upstreamRow struct {
	Name          string
	Requests      int
	Errors        int
	P50, P95, Max string
}

// chart is a server-rendered SVG bar chart: per bucket, blocked,
// would-block and the other requests stacked.
type chart struct {
	W, H    int
	Bars    []bar
	YTicks  []tick
	XLabels []tick
	Max     int
}

type bar struct {
	X, W                     int
	Rects                    []rect
	Title                    string
	Start                    string
	Requests, Blocked, Would int
}

type rect struct {
	X, Y, W, H int
	Class      string
}

type tick struct {
	X, Y  int
	Label string
}

// overview aggregates the audit log of the window (the newest
// overviewMax records; the page says when there were more).
func (h *Handler) overview(w http.ResponseWriter, r *http.Request, x *reqCtx) {
	win := r.URL.Query().Get("window")
	if _, ok := windows[win]; !ok {
		win = "1h"
	}
	spec := windows[win]
	now := h.o.Now().UTC()
	q := url.Values{"since": {now.Add(-spec.span).Format(time.RFC3339Nano)}, "latest": {"true"}, "limit": {strconv.Itoa(overviewMax)}}
	if t := r.URL.Query().Get("tenant"); t != "" {
		q.Set("tenant", t)
	}
	recs, ok := list[*store.AuditRecord](h, w, r, x, "/admin/audit", q)
	if !ok {
		return
	}
	d := aggregate(recs, now, spec.span, spec.bucket)
	d.Window, d.WindowLabel, d.Windows = win, spec.label, []string{"1h", "24h"}
	d.Truncated, d.Limit = len(recs) >= overviewMax, overviewMax
	d.Since = now.Add(-spec.span).Format("2006-01-02T15:04")
	if h.o.Status != nil && x.who.Global {
		st := h.o.Status()
		d.Status = &st
	}
	h.render(w, r, http.StatusOK, "overview", &page{Title: "Overview", Nav: "overview", Who: x.who, Data: d})
}

// aggregate computes the overview from audit records (administrative
// actions and incident records are not model requests and are left out).
func aggregate(recs []*store.AuditRecord, now time.Time, span, bucket time.Duration) *overviewData {
	d := &overviewData{}
	n := int(span / bucket)
	start := now.Add(-span)
	type bk struct{ req, blocked, would int }
	buckets := make([]bk, n) // would: would-block but not blocked
	rules := map[[2]string]*ruleCount{}
	keys, users, ips := map[string]int{}, map[string]int{}, map[string]int{}
	lat := map[string][]time.Duration{}
	ups := map[string]*upstreamRow{}
	for _, rec := range recs {
		if strings.HasPrefix(rec.Route, "/admin/") || rec.Route == "incident" || isIncident(rec) {
			continue
		}
		d.Totals.Requests++
		would := false
		bi := int(rec.Time.Sub(start) / bucket)
		for _, o := range rec.Decisions {
			if o.Layer == "" {
				continue
			}
			k := [2]string{o.Layer, o.Rule}
			var c *ruleCount
			switch {
			case store.WouldBlock(o):
				would = true
				c = rc(rules, k, n)
				c.WouldBlock++
			case o.Action == "block" && !o.Monitor:
				c = rc(rules, k, n)
				c.Blocked++
			case o.Action == "flag":
				c = rc(rules, k, n)
				c.Flagged++
				d.Totals.Flagged++
			}
			if c != nil && bi >= 0 && bi < n {
				c.Series[bi]++
			}
		}
		if would {
			d.Totals.WouldBlock++
		}
		if rec.Blocked {
			d.Totals.Blocked++
			if rec.KeyID != "" {
				keys[rec.KeyID]++
			}
			if rec.Subject != "" {
				users[rec.Subject]++
			}
			if rec.ClientIP != "" {
				ips[rec.ClientIP]++
			}
		}
		if rec.Status >= 500 || rec.Error != "" {
			d.Totals.Errors++
		}
		if rec.Upstream != "" {
			u := ups[rec.Upstream]
			if u == nil {
				u = &upstreamRow{Name: rec.Upstream}
				ups[rec.Upstream] = u
			}
			u.Requests++
			if rec.Status >= 500 || rec.Error != "" {
				u.Errors++
			}
			lat[rec.Upstream] = append(lat[rec.Upstream], rec.Latency)
		}
		i := int(rec.Time.Sub(start) / bucket)
		if i >= 0 && i < n {
			buckets[i].req++
			if rec.Blocked {
				buckets[i].blocked++
			}
			if would && !rec.Blocked {
				buckets[i].would++
			}
		}
	}
	for _, rcnt := range rules {
		rcnt.Spark = spark(rcnt.Series)
		parts := make([]string, len(rcnt.Series))
		for i, v := range rcnt.Series {
			parts[i] = strconv.Itoa(v)
		}
		rcnt.Trend = strings.Join(parts, ", ")
		d.Rules = append(d.Rules, *rcnt)
	}
	sort.Slice(d.Rules, func(i, j int) bool {
		a, b := d.Rules[i], d.Rules[j]
		if ta, tb := a.Blocked+a.WouldBlock+a.Flagged, b.Blocked+b.WouldBlock+b.Flagged; ta != tb {
			return ta > tb
		}
		return a.Layer+a.Rule < b.Layer+b.Rule
	})
	if len(d.Rules) > 20 {
		d.Rules = d.Rules[:20]
	}
	d.TopKeys, d.TopUsers, d.TopIPs = top(keys, "key_id"), top(users, "subject"), top(ips, "")
	for name, u := range ups {
		ls := lat[name]
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		u.P50, u.P95, u.Max = ms(pct(ls, 0.5)), ms(pct(ls, 0.95)), ms(ls[len(ls)-1])
		d.Upstreams = append(d.Upstreams, *u)
	}
	sort.Slice(d.Upstreams, func(i, j int) bool { return d.Upstreams[i].Requests > d.Upstreams[j].Requests })
	// The chart.
	c := &chart{W: 720, H: 220}
	peak := 1
	for _, b := range buckets {
		peak = max(peak, b.req)
	}
	c.Max = niceMax(peak)
	const left, bottom, plotH = 44, 24, 180
	slot := (c.W - left - 8) / n
	for i, b := range buckets {
		x := left + i*slot + 2
		br := bar{X: x, W: slot - 4, Requests: b.req, Blocked: b.blocked, Would: b.would,
			Start: start.Add(time.Duration(i) * bucket).Format("15:04")}
		y := c.H - bottom
		other := max(0, b.req-b.blocked-b.would)
		for _, seg := range []struct {
			n     int
			class string
		}{{b.blocked, "bar-blocked"}, {b.would, "bar-would"}, {other, "bar-ok"}} {
			if seg.n <= 0 {
				continue
			}
			hgt := seg.n * plotH / c.Max
			if hgt < 1 {
				hgt = 1
			}
			y -= hgt
			br.Rects = append(br.Rects, rect{Y: y, H: hgt, Class: seg.class})
		}
		br.Title = fmt.Sprintf("%s: %d requests, %d blocked, %d would-block", br.Start, b.req, b.blocked, b.would)
		c.Bars = append(c.Bars, br)
		if n <= 12 || i%4 == 0 {
			c.XLabels = append(c.XLabels, tick{X: x + (slot-4)/2, Y: c.H - 6, Label: br.Start})
		}
	}
	for i := 0; i <= 4; i++ {
		v := c.Max * i / 4
		c.YTicks = append(c.YTicks, tick{X: left - 6, Y: c.H - bottom - v*plotH/c.Max, Label: strconv.Itoa(v)})
	}
	d.Chart = c
	return d
}

func isIncident(rec *store.AuditRecord) bool {
	return len(rec.Decisions) == 1 && rec.Decisions[0].Layer == "incident"
}

func rc(m map[[2]string]*ruleCount, k [2]string, buckets int) *ruleCount {
	c := m[k]
	if c == nil {
		c = &ruleCount{Layer: k[0], Rule: k[1], Series: make([]int, buckets)}
		m[k] = c
	}
	return c
}

// top returns the five largest counts, with an audit search query for
// each (field "" : none).
func top(m map[string]int, field string) []topEntry {
	var out []topEntry
	for k, v := range m {
		e := topEntry{Name: k, Count: v}
		if field != "" {
			e.Link = "/ui/audit?" + url.Values{field: {k}, "decision": {store.DecisionBlocked}}.Encode()
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// niceMax rounds a chart's top value up to 1, 2 or 5 times a power of ten
// (at least 4, so that the four ticks are whole numbers).
func niceMax(v int) int {
	if v <= 4 {
		return 4
	}
	p := 1
	for p*10 < v {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= v && (m*p)%4 == 0 {
			return m * p
		}
	}
	return ((v + 3) / 4) * 4
}
