package netguard

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func BenchmarkResolve(b *testing.B) {
	r := NewResolver(mustSet(b, "10.0.0.0/8", "192.168.0.0/16"))
	xff := []string{"198.51.100.9, 192.168.1.1, 10.1.1.1"}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Resolve("10.0.0.2:80", xff)
	}
}

// BenchmarkPrefixSet: one lookup in a list of 10 000 prefixes.
func BenchmarkPrefixSet(b *testing.B) {
	var cidrs []string
	for i := 0; i < 10000; i++ {
		cidrs = append(cidrs, fmt.Sprintf("%d.%d.%d.0/24", 11+i/65536, (i/256)%256, i%256))
	}
	s := mustSet(b, cidrs...)
	a := netip.MustParseAddr("203.0.113.5")
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Contains(a)
	}
}

// BenchmarkHandler: the guard's cost per request (resolve, headers,
// deadline bookkeeping) around an empty handler, against no guard.
func BenchmarkHandler(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	h, err := Handler(next, Options{Resolver: NewResolver(mustSet(b, "10.0.0.0/8")), WriteTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", next}, {"guarded", h}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
			}
		})
	}
}
