package ptest

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
)

// SegmentTexts lists the texts of c's segments in order.
func SegmentTexts(c *conv.Conversation) []string {
	var out []string
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { out = append(out, s.Text) })
	return out
}

// RequestRoundTrip is the request fuzz property the adapters share: body
// parses as kind or is refused with a 400; encoding the unchanged
// conversation gives body back (exact) or at least valid JSON; after every
// segment is changed (quotes, markup, U+2028 prepended) and change(c)
// changes more (nil: nothing), the encoded body re-parses to the new
// segment texts, and check(c, back, out) (nil: nothing) compares the rest.
func RequestRoundTrip(t *testing.T, a provider.Adapter, kind conv.Kind, body []byte, exact bool,
	change func(c *conv.Conversation), check func(c, back *conv.Conversation, out []byte)) {
	t.Helper()
	c, err := a.ParseRequest(body, kind)
	if err != nil {
		WantError(t, err, 400)
		return
	}
	out, err := a.EncodeRequest(body, c)
	if err != nil {
		t.Fatalf("unchanged encode: %v", err)
	}
	if exact && string(out) != string(body) || !gjson.ValidBytes(out) {
		t.Fatalf("unchanged encode changed the body: %s", out)
	}
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { s.Text = "\"<x>\u2028" + s.Text })
	want := SegmentTexts(c)
	if change != nil {
		change(c)
	}
	out, err = a.EncodeRequest(body, c)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, err := a.ParseRequest(out, kind)
	if err != nil {
		t.Fatalf("re-parse of %s: %v", out, err)
	}
	if check != nil {
		check(c, back, out)
	}
	got := SegmentTexts(back)
	if len(got) != len(want) {
		t.Fatalf("segments %d != %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("segment %d = %q, want %q", i, got[i], want[i])
		}
	}
}
