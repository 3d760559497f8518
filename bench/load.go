// Package bench is rampart's load tool: it measures, in one run on loopback,
// a mock upstream called directly, the same upstream behind a bare
// httputil.ReverseProxy, and behind rampart, at several concurrencies,
// streamed and not, and reports throughput and the latency each hop adds.
// Ratios within one run are what to compare; absolute times are noisy on
// shared machines.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-ai/rampart/bench/prompttext"
)

// Target is one way to reach the mock upstream.
type Target struct {
	Name    string
	BaseURL string      // e.g. http://127.0.0.1:1234/v1
	Header  http.Header // extra request headers (e.g. an API key)
	// Mock is the mock upstream's base URL (its send logs for paced runs).
	Mock string
}

// Scenario is one measured combination.
type Scenario struct {
	Stream      bool
	Concurrency int
	// Duration bounds the measurement; Requests bounds its count. Both
	// apply: the loop stops at whichever comes first.
	Duration time.Duration
	Requests int
	// PromptBytes is the size of the user message (default DefaultPrompt).
	PromptBytes int
	// Mixed alternates whole and streamed requests on every worker (the
	// soak); Stream is ignored.
	Mixed bool
}

// DefaultPrompt is the user message size of the standard scenarios.
const DefaultPrompt = 2000

// Result is what one target did in one scenario.
type Result struct {
	Target   string
	Scenario Scenario
	Count    int
	Errors   int
	// Truncated counts streams that ended without [DONE] or an error event.
	Truncated int
	RPS       float64
	// P50/P99 are whole-request latencies; TTFB50/TTFB99 the time to the
	// first response byte (the first SSE event for streams).
	P50, P99       time.Duration
	TTFB50, TTFB99 time.Duration
	FirstError     string

	// CPU is the CPU time the server process used during the
	// measurement (0 when not measured; see ProcessCPU). All targets of a
	// run share that process, so it includes the mock upstream's share,
	// which the direct target's CPU shows alone.
	CPU time.Duration

	totals, ttfbs []time.Duration // the samples, for Merge
	elapsed       time.Duration
}

// CPUPerRequest is the server process's CPU time per completed request.
func (r Result) CPUPerRequest() time.Duration {
	if r.Count == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Count)
}

// Merge combines results of the same target and scenario measured in
// several rounds (interleaved with other targets, so that load from
// elsewhere on a shared machine hits every target alike): counts add up,
// throughput is requests over the summed measuring time, percentiles are
// over all samples.
func Merge(rs []Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	m := Result{Target: rs[0].Target, Scenario: rs[0].Scenario}
	for _, r := range rs {
		m.Count += r.Count
		m.Errors += r.Errors
		m.Truncated += r.Truncated
		m.elapsed += r.elapsed
		m.CPU += r.CPU
		m.totals = append(m.totals, r.totals...)
		m.ttfbs = append(m.ttfbs, r.ttfbs...)
		if m.FirstError == "" {
			m.FirstError = r.FirstError
		}
	}
	m.Scenario.Duration = 0
	for _, r := range rs {
		m.Scenario.Duration += r.Scenario.Duration
	}
	if m.elapsed > 0 {
		m.RPS = float64(m.Count) / m.elapsed.Seconds()
	}
	m.P50, m.P99 = percentiles(m.totals)
	m.TTFB50, m.TTFB99 = percentiles(m.ttfbs)
	return m
}

// Body returns the chat request body used by the load tool: a system
// prompt and a user message of about promptBytes bytes of English prose
// (DefaultPrompt when promptBytes is 0).
func Body(stream bool, promptBytes int) []byte { return body(stream, promptBytes, "") }

// body is Body with the user message starting with a reference (see
// MockUpstream) when ref is set.
func body(stream bool, promptBytes int, ref string) []byte {
	if promptBytes <= 0 {
		promptBytes = DefaultPrompt
	}
	var b bytes.Buffer
	b.WriteString(`{"model":"bench-model","messages":[{"role":"system","content":"You are a helpful assistant for a travel company. Answer briefly and politely."},{"role":"user","content":"`)
	start := b.Len()
	if ref != "" {
		b.WriteString("[ref " + ref + "] ")
	}
	b.Write(prompttext.Append(nil, promptBytes-(b.Len()-start)))
	b.WriteString(`"}]`)
	if stream {
		b.WriteString(`,"stream":true`)
	}
	b.WriteString(`}`)
	return b.Bytes()
}

// Run measures one target in one scenario.
func Run(ctx context.Context, client *http.Client, t Target, sc Scenario) Result {
	// Every request's user message starts with its own number (as real
	// users do not send one text twice), so that no result a gateway
	// remembers for a repeated text (rampart's injection layer does) can
	// stand in for the work a new prompt costs. The system prompt stays
	// the same, as an application's does.
	bodies := [2][]byte{body(false, sc.PromptBytes, reqRefMark), body(true, sc.PromptBytes, reqRefMark)}
	refAt := [2]int{bytes.Index(bodies[0], []byte(reqRefMark)), bytes.Index(bodies[1], []byte(reqRefMark))}
	var seq atomic.Uint64
	url := t.BaseURL + "/chat/completions"
	maxPerWorker := sc.Requests/sc.Concurrency + 1
	type sample struct{ total, ttfb time.Duration }
	var (
		mu        sync.Mutex
		samples   = make([]sample, 0, min(sc.Requests, 1<<16))
		errs      int
		truncated int
		firstErr  string
	)
	deadline := time.Now().Add(sc.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < sc.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := [2][]byte{bytes.Clone(bodies[0]), bytes.Clone(bodies[1])}
			local := make([]sample, 0, min(maxPerWorker, 1<<12))
			var lerrs, ltrunc int
			var lfirst string
			for i := 0; i < maxPerWorker && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				stream := sc.Stream
				if sc.Mixed {
					stream = i%2 == 1
				}
				k := 0
				if stream {
					k = 1
				}
				body := mine[k]
				setRef(body[refAt[k]:refAt[k]+len(reqRefMark)], seq.Add(1))
				total, ttfb, complete, err := once(ctx, client, url, t.Header, body, stream)
				if err != nil {
					lerrs++
					if lfirst == "" {
						lfirst = err.Error()
					}
					continue
				}
				if !complete {
					ltrunc++
				}
				local = append(local, sample{total, ttfb})
			}
			mu.Lock()
			samples = append(samples, local...)
			errs += lerrs
			truncated += ltrunc
			if firstErr == "" {
				firstErr = lfirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := Result{Target: t.Name, Scenario: sc, Count: len(samples), Errors: errs, Truncated: truncated, FirstError: firstErr, elapsed: elapsed}
	if elapsed > 0 {
		r.RPS = float64(len(samples)) / elapsed.Seconds()
	}
	r.totals = make([]time.Duration, len(samples))
	r.ttfbs = make([]time.Duration, len(samples))
	for i, s := range samples {
		r.totals[i], r.ttfbs[i] = s.total, s.ttfb
	}
	r.P50, r.P99 = percentiles(append([]time.Duration(nil), r.totals...))
	r.TTFB50, r.TTFB99 = percentiles(append([]time.Duration(nil), r.ttfbs...))
	return r
}

// reqRefMark is the reference Run's requests start their user message
// with, overwritten with the request's number (setRef). Digits only: a
// token mixing letters and digits ("n0000000123") costs the injection
// detector several times more than the rest of a 2 KB prompt (its token
// salad check), which would measure that check instead of a prompt.
const reqRefMark = "0000000000"

// setRef writes n into ref as decimal digits.
func setRef(ref []byte, n uint64) {
	for i := len(ref) - 1; i >= 0; i-- {
		ref[i] = byte('0' + n%10)
		n /= 10
	}
}

// percentiles sorts d and returns its 50th and 99th percentiles.
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)*50/100], d[min(len(d)-1, len(d)*99/100)]
}

// once sends one request; for streams it reads every event and reports
// whether the stream ended properly ([DONE] or an error event).
func once(ctx context.Context, client *http.Client, url string, h http.Header, body []byte, stream bool) (total, ttfb time.Duration, complete bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, 0, false, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	if !stream {
		br := bufio.NewReader(resp.Body)
		if _, err := br.Peek(1); err != nil {
			return 0, 0, false, err
		}
		ttfb = time.Since(t0)
		if _, err := io.Copy(io.Discard, br); err != nil {
			return 0, 0, false, err
		}
		return time.Since(t0), ttfb, true, nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first && len(line) > 0 {
			ttfb = time.Since(t0)
			first = false
		}
		if bytes.Equal(line, []byte("data: [DONE]")) || bytes.HasPrefix(line, []byte("event: error")) {
			complete = true
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, false, err
	}
	return time.Since(t0), ttfb, complete, nil
}
