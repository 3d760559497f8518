package openai

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider/internal/ptest"
)

func TestErrorBody(t *testing.T) {
	a := New()
	cases := []struct {
		status int
		typ    string
	}{
		{400, "invalid_request_error"}, {401, "authentication_error"}, {403, "permission_error"},
		{404, "not_found_error"}, {413, "invalid_request_error"}, {422, "output_blocked"},
		{429, "rate_limit_exceeded"}, {500, "server_error"}, {502, "api_error"}, {503, "api_error"},
	}
	for _, tc := range cases {
		b := a.ErrorBody(tc.status, "invalid_type", `messages must be an "array" <x>`, "messages")
		want := `{"error":{"message":"messages must be an \"array\" <x>","type":"` + tc.typ + `","param":"messages","code":"invalid_type"}}`
		if string(b) != want {
			t.Fatalf("%d: got %s\nwant %s", tc.status, b, want)
		}
	}
	if b := string(a.ErrorBody(401, "", "no key", "")); b != `{"error":{"message":"no key","type":"authentication_error","param":null,"code":null}}` {
		t.Fatal(b)
	}
}

func newClient(url string) sdk.Client {
	return sdk.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("test"), option.WithMaxRetries(0))
}

var chatParams = sdk.ChatCompletionNewParams{
	Model:    "gpt-4o-mini",
	Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("hi")},
}

// TestErrorBodySDK checks that the official SDK reads ErrorBody.
func TestErrorBodySDK(t *testing.T) {
	a := New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		_, _ = w.Write(a.ErrorBody(403, "blocked_by_policy", "request blocked by policy", "messages"))
	}))
	defer srv.Close()
	c := newClient(srv.URL)
	_, err := c.Chat.Completions.New(context.Background(), chatParams)
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if apiErr.StatusCode != 403 || apiErr.Code != "blocked_by_policy" || apiErr.Message != "request blocked by policy" ||
		apiErr.Type != "permission_error" || apiErr.Param != "messages" {
		t.Fatalf("SDK read %+v", apiErr)
	}
}

// streamServer replays the fixture through the adapter, modifying text as
// the engine would, then writes tail.
func streamServer(t *testing.T, file string, modify func(ev *conv.StreamEvent), tail func(w http.ResponseWriter, last []byte)) *httptest.Server {
	a := New()
	events := ptest.ReadSSE(t, "testdata/"+file)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		var last []byte
		for _, e := range events {
			var ev conv.StreamEvent
			if err := a.ParseStreamEvent(e.Name, e.Data, &ev); err != nil {
				t.Error(err)
				return
			}
			if ev.Done {
				break
			}
			modify(&ev)
			out, err := a.EncodeStreamEvent(&ev)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = w.Write([]byte("data: " + string(out) + "\n\n"))
			last = e.Data
		}
		tail(w, last)
	}))
}

// TestStreamSDK runs a modified stream plus a synthetic flush event through
// the SDK and its accumulator.
func TestStreamSDK(t *testing.T) {
	a := New()
	srv := streamServer(t, "stream_chat.sse", func(ev *conv.StreamEvent) {
		for i := range ev.Deltas {
			if ev.Deltas[i].Text == " world" {
				ev.Deltas[i].Text = " wor" // "ld" held back
			}
		}
	}, func(w http.ResponseWriter, last []byte) {
		ev := conv.StreamEvent{Synthetic: true, Data: last, Deltas: []conv.Delta{conv.NewDelta(0, "ld", "")}}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write([]byte("data: " + string(out) + "\n\ndata: [DONE]\n\n"))
	})
	defer srv.Close()
	c := newClient(srv.URL)
	stream := c.Chat.Completions.NewStreaming(context.Background(), chatParams)
	acc := sdk.ChatCompletionAccumulator{}
	n := 0
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("accumulator refused chunk %d", n)
		}
		n++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 6 || acc.Choices[0].Message.Content != "Hello world" || acc.Usage.TotalTokens != 11 {
		t.Fatalf("chunks %d content %q usage %d", n, acc.Choices[0].Message.Content, acc.Usage.TotalTokens)
	}
}

// TestStreamErrorEventSDK checks that StreamErrorEvent ends the official
// SDK's stream with an error carrying the message.
func TestStreamErrorEventSDK(t *testing.T) {
	a := New()
	ev := a.StreamErrorEvent("blocked_by_policy", "response blocked: secret detected")
	if !strings.HasPrefix(string(ev), "event: error\ndata: ") || !strings.HasSuffix(string(ev), "\n\n") || strings.Count(string(ev), "\n") != 3 {
		t.Fatalf("malformed event %q", ev)
	}
	data := strings.TrimSuffix(strings.TrimPrefix(string(ev), "event: error\ndata: "), "\n\n")
	if gjson.Get(data, "error.code").Str != "blocked_by_policy" || gjson.Get(data, "error.type").Str != "server_error" {
		t.Fatalf("payload %s", data)
	}
	srv := streamServer(t, "stream_chat.sse", func(*conv.StreamEvent) {}, func(w http.ResponseWriter, _ []byte) {
		_, _ = w.Write(ev)
	})
	defer srv.Close()
	c := newClient(srv.URL)
	stream := c.Chat.Completions.NewStreaming(context.Background(), chatParams)
	n := 0
	for stream.Next() {
		n++
	}
	err := stream.Err()
	if err == nil || !strings.Contains(err.Error(), "response blocked: secret detected") {
		t.Fatalf("after %d chunks err = %v, want the stream error", n, err)
	}
	if n != 5 {
		t.Fatalf("%d chunks before the error, want 5", n)
	}
}
