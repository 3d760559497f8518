package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Table prints results as a Markdown table, grouped by scenario, with the
// latency each target adds over the direct call and over the bare proxy,
// and rampart's throughput relative to the bare proxy.
func Table(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| mode | conc | prompt | target | RPS | p50 | p99 | TTFB p50 | +p50 vs direct | +p50 vs bare proxy | +TTFB vs bare proxy | RPS vs bare proxy | server CPU/req | CPU/req vs bare proxy | errors | truncated |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	type key struct {
		stream bool
		conc   int
		prompt int
	}
	by := map[key]map[string]Result{}
	var order []key
	for _, r := range results {
		k := key{r.Scenario.Stream, r.Scenario.Concurrency, promptOf(r.Scenario)}
		if by[k] == nil {
			by[k] = map[string]Result{}
			order = append(order, k)
		}
		by[k][r.Target] = r
	}
	for _, k := range order {
		group := by[k]
		direct, bare := group["direct"], group["bare-proxy"]
		for _, r := range results {
			if r.Scenario.Stream != k.stream || r.Scenario.Concurrency != k.conc || promptOf(r.Scenario) != k.prompt {
				continue
			}
			mode := "whole"
			if k.stream {
				mode = "stream"
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d |\n",
				mode, k.conc, kb(k.prompt), r.Target, r.RPS, us(r.P50), us(r.P99), us(r.TTFB50),
				delta(r.P50, direct.P50, r.Target == "direct"),
				delta(r.P50, bare.P50, !isRampart(r.Target)),
				delta(r.TTFB50, bare.TTFB50, !isRampart(r.Target)),
				ratio(r.RPS, bare.RPS, !isRampart(r.Target)),
				cpu(r), ratio(float64(r.CPUPerRequest()), float64(bare.CPUPerRequest()), !isRampart(r.Target) || bare.CPU == 0),
				r.Errors, r.Truncated)
		}
	}
}

func isRampart(name string) bool { return strings.HasPrefix(name, "rampart") }

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func delta(a, b time.Duration, skip bool) string {
	if skip || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%+.0f µs", float64(a-b)/float64(time.Microsecond))
}

func ratio(a, b float64, skip bool) string {
	if skip || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

func promptOf(sc Scenario) int {
	if sc.PromptBytes <= 0 {
		return DefaultPrompt
	}
	return sc.PromptBytes
}

func kb(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KB", n/1024)
	}
	return fmt.Sprintf("%.1f KB", float64(n)/1024)
}

// SizeTable prints, for each rampart target measured at several prompt
// sizes (same mode and concurrency), the p50 it adds over the bare proxy
// and the added cost per KB of prompt: the slope from the smallest prompt
// to each larger one.
func SizeTable(w io.Writer, results []Result) {
	type key struct {
		stream bool
		conc   int
	}
	bare := map[key]map[int]time.Duration{}
	for _, r := range results {
		k := key{r.Scenario.Stream, r.Scenario.Concurrency}
		if r.Target == "bare-proxy" {
			if bare[k] == nil {
				bare[k] = map[int]time.Duration{}
			}
			bare[k][promptOf(r.Scenario)] = r.P50
		}
	}
	fmt.Fprintln(w, "| mode | conc | target | prompt | p50 | bare proxy p50 | added p50 | added per KB since the smallest prompt |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	first := map[string]struct {
		size  int
		added time.Duration
	}{}
	for _, r := range results {
		if !isRampart(r.Target) {
			continue
		}
		k := key{r.Scenario.Stream, r.Scenario.Concurrency}
		size := promptOf(r.Scenario)
		b, ok := bare[k][size]
		if !ok {
			continue
		}
		added := r.P50 - b
		mode := "whole"
		if k.stream {
			mode = "stream"
		}
		id := fmt.Sprint(mode, k.conc, r.Target)
		perKB := "–"
		if f, ok := first[id]; !ok {
			first[id] = struct {
				size  int
				added time.Duration
			}{size, added}
		} else if size > f.size {
			perKB = fmt.Sprintf("%.1f µs", float64(added-f.added)/float64(time.Microsecond)/(float64(size-f.size)/1024))
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %+.0f µs | %s |\n", mode, k.conc, r.Target, kb(size), us(r.P50), us(b),
			float64(added)/float64(time.Microsecond), perKB)
	}
}

func cpu(r Result) string {
	if r.CPU == 0 {
		return "–"
	}
	return us(r.CPUPerRequest())
}
