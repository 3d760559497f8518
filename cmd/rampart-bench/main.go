// Command rampart-bench is rampart's load tool. On loopback, in one run, it
// measures a mock upstream called directly, behind a bare
// httputil.ReverseProxy, and behind rampart with its default policy, at the
// given concurrencies, streamed and not, and prints a Markdown table of
// throughput and added latency. rampart runs three times: with every layer
// off (the spine: engine, adapters, audit, metrics), with only the output
// guard, and with the embedded default policy. See docs/PERFORMANCE.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/bench"
)

func main() {
	dur := flag.Duration("duration", 5*time.Second, "measurement time per target and scenario")
	reqs := flag.Int("requests", 200000, "maximum requests per target and scenario")
	concs := flag.String("concurrency", "1,32", "comma-separated client concurrencies")
	events := flag.Int("stream-events", 20, "content events per streamed answer")
	gap := flag.Duration("stream-gap", 0, "pause between streamed events, as a model streams tokens (0: one burst)")
	digits := flag.Bool("digit-tokens", false, "stream tokens that all carry a digit (worst case for output scanning) instead of English prose")
	modes := flag.String("modes", "whole,stream", "comma-separated: whole, stream")
	targetsFlag := flag.String("targets", "", "comma-separated subset of: direct, bare-proxy, rampart-spine, rampart-output, rampart-default (default all)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (all targets) to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rampart-bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "rampart-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*dur, *reqs, *concs, *events, *gap, *digits, *modes, *targetsFlag); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "rampart-bench:", err)
		os.Exit(1)
	}
}

func run(dur time.Duration, reqs int, concs string, events int, gap time.Duration, digits bool, modes, only string) error {
	mock, err := bench.Serve(&bench.MockUpstream{StreamEvents: events, DigitTokens: digits, Gap: gap})
	if err != nil {
		return err
	}
	defer mock.Close()
	bp, err := bench.BareProxy(strings.TrimSuffix(mock.URL, "/v1"))
	if err != nil {
		return err
	}
	bare, err := bench.Serve(bp)
	if err != nil {
		return err
	}
	defer bare.Close()
	dir, err := os.MkdirTemp("", "rampart-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	targets := []bench.Target{
		{Name: "direct", BaseURL: mock.URL},
		{Name: "bare-proxy", BaseURL: bare.URL},
	}
	for _, p := range []bench.Policy{bench.PolicySpine, bench.PolicyOutput, bench.PolicyDefault} {
		pdir := filepath.Join(dir, string(p))
		rp, hdr, closeGW, err := bench.Rampart(mock.URL, pdir, p)
		if err != nil {
			return fmt.Errorf("rampart (%s policy): %w", p, err)
		}
		defer closeGW()
		defer rp.Close()
		targets = append(targets, bench.Target{Name: "rampart-" + string(p), BaseURL: rp.URL, Header: hdr})
	}
	if only != "" {
		keep := map[string]bool{}
		for _, n := range strings.Split(only, ",") {
			keep[strings.TrimSpace(n)] = true
		}
		var sel []bench.Target
		for _, t := range targets {
			if keep[t.Name] {
				sel = append(sel, t)
			}
		}
		if len(sel) == 0 {
			return fmt.Errorf("-targets %q selects nothing", only)
		}
		targets = sel
	}
	var results []bench.Result
	ctx := context.Background()
	for _, mode := range strings.Split(modes, ",") {
		for _, cs := range strings.Split(concs, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(cs))
			if err != nil || c < 1 {
				return fmt.Errorf("bad concurrency %q", cs)
			}
			sc := bench.Scenario{Stream: strings.TrimSpace(mode) == "stream", Concurrency: c, Duration: dur, Requests: reqs}
			for _, t := range targets {
				cl := bench.Client(c)
				// Warm up connections and caches, then measure.
				bench.Run(ctx, cl, t, bench.Scenario{Stream: sc.Stream, Concurrency: c, Duration: dur / 10, Requests: 200 * c})
				r := bench.Run(ctx, cl, t, sc)
				fmt.Fprintf(os.Stderr, "%-6s c=%-3d %-10s %8.0f rps p50=%v p99=%v errors=%d truncated=%d %s\n",
					mode, c, t.Name, r.RPS, r.P50, r.P99, r.Errors, r.Truncated, r.FirstError)
				results = append(results, r)
			}
		}
	}
	bench.Table(os.Stdout, results)
	return nil
}
