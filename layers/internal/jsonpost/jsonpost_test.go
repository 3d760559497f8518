package jsonpost

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("Authorization") != "Bearer k" || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "headers", 400)
				return
			}
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		case "/slow":
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			http.Error(w, "no", 404)
		}
	}))
	defer srv.Close()
	c := &Client{HTTP: NewHTTPClient(50*time.Millisecond, 2), Endpoint: srv.URL, APIKey: "k", Timeout: 50 * time.Millisecond, MaxAnswer: 64, Prefix: "test"}
	ans, err := c.Post(context.Background(), "/ok", map[string]int{"a": 1})
	if err != nil || string(ans) != `{"a":1}` {
		t.Fatalf("%q %v", ans, err)
	}
	for path, kind := range map[string]string{"/slow": KindTimeout, "/big": KindMalformed, "/redirect": KindHTTP4xx,
		"/down": KindHTTP5xx, "/nothing": KindHTTP4xx} {
		_, err := c.Post(context.Background(), path, nil)
		if KindOf(err) != kind || !strings.HasPrefix(err.Error(), "test: "+kind) {
			t.Errorf("%s: %v, want %s", path, err, kind)
		}
	}
	if _, err := c.Post(context.Background(), "/ok", func() {}); KindOf(err) != KindMalformed {
		t.Errorf("unencodable body: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Post(ctx, "/ok", nil); KindOf(err) != KindCanceled {
		t.Errorf("cancelled: %v", err)
	}
	dead := &Client{HTTP: NewHTTPClient(time.Second, 1), Endpoint: "http://127.0.0.1:1", Timeout: time.Second, MaxAnswer: 64}
	if _, err := dead.Post(context.Background(), "/", nil); KindOf(err) != KindTransport {
		t.Errorf("refused: %v", err)
	}
}
