package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-ai/rampart/config"
)

// streamUpstream answers chat completions: whole, or (stream: true) as
// events SSE events gap apart. A request whose model is "held" stops after
// its first event until release is closed.
func streamUpstream(t *testing.T, events int, gap time.Duration, release <-chan struct{}) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, chatAnswer)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < events; i++ {
			fmt.Fprintf(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"w%d "},"finish_reason":null}]}`+"\n\n", i)
			w.(http.Flusher).Flush()
			if i == 0 && req.Model == "held" {
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				continue
			}
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(s.Close)
	return s
}

func wantText(events int) string {
	var b strings.Builder
	for i := 0; i < events; i++ {
		fmt.Fprintf(&b, "w%d ", i)
	}
	return b.String()
}

// policyYAML is a configuration whose topics layer blocks term.
// bannedTopic is a topics section (under layers:) that blocks term.
func bannedTopic(term string) string {
	return fmt.Sprintf("  topics:\n    rules:\n      - id: banned\n        terms: [%q]\n        action: block\n", term)
}

func policyYAML(dataDir, upstream, term string) string {
	return fmt.Sprintf(`data_dir: %s
upstreams:
  - name: mock
    provider: openai
    base_url: %s/v1
layers:
  identity:
    mode: "off"
  ratelimit:
    rules:
      - name: per-ip
        scope: ip
        rpm: 1000000
  injection:
    # Provisioned on every reload like in production, but only monitoring:
    # these tests are about which topics rule is in force.
    mode: monitor
`, dataDir, upstream) + bannedTopic(term)
}

// writeFile replaces path atomically (write to a temporary file, rename),
// as editors and configuration management do.
func writeFile(t testing.TB, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// reloadGateway builds a gateway from the file at path, reloading from it.
func reloadGateway(t testing.TB, path string) *Gateway {
	t.Helper()
	load := func() (*config.Config, error) { return config.LoadEnv(path, nil) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, WithLogger(quiet), WithGetenv(env(nil)), WithConfigLoader(load), WithBootstrapOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// chat sends one chat request to base and checks the whole answer or the
// whole stream; it returns the status.
func chat(client *http.Client, base, content string, stream bool, model string) (int, error) {
	body := fmt.Sprintf(`{"model":%q,"stream":%t,"messages":[{"role":"user","content":%q}]}`, model, stream, content)
	resp, err := client.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if !stream {
		if !bytes.Contains(b, []byte(`"content":"hi"`)) {
			return resp.StatusCode, fmt.Errorf("whole answer incomplete: %q", b)
		}
		return resp.StatusCode, nil
	}
	text, err := sseText(b)
	if err != nil {
		return resp.StatusCode, err
	}
	if !bytes.HasSuffix(b, []byte("data: [DONE]\n\n")) || text != wantText(5) {
		return resp.StatusCode, fmt.Errorf("stream incomplete: %q", b)
	}
	return resp.StatusCode, nil
}

// sseText joins the delta contents of an OpenAI SSE stream.
func sseText(b []byte) (string, error) {
	var out strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ev struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return "", fmt.Errorf("bad event %q: %v", data, err)
		}
		for _, c := range ev.Choices {
			out.WriteString(c.Delta.Content)
		}
	}
	return out.String(), nil
}

// blocked reports whether the policy in force blocks term (400) or lets it
// through (200).
func blocked(t *testing.T, base, term string) bool {
	t.Helper()
	code, err := chat(http.DefaultClient, base, "tell me about "+term, false, "m")
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK && code != http.StatusBadRequest {
		t.Fatalf("%s: status %d", term, code)
	}
	return code == http.StatusBadRequest
}

// The acceptance test of issue #8: while a stream of whole and streamed
// requests keeps running, the policy flips between two valid files several
// times; no request fails, every stream completes, and after each flip the
// new policy is the one applied.
func TestReloadUnderLoad(t *testing.T) {
	up := streamUpstream(t, 5, 3*time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	data := filepath.Join(dir, "data")
	policies := [2]string{policyYAML(data, up.URL, "alpha"), policyYAML(data, up.URL, "bravo")}
	writeFile(t, path, policies[0])
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)

	var ok, streams, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				stream := (i+w)%2 == 0
				code, err := chat(client, base, "hello, how are you", stream, "m")
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("status %d", code)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				ok.Add(1)
				if stream {
					streams.Add(1)
				}
			}
		}(w)
	}

	const flips = 6
	for i := 1; i <= flips; i++ {
		time.Sleep(60 * time.Millisecond)
		old := g.cur.Load()
		writeFile(t, path, policies[i%2])
		if err := g.Reload(); err != nil {
			t.Fatalf("flip %d: %v", i, err)
		}
		if g.cur.Load() == old || g.cur.Load().id != uint64(i+1) {
			t.Fatalf("flip %d: generation not swapped", i)
		}
		banned, allowed := "alpha", "bravo"
		if i%2 == 1 {
			banned, allowed = allowed, banned
		}
		if !blocked(t, base, banned) || blocked(t, base, allowed) {
			t.Fatalf("flip %d: policy banning %s not in force", i, banned)
		}
	}
	time.Sleep(60 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during reloads; first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr.Load())
	}
	if ok.Load() < 50 || streams.Load() < 20 {
		t.Fatalf("too little load to mean anything: %d requests, %d streams", ok.Load(), streams.Load())
	}
	if got := testutil.ToFloat64(g.reload.total.WithLabelValues("success")); got != flips {
		t.Fatalf("reload_total{success} = %v, want %d", got, flips)
	}
	t.Logf("%d requests (%d streams) across %d reloads", ok.Load(), streams.Load(), flips)
}

// A stream that starts before a reload finishes on the old generation, whose
// layers are closed only after that stream ends.
func TestReloadKeepsStreamInFlight(t *testing.T) {
	release := make(chan struct{})
	up := streamUpstream(t, 5, time.Millisecond, release)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, policyYAML(dir, up.URL, "alpha"))
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)
	old := g.cur.Load()

	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := chat(http.DefaultClient, base, "hello", true, "held")
		done <- result{code, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for old.inFlight() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("stream never started")
		}
		time.Sleep(time.Millisecond)
	}
	writeFile(t, path, policyYAML(dir, up.URL, "bravo"))
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if !blocked(t, base, "bravo") {
		t.Fatal("new policy not in force")
	}
	select {
	case <-old.drained:
		t.Fatal("old generation drained while its stream still runs")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	r := <-done
	if r.err != nil || r.code != http.StatusOK {
		t.Fatalf("stream across reload: %d %v", r.code, r.err)
	}
	select {
	case <-old.drained:
	case <-time.After(5 * time.Second):
		t.Fatal("old generation not drained after its stream ended")
	}
}

// readyConfig fetches /readyz and decodes it.
func readyConfig(t *testing.T, base string) (int, readyBody, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var rb readyBody
	if err := json.Unmarshal(b, &rb); err != nil {
		t.Fatalf("/readyz: %v: %s", err, b)
	}
	return resp.StatusCode, rb, string(b)
}

// An invalid file keeps the policy in force, is counted, and /readyz (still
// 200) says where the problem is without quoting the file.
func TestReloadInvalidKeepsOldPolicy(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	good := policyYAML(dir, up.URL, "alpha")
	writeFile(t, path, good)
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)

	cases := []struct {
		name, file, where string
	}{
		{"unknown key", good + "surprise_secret_value: 1\n", "rampart.yaml:"},
		{"bad field", strings.Replace(good, "provider: openai", "provider: s3cr3t-provider", 1), "upstreams[0].provider"},
		{"bad layer option", strings.Replace(good, "action: block", "action: s3cr3t-action", 1), "layers.topics"},
		{"not yaml", "::: s3cr3t\n\t- [", "rampart.yaml"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, path, tc.file)
			if err := g.Reload(); err == nil {
				t.Fatal("invalid file accepted")
			}
			if g.cur.Load().id != 1 {
				t.Fatal("generation replaced by an invalid file")
			}
			if !blocked(t, base, "alpha") {
				t.Fatal("old policy not in force")
			}
			if got := testutil.ToFloat64(g.reload.total.WithLabelValues("failure")); got != float64(i+1) {
				t.Fatalf("reload_total{failure} = %v, want %d", got, i+1)
			}
			code, rb, raw := readyConfig(t, base)
			if code != http.StatusOK || rb.Status != "ready" || rb.Config == nil || rb.Config.LastReload == nil {
				t.Fatalf("/readyz: %d %s", code, raw)
			}
			lr := rb.Config.LastReload
			t.Logf("/readyz: %s", raw)
			if lr.Result != "failure" || !strings.Contains(lr.Error, tc.where) || rb.Config.Generation != 1 {
				t.Fatalf("/readyz config: %s", raw)
			}
			if strings.Contains(strings.ToLower(raw), "s3cr3t") || strings.Contains(raw, "surprise_secret") {
				t.Fatalf("/readyz quotes the file: %s", raw)
			}
		})
	}
	// A good file again: success, and the error is gone from /readyz.
	writeFile(t, path, policyYAML(dir, up.URL, "bravo"))
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	_, rb, raw := readyConfig(t, base)
	if rb.Config.Generation != 2 || rb.Config.LastReload.Result != "success" || rb.Config.LastReload.Error != "" {
		t.Fatalf("/readyz after recovery: %s", raw)
	}
	if ts := testutil.ToFloat64(g.reload.lastSuccess); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Fatalf("last success timestamp %v", ts)
	}
}

// Settings that need a restart keep their running values; the reload still
// applies the rest and /readyz lists what waits for a restart.
func TestReloadRestartOnlySettings(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, policyYAML(dir, up.URL, "alpha"))
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)
	startListen := g.cur.Load().cfg.Server.Listen

	next := policyYAML(filepath.Join(dir, "elsewhere"), up.URL, "bravo") +
		"server:\n  listen: 127.0.0.1:9\n  max_body_bytes: 2048\n"
	next = strings.Replace(next, "identity:\n    mode: \"off\"", "identity:\n    mode: enforce", 1)
	writeFile(t, path, next)
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	cur := g.cur.Load().cfg
	if cur.Server.Listen != startListen || cur.DataDir != dir || cur.Server.MaxBodyBytes != 2048 {
		t.Fatalf("running config: listen %q data_dir %q max_body %d", cur.Server.Listen, cur.DataDir, cur.Server.MaxBodyBytes)
	}
	if cur.Layer("identity").Mode != "off" {
		t.Fatal("identity section changed by a reload")
	}
	if !blocked(t, base, "bravo") {
		t.Fatal("reloadable part not applied")
	}
	wantRestart(t, base, "server", "data_dir", "layers.identity")
}

// wantRestart checks that /readyz lists each of wants as waiting for a
// restart.
func wantRestart(t *testing.T, base string, wants ...string) {
	t.Helper()
	_, rb, raw := readyConfig(t, base)
	got := strings.Join(rb.Config.RestartRequired, ",")
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Fatalf("restart_required %q lacks %s: %s", got, want, raw)
		}
	}
}

// The rate-limit memory backend survives a reload: a client that spent its
// budget does not get a fresh one from a policy change.
func TestReloadKeepsRateLimitState(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	policy := func(term string) string {
		return strings.Replace(policyYAML(dir, up.URL, term), "rpm: 1000000", "rpm: 2\n        burst: 2", 1)
	}
	writeFile(t, path, policy("alpha"))
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)
	codes := func(n int) []int {
		var out []int
		for i := 0; i < n; i++ {
			code, err := chat(http.DefaultClient, base, "hello", false, "m")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, code)
		}
		return out
	}
	before := codes(3)
	if before[0] != 200 || before[2] != http.StatusTooManyRequests {
		t.Fatalf("limit not reached before reload: %v", before)
	}
	writeFile(t, path, policy("bravo"))
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if after := codes(1); after[0] != http.StatusTooManyRequests {
		t.Fatalf("reload reset the rate limit: %v", after)
	}
	// The metrics of the shared backend are still served, once.
	mfs, err := g.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() == "rampart_ratelimit_memory_entries" {
			n += len(mf.GetMetric())
		}
	}
	if n != 1 {
		t.Fatalf("rampart_ratelimit_memory_entries served %d times", n)
	}
}

// sharedCollectors: a collector registered again by the next generation is
// reused; one no generation holds any more is unregistered; a generation
// that fails to build leaves nothing behind.
func TestSharedCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	stack := prometheus.NewCounter(prometheus.CounterOpts{Name: "stack_total", Help: "h"})
	reg.MustRegister(stack)
	s := newSharedCollectors(reg)
	counter := func(name, backend string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "h",
			ConstLabels: prometheus.Labels{"backend": backend}}, []string{"op"})
	}
	names := func() []string {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				backend := ""
				for _, l := range m.GetLabel() {
					if l.GetName() == "backend" {
						backend = l.GetValue()
					}
				}
				out = append(out, mf.GetName()+"/"+backend)
			}
		}
		return out
	}

	a := s.forGeneration()
	errsA := counter("errors_total", "memory")
	if err := a.Register(errsA); err != nil {
		t.Fatal(err)
	}
	errsA.WithLabelValues("admit").Inc()
	onlyA := counter("only_a_total", "memory")
	a.MustRegister(onlyA)
	onlyA.WithLabelValues("x").Inc()

	b := s.forGeneration()
	err := b.Register(counter("errors_total", "memory"))
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) || are.ExistingCollector != errsA {
		t.Fatalf("same series not reused: %v", err)
	}
	redis := counter("errors_total", "redis")
	if err := b.Register(redis); err != nil {
		t.Fatal(err)
	}
	redis.WithLabelValues("admit").Inc()
	// The gateway's own collectors are not the generation's to hold.
	if err := b.Register(prometheus.NewCounter(prometheus.CounterOpts{Name: "stack_total", Help: "h"})); err == nil {
		t.Fatal("stack collector registered twice")
	}

	// Function collectors read their generation's state: the newest wins.
	gauge := func(v float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "entries", Help: "h",
			ConstLabels: prometheus.Labels{"backend": "memory"}}, func() float64 { return v })
	}
	a.MustRegister(gauge(1))
	if err := b.Register(gauge(2)); err != nil {
		t.Fatalf("function collector not replaced: %v", err)
	}
	value := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "entries" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	if v := value(); v != 2 {
		t.Fatalf("entries = %v, want the newest generation's 2", v)
	}

	failed := s.forGeneration()
	failed.MustRegister(counter("failed_total", "memory"))
	failed.release()

	a.release()
	if got := strings.Join(names(), " "); got != "entries/memory errors_total/memory errors_total/redis stack_total/" {
		t.Fatalf("after release of a (and of the failed generation): %s", got)
	}
	if v := value(); v != 2 {
		t.Fatalf("entries = %v after release of a, want 2", v)
	}
	if a.Register(counter("late_total", "x")) == nil {
		t.Fatal("register after release accepted")
	}
	b.release()
	if got := strings.Join(names(), " "); got != "stack_total/" {
		t.Fatalf("after release of b: %s", got)
	}
	if len(s.held) != 0 {
		t.Fatalf("held: %v", s.held)
	}
}

// BenchmarkReload measures one policy swap as SIGHUP or a file change
// triggers it: read and validate the file, build and provision the new
// chain (detector model, secret rules, PII recognisers), swap it in. The
// two files alternate so every iteration is a real change.
func BenchmarkReload(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	data := filepath.Join(dir, "data")
	policies := [2]string{policyYAML(data, "http://127.0.0.1:9", "alpha"), policyYAML(data, "http://127.0.0.1:9", "bravo")}
	writeFile(b, path, policies[0])
	g := reloadGateway(b, path)
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		writeFile(b, path, policies[i%2])
		b.StartTimer()
		if err := g.Reload(); err != nil {
			b.Fatal(err)
		}
	}
}

// The block cache and the incident responder are opened once at start: a
// reload that changes layers.blocklist's refresh_interval, purge_interval
// or incident keeps their running values and names them, while the rest
// of the file applies; spelling a running value out is no change.
func TestReloadNamesBlocklistStartOnly(t *testing.T) {
	up := streamUpstream(t, 5, time.Millisecond, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, policyYAML(dir, up.URL, "alpha"))
	g := reloadGateway(t, path)
	base, _, _ := serve(t, g)

	same := policyYAML(dir, up.URL, "alpha") + "  blocklist:\n    refresh_interval: 2s\n"
	writeFile(t, path, same)
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, rb, raw := readyConfig(t, base); len(rb.Config.RestartRequired) != 0 {
		t.Fatalf("the default refresh_interval spelled out is reported as a change: %s", raw)
	}

	next := policyYAML(dir, up.URL, "bravo") + "  blocklist:\n    refresh_interval: 5s\n    purge_interval: 2m\n" +
		"    incident:\n      enabled: true\n"
	writeFile(t, path, next)
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if !blocked(t, base, "bravo") {
		t.Fatal("the reloadable part of the file was not applied")
	}
	wantRestart(t, base, "layers.blocklist.refresh_interval", "layers.blocklist.purge_interval", "incident")
	sec := g.cur.Load().cfg.Layer("blocklist")
	if _, ok := sec.Options["incident"]; ok {
		t.Fatalf("the running generation carries settings that are not in force: %v", sec.Options)
	}
	if sec.Options["refresh_interval"] != "2s" {
		t.Fatalf("refresh_interval: running value not kept: %v", sec.Options)
	}

	// The top-level section is start-only too.
	top := policyYAML(dir, up.URL, "charlie") + "incident:\n  enabled: true\n"
	writeFile(t, path, top)
	if err := g.Reload(); err != nil {
		t.Fatal(err)
	}
	if !blocked(t, base, "charlie") {
		t.Fatal("the reloadable part of the file was not applied")
	}
	wantRestart(t, base, "incident")
	if g.cur.Load().cfg.IncidentSection().IsSet() {
		t.Fatal("the running generation carries an incident section that is not in force")
	}
	// Both places at once is refused; the running configuration stays.
	both := policyYAML(dir, up.URL, "delta") + "  blocklist:\n    incident:\n      enabled: false\n" +
		"incident:\n  enabled: false\n"
	writeFile(t, path, both)
	if err := g.Reload(); err == nil || !strings.Contains(err.Error(), "keep only the top-level incident section") {
		t.Fatalf("both incident sections: %v", err)
	}
	if !blocked(t, base, "charlie") {
		t.Fatal("a refused reload changed the policy")
	}
}
