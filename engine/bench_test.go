package engine

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// discardWriter is a minimal ResponseWriter so that benchmarks measure the
// engine, not httptest.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) Flush()                      {}

type staticUpstream struct {
	ctype string
	body  []byte
}

type nopBody struct{ *bytes.Reader }

func (nopBody) Close() error { return nil }

func (s *staticUpstream) RoundTrip(tx *Tx, r *http.Request, body []byte) (*http.Response, error) {
	h := http.Header{"Content-Type": {s.ctype}}
	return &http.Response{StatusCode: 200, Header: h, Body: nopBody{bytes.NewReader(s.body)}, ContentLength: int64(len(s.body))}, nil
}

func benchBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"model":"bench-model","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"`)
	for b.Len() < 2000 {
		b.WriteString("I am planning a trip to Europe next spring and would like some advice. ")
	}
	b.WriteString(`"}]}`)
	return b.Bytes()
}

func benchServe(b *testing.B, e *Engine, up Upstream, body []byte) {
	h := e.Handler(chatRoute, up)
	w := &discardWriter{h: http.Header{}}
	rd := bytes.NewReader(body)
	r, _ := http.NewRequest(http.MethodPost, chatRoute.Path, io.NopCloser(rd))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rd.Reset(body)
		r.ContentLength = int64(len(body))
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkRequestNoLayers is the engine's own per-request cost for a
// non-streamed chat call: body read, MAC, parse, re-encode check, response
// parse, headers, record — with no layers.
func BenchmarkRequestNoLayers(b *testing.B) {
	e, _ := New(Options{Logger: quiet, ContentKey: testKey})
	benchServe(b, e, &staticUpstream{ctype: "application/json", body: []byte(chatResp)}, benchBody())
}

// BenchmarkRequestFiveLayers adds five allow-everything layers.
func BenchmarkRequestFiveLayers(b *testing.B) {
	var ls []Configured
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ls = append(ls, enforce(&testLayer{name: n}))
	}
	e, _ := New(Options{Logger: quiet, ContentKey: testKey, Layers: ls})
	benchServe(b, e, &staticUpstream{ctype: "application/json", body: []byte(chatResp)}, benchBody())
}

func streamOf(n int) []byte {
	words := make([]string, n)
	for i := range words {
		words[i] = "word "
	}
	return []byte(streamBody(words...))
}

// BenchmarkStreamEvent reports the cost per relayed stream event (100
// content events per stream), with no layers and with one stream layer.
func BenchmarkStreamEvent(b *testing.B) {
	const n = 100
	body := streamOf(n)
	for _, tc := range []struct {
		name   string
		layers []Configured
	}{
		{"NoLayers", nil},
		{"OneLayer", []Configured{enforce(&testLayer{name: "s"})}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e, _ := New(Options{Logger: quiet, ContentKey: testKey, Layers: tc.layers})
			req := []byte(strings.Replace(string(benchBody()), `{"model"`, `{"stream":true,"model"`, 1))
			h := e.Handler(chatRoute, &staticUpstream{ctype: "text/event-stream", body: body})
			w := &discardWriter{h: http.Header{}}
			rd := bytes.NewReader(req)
			r, _ := http.NewRequest(http.MethodPost, chatRoute.Path, io.NopCloser(rd))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rd.Reset(req)
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(n+2)), "ns/event")
		})
	}
}
