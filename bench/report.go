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
	fmt.Fprintln(w, "| mode | conc | target | RPS | p50 | p99 | TTFB p50 | +p50 vs direct | +p50 vs bare proxy | +TTFB vs bare proxy | RPS vs bare proxy | errors | truncated |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	type key struct {
		stream bool
		conc   int
	}
	by := map[key]map[string]Result{}
	var order []key
	for _, r := range results {
		k := key{r.Scenario.Stream, r.Scenario.Concurrency}
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
			if r.Scenario.Stream != k.stream || r.Scenario.Concurrency != k.conc {
				continue
			}
			mode := "whole"
			if k.stream {
				mode = "stream"
			}
			fmt.Fprintf(w, "| %s | %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %d | %d |\n",
				mode, k.conc, r.Target, r.RPS, us(r.P50), us(r.P99), us(r.TTFB50),
				delta(r.P50, direct.P50, r.Target == "direct"),
				delta(r.P50, bare.P50, !isRampart(r.Target)),
				delta(r.TTFB50, bare.TTFB50, !isRampart(r.Target)),
				ratio(r.RPS, bare.RPS, !isRampart(r.Target)),
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
