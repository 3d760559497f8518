package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"
)

// Arrivals is one paced streamed answer as a client saw it.
type Arrivals struct {
	// FirstByte is the time from sending the request to the first byte of
	// answer text.
	FirstByte time.Duration
	// Lag[k] is how long after the mock upstream wrote byte k of the answer
	// text that byte reached the client (both wall clock, same machine).
	Lag []time.Duration
	// Sent and Received are the answer's length as the mock sent it and
	// as the client received it.
	Sent, Received int
	// Complete is false when the stream ended without [DONE] or an error
	// event.
	Complete bool
}

// PacedRun sends n streamed requests one after another to t and records
// when every byte of the answer text arrived, against when the mock
// upstream (MockUpstream with PieceBytes) sent it.
func PacedRun(ctx context.Context, client *http.Client, t Target, n int) ([]Arrivals, error) {
	var out []Arrivals
	for i := 0; i < n && ctx.Err() == nil; i++ {
		a, err := pacedOnce(ctx, client, t)
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

func pacedOnce(ctx context.Context, client *http.Client, t Target) (Arrivals, error) {
	var a Arrivals
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	ref := hex.EncodeToString(rb[:])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.BaseURL+"/chat/completions", bytes.NewReader(body(true, 0, ref)))
	if err != nil {
		return a, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range t.Header {
		req.Header[k] = v
	}
	var arrive []int64 // wall clock per byte
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return a, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		now := time.Now()
		if bytes.Equal(line, []byte("data: [DONE]")) || bytes.HasPrefix(line, []byte("event: error")) {
			a.Complete = true
			continue
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal(data, &chunk) != nil {
			continue
		}
		for _, c := range chunk.Choices {
			if len(arrive) == 0 && len(c.Delta.Content) > 0 {
				a.FirstByte = now.Sub(t0)
			}
			for range len(c.Delta.Content) {
				arrive = append(arrive, now.UnixNano())
			}
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return a, err
	}
	sends, err := fetchSends(ctx, client, t.Mock, ref)
	if err != nil {
		return a, err
	}
	if len(sends) < 2 {
		return a, fmt.Errorf("mock send log %s: %d entries", ref, len(sends))
	}
	a.Sent, a.Received = sends[len(sends)-1].Offset, len(arrive)
	pieces := sends[:len(sends)-1]
	// Byte k was sent with the last piece whose offset is ≤ k.
	j := 0
	for k, at := range arrive[:min(len(arrive), a.Sent)] {
		for j+1 < len(pieces) && pieces[j+1].Offset <= k {
			j++
		}
		a.Lag = append(a.Lag, time.Duration(at-pieces[j].At))
	}
	return a, nil
}

func fetchSends(ctx context.Context, client *http.Client, mock, ref string) ([]Send, error) {
	u := mock[:len(mock)-len("/v1")] + "/bench/sends/" + ref
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mock send log %s: status %d", ref, resp.StatusCode)
	}
	var s []Send
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&s); err != nil {
		return nil, err
	}
	return s, nil
}

// Lag summarises a target's paced runs: the time to the first answer byte
// and, over every byte of every answer, how long after the mock upstream
// wrote it the byte reached the client.
type Lag struct {
	Target                string
	Requests              int
	Truncated             int // streams without [DONE] or an error event
	Altered               int // answers received with another length than sent (redacted)
	Bytes                 int
	FirstByte             time.Duration
	Median, P90, P99, Max time.Duration
}

// LagOf summarises runs.
func LagOf(target string, runs []Arrivals) Lag {
	l := Lag{Target: target, Requests: len(runs)}
	var lags, firsts []time.Duration
	for _, r := range runs {
		if !r.Complete {
			l.Truncated++
		}
		if r.Received != r.Sent {
			l.Altered++
		}
		firsts = append(firsts, r.FirstByte)
		lags = append(lags, r.Lag...)
	}
	l.Bytes = len(lags)
	l.FirstByte = median(firsts)
	if len(lags) > 0 {
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		l.Median = lags[len(lags)/2]
		l.P90 = lags[min(len(lags)-1, len(lags)*90/100)]
		l.P99 = lags[min(len(lags)-1, len(lags)*99/100)]
		l.Max = lags[len(lags)-1]
	}
	return l
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// LagTable prints paced results as a Markdown table.
func LagTable(w io.Writer, text string, lags []Lag) {
	fmt.Fprintln(w, "| text | target | requests | bytes | first byte p50 | +first byte vs bare proxy | lag per byte p50 | p90 | p99 | max | truncated | altered |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	var bare time.Duration
	for _, l := range lags {
		if l.Target == "bare-proxy" {
			bare = l.FirstByte
		}
	}
	for _, l := range lags {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %d | %d |\n", text, l.Target, l.Requests, l.Bytes,
			ms(l.FirstByte), delta2(l.FirstByte, bare, !isRampart(l.Target)), ms(l.Median), ms(l.P90), ms(l.P99), ms(l.Max), l.Truncated, l.Altered)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func delta2(a, b time.Duration, skip bool) string {
	if skip || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%+.1f ms", float64(a-b)/float64(time.Millisecond))
}
