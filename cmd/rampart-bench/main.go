// Command rampart-bench is rampart's load tool. On loopback, in one run, it
// measures a mock upstream called directly, behind a bare
// httputil.ReverseProxy, and behind rampart with its default policy, at the
// given concurrencies, streamed and not, and prints a Markdown table of
// throughput and added latency. rampart runs three times: with every layer
// off (the spine: engine, adapters, audit, metrics), with only the output
// guard, and with the embedded default policy. See docs/PERFORMANCE.md.
//
// By default the servers (mock upstream, bare proxy, the rampart gateways)
// run in a child process of their own and the load generator in this one,
// as a gateway and its clients do in production; -in-process runs both in
// one process, where the generator and the servers compete for the Go
// scheduler's processors.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/bench"
)

type flags struct {
	dur        time.Duration
	reqs       int
	concs      string
	events     int
	gap        time.Duration
	digits     bool
	modes      string
	only       string
	cpuprofile string
	inProcess  bool
	serve      bool
}

func main() {
	var f flags
	flag.DurationVar(&f.dur, "duration", 5*time.Second, "measurement time per target and scenario")
	flag.IntVar(&f.reqs, "requests", 200000, "maximum requests per target and scenario")
	flag.StringVar(&f.concs, "concurrency", "1,32", "comma-separated client concurrencies")
	flag.IntVar(&f.events, "stream-events", 20, "content events per streamed answer")
	flag.DurationVar(&f.gap, "stream-gap", 0, "pause between streamed events, as a model streams tokens (0: one burst)")
	flag.BoolVar(&f.digits, "digit-tokens", false, "stream tokens that all carry a digit (worst case for output scanning) instead of English prose")
	flag.StringVar(&f.modes, "modes", "whole,stream", "comma-separated: whole, stream")
	flag.StringVar(&f.only, "targets", "", "comma-separated subset of: direct, bare-proxy, rampart-spine, rampart-output, rampart-default (default all)")
	flag.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the servers (all targets) to this file")
	flag.BoolVar(&f.inProcess, "in-process", false, "run the servers in this process instead of a child process")
	flag.BoolVar(&f.serve, "serve-targets", false, "internal: start the servers, print them as JSON, serve until stdin closes")
	flag.Parse()
	var err error
	switch {
	case f.serve:
		err = serveTargets(f)
	default:
		err = run(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rampart-bench:", err)
		os.Exit(1)
	}
}

// profile starts a CPU profile when path is set; the returned func stops it.
func profile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// serveTargets is the child process: it prints the targets as one JSON line
// on stdout and serves them until its stdin is closed.
func serveTargets(f flags) error {
	stop, err := profile(f.cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	targets, closeAll, err := bench.StartTargets(bench.MockUpstream{StreamEvents: f.events, DigitTokens: f.digits, Gap: f.gap})
	if err != nil {
		return err
	}
	defer closeAll()
	if err := json.NewEncoder(os.Stdout).Encode(targets); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// startServers starts the targets in a child process (or in this one with
// -in-process) and returns them with the function that stops them.
func startServers(f flags) ([]bench.Target, func(), error) {
	if f.inProcess {
		stop, err := profile(f.cpuprofile)
		if err != nil {
			return nil, nil, err
		}
		targets, closeAll, err := bench.StartTargets(bench.MockUpstream{StreamEvents: f.events, DigitTokens: f.digits, Gap: f.gap})
		if err != nil {
			stop()
			return nil, nil, err
		}
		return targets, func() { closeAll(); stop() }, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	args := []string{"-serve-targets", "-stream-events", strconv.Itoa(f.events), "-stream-gap", f.gap.String(),
		"-digit-tokens=" + strconv.FormatBool(f.digits)}
	if f.cpuprofile != "" {
		args = append(args, "-cpuprofile", f.cpuprofile)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stopChild := func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		stopChild()
		return nil, nil, fmt.Errorf("server process: %w", err)
	}
	var targets []bench.Target
	if err := json.Unmarshal(line, &targets); err != nil {
		stopChild()
		return nil, nil, fmt.Errorf("server process: %w", err)
	}
	return targets, stopChild, nil
}

func selectTargets(targets []bench.Target, only string) ([]bench.Target, error) {
	if only == "" {
		return targets, nil
	}
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
		return nil, fmt.Errorf("-targets %q selects nothing", only)
	}
	return sel, nil
}

func run(f flags) error {
	all, stop, err := startServers(f)
	if err != nil {
		return err
	}
	defer stop()
	targets, err := selectTargets(all, f.only)
	if err != nil {
		return err
	}
	var results []bench.Result
	ctx := context.Background()
	for _, mode := range strings.Split(f.modes, ",") {
		for _, cs := range strings.Split(f.concs, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(cs))
			if err != nil || c < 1 {
				return fmt.Errorf("bad concurrency %q", cs)
			}
			sc := bench.Scenario{Stream: strings.TrimSpace(mode) == "stream", Concurrency: c, Duration: f.dur, Requests: f.reqs}
			for _, t := range targets {
				cl := bench.Client(c)
				// Warm up connections and caches, then measure.
				bench.Run(ctx, cl, t, bench.Scenario{Stream: sc.Stream, Concurrency: c, Duration: f.dur / 10, Requests: 200 * c})
				r := bench.Run(ctx, cl, t, sc)
				fmt.Fprintf(os.Stderr, "%-6s c=%-3d %-10s %8.0f rps p50=%v p99=%v errors=%d truncated=%d %s\n",
					mode, c, t.Name, r.RPS, r.P50, r.P99, r.Errors, r.Truncated, r.FirstError)
				results = append(results, r)
			}
		}
	}
	if len(results) == 0 {
		return errors.New("nothing measured")
	}
	bench.Table(os.Stdout, results)
	return nil
}
