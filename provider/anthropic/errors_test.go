package anthropic

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
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
		{400, "invalid_request_error"}, {401, "authentication_error"}, {402, "billing_error"},
		{403, "permission_error"}, {404, "not_found_error"}, {413, "request_too_large"},
		{422, "output_blocked"}, {429, "rate_limit_error"}, {500, "api_error"},
		{502, "api_error"}, {503, "overloaded_error"}, {504, "timeout_error"}, {529, "overloaded_error"},
	}
	for _, tc := range cases {
		b := a.ErrorBody(tc.status, "invalid_type", `bad "x" <y>`, "messages")
		want := `{"type":"error","error":{"type":"` + tc.typ + `","message":"bad \"x\" <y>","code":"invalid_type","param":"messages"}}`
		if string(b) != want {
			t.Fatalf("%d: got %s\nwant %s", tc.status, b, want)
		}
	}
	if b := string(a.ErrorBody(401, "", "no key", "")); b != `{"type":"error","error":{"type":"authentication_error","message":"no key"}}` {
		t.Fatal(b)
	}
}

func newClient(url string) sdk.Client {
	return sdk.NewClient(option.WithBaseURL(url), option.WithAPIKey("test"), option.WithMaxRetries(0))
}

var params = sdk.MessageNewParams{
	Model:     "claude-sonnet-4-5",
	MaxTokens: 64,
	Messages:  []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock("hi"))},
}

func TestErrorBodySDK(t *testing.T) {
	a := New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		_, _ = w.Write(a.ErrorBody(403, "blocked_by_policy", "request blocked by policy", ""))
	}))
	defer srv.Close()
	c := newClient(srv.URL)
	_, err := c.Messages.New(context.Background(), params)
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if apiErr.StatusCode != 403 || apiErr.Type() != "permission_error" || gjson.Get(apiErr.RawJSON(), "error.code").Str != "blocked_by_policy" ||
		!strings.Contains(err.Error(), "request blocked by policy") {
		t.Fatalf("SDK read %d %q %s", apiErr.StatusCode, apiErr.Type(), apiErr.RawJSON())
	}
}

// streamServer replays the fixture through the adapter with modify applied,
// writing tail before the event at index stopAt (or at the end).
func streamServer(t *testing.T, stopAt int, modify func(ev *conv.StreamEvent), tail func(w http.ResponseWriter)) *httptest.Server {
	a := New()
	events := ptest.ReadSSE(t, "testdata/stream.sse")
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i, e := range events {
			if i == stopAt {
				tail(w)
			}
			var ev conv.StreamEvent
			if err := a.ParseStreamEvent(e.Name, e.Data, &ev); err != nil {
				t.Error(err)
				return
			}
			modify(&ev)
			out, err := a.EncodeStreamEvent(&ev)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = w.Write(append(append([]byte("event: "+ev.Name+"\ndata: "), out...), "\n\n"...))
		}
	}))
}

// TestStreamSDK holds "!" back and releases it in a synthetic event before
// the text block's content_block_stop (event 5), then drops the tool call.
func TestStreamSDK(t *testing.T) {
	a := New()
	srv := streamServer(t, 5, func(ev *conv.StreamEvent) {
		for i := range ev.Deltas {
			if ev.Deltas[i].Text == "!" {
				ev.Deltas[i].Text = ""
			}
		}
		for i := range ev.ToolCalls {
			ev.ToolCalls[i].Drop = true
		}
	}, func(w http.ResponseWriter) {
		ev := conv.StreamEvent{Synthetic: true, Deltas: []conv.Delta{conv.NewDelta(0, "!!", "")},
			Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}`)}
		out, err := a.EncodeStreamEvent(&ev)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write(append(append([]byte("event: "+ev.Name+"\ndata: "), out...), "\n\n"...))
	})
	defer srv.Close()
	c := newClient(srv.URL)
	stream := c.Messages.NewStreaming(context.Background(), params)
	msg := sdk.Message{}
	for stream.Next() {
		if err := msg.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 2 || msg.Content[0].Text != "Hello!!" || msg.Content[1].Type != "text" || msg.Content[1].Text != "" ||
		msg.StopReason != "tool_use" || msg.Usage.OutputTokens != 15 {
		t.Fatalf("accumulated %+v", msg)
	}
}

// TestStreamErrorEventSDK checks that StreamErrorEvent ends the SDK's stream
// with an error carrying the message.
func TestStreamErrorEventSDK(t *testing.T) {
	a := New()
	ev := a.StreamErrorEvent("blocked_by_policy", "response blocked: secret detected")
	want := `event: error` + "\n" + `data: {"type":"error","error":{"type":"api_error","message":"response blocked: secret detected","code":"blocked_by_policy"}}` + "\n\n"
	if string(ev) != want {
		t.Fatalf("got %q", ev)
	}
	srv := streamServer(t, 4, func(*conv.StreamEvent) {}, func(w http.ResponseWriter) {
		_, _ = w.Write(ev)
	})
	defer srv.Close()
	c := newClient(srv.URL)
	stream := c.Messages.NewStreaming(context.Background(), params)
	n := 0
	for stream.Next() {
		n++
	}
	err := stream.Err()
	if err == nil || !strings.Contains(err.Error(), "response blocked: secret detected") {
		t.Fatalf("after %d events err = %v, want the stream error", n, err)
	}
	if n != 3 { // message_start, content_block_start, one text delta (ping is skipped)
		t.Fatalf("%d events before the error", n)
	}
}
