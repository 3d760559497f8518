// Command rampart-bench is rampart's load tool. On loopback, in one run, it
// measures a mock upstream called directly, behind a bare
// httputil.ReverseProxy, and behind rampart with its default policy, at the
// given concurrencies and prompt sizes, streamed and not, and prints a
// Markdown table of throughput and added latency. rampart runs three times:
// with every layer off (the spine: engine, adapters, audit, metrics), with
// only the output guard, and with the embedded default policy, which is
// measured twice: with the bootstrap admin key (no limits) and with a key
// that has rpm and tpm limits (rampart-limits). See docs/PERFORMANCE.md.
//
// Two more measurements: -paced streams answers at a model's pace (4-byte
// events every 20 ms, English prose and prose full of numbers) and reports
// time to first byte and each byte's lag behind the direct call; -soak
// loads one gateway at concurrency 32 (whole and streamed requests
// alternating) for the given time, -soak-runs times, and reports the server
// process's resident memory after each.
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
	"net/http"
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
	memprofile string
	inProcess  bool
	serve      bool
	promptKB   string
	paced      bool
	pacedReqs  int
	pieceBytes int
	text       string
	soak       time.Duration
	soakRuns   int
	rounds     int
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
	flag.StringVar(&f.only, "targets", "", "comma-separated subset of: direct, bare-proxy, rampart-spine, rampart-output, rampart-default, rampart-limits, rampart-noinjection (default all)")
	flag.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the servers (all targets) to this file")
	flag.StringVar(&f.memprofile, "memprofile", "", "write an allocation profile of the servers (all targets) to this file when they stop (go tool pprof -sample_index=alloc_space)")
	flag.BoolVar(&f.inProcess, "in-process", false, "run the servers in this process instead of a child process")
	flag.BoolVar(&f.serve, "serve-targets", false, "internal: start the servers, print them as JSON, serve until stdin closes")
	flag.StringVar(&f.promptKB, "prompt-kb", "", "comma-separated user message sizes in KB (e.g. 1,8,32,128,512; default ~2 KB); with several, a per-KB cost table follows")
	flag.BoolVar(&f.paced, "paced", false, "measure streams at a model's pace instead: -piece-bytes per event every -stream-gap (default 4 bytes, 20ms), prose and prose with numbers; reports first byte and per-byte lag")
	flag.IntVar(&f.pacedReqs, "paced-requests", 8, "streamed requests per target and text with -paced")
	flag.IntVar(&f.pieceBytes, "piece-bytes", 0, "internal: stream the answer text in pieces of this many bytes")
	flag.StringVar(&f.text, "text", "prose", "internal: answer text of paced streams: prose or numbers")
	flag.IntVar(&f.rounds, "rounds", 3, "split each scenario's -duration into this many rounds that cycle through the targets (load from elsewhere then hits every target alike)")
	flag.DurationVar(&f.soak, "soak", 0, "soak one target (-targets, default rampart-limits) at the first -concurrency for this long, -soak-runs times, reporting the server process's RSS")
	flag.IntVar(&f.soakRuns, "soak-runs", 2, "number of soaks with -soak")
	flag.Parse()
	var err error
	switch {
	case f.serve:
		err = serveTargets(f)
	case f.paced:
		err = runPaced(f)
	case f.soak > 0:
		err = runSoak(f)
	default:
		err = run(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rampart-bench:", err)
		os.Exit(1)
	}
}

// profile starts a CPU profile when f.cpuprofile is set; the returned func
// stops it and writes the allocation profile when f.memprofile is set.
func profile(fl flags) (func(), error) {
	stopMem := func() {
		if fl.memprofile == "" {
			return
		}
		f, err := os.Create(fl.memprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rampart-bench:", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fmt.Fprintln(os.Stderr, "rampart-bench:", err)
		}
	}
	if fl.cpuprofile == "" {
		return stopMem, nil
	}
	f, err := os.Create(fl.cpuprofile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close(); stopMem() }, nil
}

// serveTargets is the child process: it prints the targets as one JSON line
// on stdout and serves them until its stdin is closed.
func serveTargets(f flags) error {
	stop, err := profile(f)
	if err != nil {
		return err
	}
	defer stop()
	targets, closeAll, err := bench.StartTargets(mockOf(f), wantOf(f)...)
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

// mockOf is the mock upstream the flags describe.
func mockOf(f flags) *bench.MockUpstream {
	m := &bench.MockUpstream{StreamEvents: f.events, DigitTokens: f.digits, Gap: f.gap, PieceBytes: f.pieceBytes}
	if f.text == "numbers" {
		m.Text = bench.NumbersText
	}
	return m
}

// wantOf lists the targets to start (nil: all).
func wantOf(f flags) []string {
	if f.only == "" {
		return nil
	}
	return strings.Split(f.only, ",")
}

// startServers starts the targets in a child process (or in this one with
// -in-process) and returns them with the function that stops them and the
// id of the process that serves them.
func startServers(f flags) ([]bench.Target, func(), int, error) {
	if f.inProcess {
		stop, err := profile(f)
		if err != nil {
			return nil, nil, 0, err
		}
		targets, closeAll, err := bench.StartTargets(mockOf(f), wantOf(f)...)
		if err != nil {
			stop()
			return nil, nil, 0, err
		}
		return targets, func() { closeAll(); stop() }, os.Getpid(), nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, 0, err
	}
	args := []string{"-serve-targets", "-stream-events", strconv.Itoa(f.events), "-stream-gap", f.gap.String(),
		"-digit-tokens=" + strconv.FormatBool(f.digits), "-piece-bytes", strconv.Itoa(f.pieceBytes), "-text", f.text,
		"-targets", f.only}
	if f.cpuprofile != "" {
		args = append(args, "-cpuprofile", f.cpuprofile)
	}
	if f.memprofile != "" {
		args = append(args, "-memprofile", f.memprofile)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, 0, err
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
		return nil, nil, 0, fmt.Errorf("server process: %w", err)
	}
	var targets []bench.Target
	if err := json.Unmarshal(line, &targets); err != nil {
		stopChild()
		return nil, nil, 0, fmt.Errorf("server process: %w", err)
	}
	return targets, stopChild, cmd.Process.Pid, nil
}

// serve starts the servers and selects the targets -targets names; the
// returned func stops the servers.
func serve(f flags) ([]bench.Target, func(), int, error) {
	all, stop, pid, err := startServers(f)
	if err != nil {
		return nil, nil, 0, err
	}
	targets, err := selectTargets(all, f.only)
	if err != nil {
		stop()
		return nil, nil, 0, err
	}
	return targets, stop, pid, nil
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

func parseInts(list, what string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad %s %q", what, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(f flags) error {
	concs, err := parseInts(f.concs, "concurrency")
	if err != nil {
		return err
	}
	prompts := []int{0}
	if f.promptKB != "" {
		kbs, err := parseInts(f.promptKB, "prompt size")
		if err != nil {
			return err
		}
		prompts = prompts[:0]
		for _, k := range kbs {
			prompts = append(prompts, k*1024)
		}
	}
	targets, stop, pid, err := serve(f)
	if err != nil {
		return err
	}
	defer stop()
	ctx := context.Background()
	// measure runs one round and adds the server process's CPU time.
	measure := func(cl *http.Client, t bench.Target, sc bench.Scenario) bench.Result {
		c0, err0 := bench.ProcessCPU(pid)
		r := bench.Run(ctx, cl, t, sc)
		if c1, err1 := bench.ProcessCPU(pid); err0 == nil && err1 == nil {
			r.CPU = c1 - c0
		}
		return r
	}
	var results []bench.Result
	for _, mode := range strings.Split(f.modes, ",") {
		for _, c := range concs {
			for _, p := range prompts {
				rounds := max(f.rounds, 1)
				sc := bench.Scenario{Stream: strings.TrimSpace(mode) == "stream", Concurrency: c, Duration: f.dur / time.Duration(rounds),
					Requests: f.reqs / rounds, PromptBytes: p}
				clients := make([]*http.Client, len(targets))
				for i, t := range targets {
					clients[i] = bench.Client(c)
					// Warm up connections and caches.
					warm := sc
					warm.Duration, warm.Requests = f.dur/10, 200*c
					bench.Run(ctx, clients[i], t, warm)
				}
				per := make([][]bench.Result, len(targets))
				for range rounds {
					for i, t := range targets {
						per[i] = append(per[i], measure(clients[i], t, sc))
					}
				}
				for i := range targets {
					r := bench.Merge(per[i])
					fmt.Fprintf(os.Stderr, "%-6s c=%-3d prompt=%-7d %-15s %8.0f rps p50=%v p99=%v cpu/req=%v errors=%d truncated=%d %s\n",
						mode, c, p, r.Target, r.RPS, r.P50, r.P99, r.CPUPerRequest(), r.Errors, r.Truncated, r.FirstError)
					results = append(results, r)
				}
			}
		}
	}
	if len(results) == 0 {
		return errors.New("nothing measured")
	}
	bench.Table(os.Stdout, results)
	if len(prompts) > 1 {
		fmt.Println()
		bench.SizeTable(os.Stdout, results)
	}
	return nil
}

// runPaced measures streams at a model's pace: for each text (prose, then
// prose with numbers) a server process with a paced mock, every target
// measured with -paced-requests sequential streams, lag per byte against
// the direct call.
func runPaced(f flags) error {
	if f.pieceBytes == 0 {
		f.pieceBytes = 4
	}
	if f.gap == 0 {
		f.gap = 20 * time.Millisecond
	}
	ctx := context.Background()
	for _, text := range []string{"prose", "numbers"} {
		f.text = text
		targets, stop, _, err := serve(f)
		if err != nil {
			return err
		}
		runs := map[string][]bench.Arrivals{}
		cl := bench.Client(1)
		for _, t := range targets {
			if _, err := bench.PacedRun(ctx, cl, t, 1); err != nil { // warm-up
				stop()
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		}
		// Interleave the targets request by request, so that load from
		// elsewhere on the machine hits them alike.
		for i := 0; i < f.pacedReqs; i++ {
			for _, t := range targets {
				a, err := bench.PacedRun(ctx, cl, t, 1)
				if err != nil {
					stop()
					return fmt.Errorf("%s: %w", t.Name, err)
				}
				runs[t.Name] = append(runs[t.Name], a...)
			}
		}
		stop()
		var lags []bench.Lag
		for _, t := range targets {
			l := bench.LagOf(t.Name, runs[t.Name])
			fmt.Fprintf(os.Stderr, "paced %-7s %-15s first=%v lag p50=%v p90=%v p99=%v max=%v truncated=%d\n",
				text, t.Name, l.FirstByte, l.Median, l.P90, l.P99, l.Max, l.Truncated)
			lags = append(lags, l)
		}
		bench.LagTable(os.Stdout, text, lags)
		fmt.Println()
	}
	return nil
}

// runSoak loads one target at the first concurrency, whole and streamed
// requests alternating, for f.soak, f.soakRuns times, and reports the
// resident memory of the process serving it after each soak.
func runSoak(f flags) error {
	if f.only == "" {
		f.only = "rampart-limits"
	}
	concs, err := parseInts(f.concs, "concurrency")
	if err != nil {
		return err
	}
	targets, stop, pid, err := serve(f)
	if err != nil {
		return err
	}
	defer stop()
	t := targets[0]
	c := concs[0]
	ctx := context.Background()
	cl := bench.Client(c)
	bench.Run(ctx, cl, t, bench.Scenario{Mixed: true, Concurrency: c, Duration: 2 * time.Second, Requests: 1 << 24})
	rss0, _ := bench.ProcessMemory(pid)
	fmt.Println("| soak | target | conc | duration | requests | RPS | errors | truncated | RSS after | peak RSS (VmHWM) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| warm-up | %s | %d | 2s | – | – | – | – | %s | %s |\n", t.Name, c, mib(rss0.RSS), mib(rss0.HWM))
	for i := 1; i <= f.soakRuns; i++ {
		r := bench.Run(ctx, cl, t, bench.Scenario{Mixed: true, Concurrency: c, Duration: f.soak, Requests: 1 << 24})
		m, err := bench.ProcessMemory(pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "soak %d: %d requests, %.0f rps, errors=%d truncated=%d %s rss=%s\n", i, r.Count, r.RPS, r.Errors, r.Truncated, r.FirstError, mib(m.RSS))
		fmt.Printf("| %d | %s | %d | %v | %d | %.0f | %d | %d | %s | %s |\n", i, t.Name, c, f.soak, r.Count, r.RPS, r.Errors, r.Truncated, mib(m.RSS), mib(m.HWM))
	}
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
