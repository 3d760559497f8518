package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type want struct {
	name    string
	data    string
	hasData bool
}

func readAll(t testing.TB, r *Reader) ([]want, error) {
	var out []want
	for {
		ev, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, want{ev.Name, string(ev.Data), ev.HasData})
	}
}

var cases = []struct {
	name string
	in   string
	want []want
}{
	{"lf", "data: a\n\ndata: b\n\n", []want{{"", "a", true}, {"", "b", true}}},
	{"crlf", "event: x\r\ndata: a\r\n\r\n", []want{{"x", "a", true}}},
	{"bare cr", "data: a\rdata: b\r\rdata: c\n\n", []want{{"", "a\nb", true}, {"", "c", true}}},
	{"multiline", "data: one\ndata: two\ndata:three\n\n", []want{{"", "one\ntwo\nthree", true}}},
	{"comment only", ": ping\n\ndata: x\n\n", []want{{"", "", false}, {"", "x", true}}},
	{"done", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []want{{"", `{"a":1}`, true}, {"", "[DONE]", true}}},
	{"anthropic", "event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
		[]want{{"message_start", "{}", true}, {"message_stop", `{"type":"message_stop"}`, true}}},
	{"no trailing blank", "data: a\n\ndata: b", []want{{"", "a", true}, {"", "b", true}}},
	{"leading blanks", "\n\n\ndata: a\n\n", []want{{"", "a", true}}},
	{"empty data", "data:\n\n", []want{{"", "", true}}},
	{"field no colon", "data\n\n", []want{{"", "", true}}},
	{"id and retry kept raw", "id: 7\nretry: 10\ndata: z\n\n", []want{{"", "z", true}}},
	{"two spaces", "data:  x\n\n", []want{{"", " x", true}}},
	{"empty", "", nil},
}

func TestReader(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := readAll(t, NewReader(rd, 0))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("event %d: got %+v want %+v", i, got[i], tc.want[i])
					}
				}
			}
		})
	}
}

func TestRawPassThrough(t *testing.T) {
	in := ": keepalive\n\nevent: a\ndata: 1\n\ndata: 2\ndata: 3\n\n"
	r := NewReader(strings.NewReader(in), 0)
	var out bytes.Buffer
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out.Write(ev.Raw)
	}
	if out.String() != in {
		t.Fatalf("raw %q != %q", out.String(), in)
	}
}

func TestLimit(t *testing.T) {
	long := "data: " + strings.Repeat("x", 5000) + "\n\n"
	r := NewReader(strings.NewReader("data: ok\n\n"+long), 1024)
	ev, err := r.Next()
	if err != nil || string(ev.Data) != "ok" {
		t.Fatalf("first: %v %q", err, ev.Data)
	}
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("want ErrEventTooLarge, got %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("error must stick, got %v", err)
	}
	// Many short lines that add up past the limit.
	many := strings.Repeat("data: abcdefgh\n", 200) + "\n"
	if _, err := NewReader(strings.NewReader(many), 1024).Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("many lines: want ErrEventTooLarge, got %v", err)
	}
	// A newline-free stream never grows past the limit.
	endless := io.LimitReader(repeatReader('a'), 10<<20)
	if _, err := NewReader(endless, 4096).Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("endless line: want ErrEventTooLarge, got %v", err)
	}
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)), 0)
	if ev, err := r.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
}

func TestIsDone(t *testing.T) {
	r := NewReader(strings.NewReader("data: [DONE]\n\ndata: [DONE]x\n\n"), 0)
	a, _ := r.Next()
	if !a.IsDone() {
		t.Fatal("want done")
	}
	b, _ := r.Next()
	if b.IsDone() {
		t.Fatal("not done")
	}
}

func TestAppendEventRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"", "x"}, {"ev", "a\nb"}, {"", "a\r\nb\rc"}, {"", ""}, {"n\nm", "z"},
	} {
		b := AppendEvent(nil, tc.name, []byte(tc.data))
		ev, err := NewReader(bytes.NewReader(b), 0).Next()
		if err != nil {
			t.Fatal(err)
		}
		wantData := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(tc.data)
		wantName := strings.NewReplacer("\n", "", "\r", "").Replace(tc.name)
		if ev.Name != wantName || string(ev.Data) != wantData || !ev.HasData {
			t.Errorf("%q/%q -> %q: got %q/%q", tc.name, tc.data, b, ev.Name, ev.Data)
		}
	}
	var buf bytes.Buffer
	if err := WriteEvent(&buf, "e", []byte("d")); err != nil || buf.String() != "event: e\ndata: d\n\n" {
		t.Fatalf("%q %v", buf.String(), err)
	}
}

func FuzzReader(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 256
		r := NewReader(bytes.NewReader(in), max)
		for i := 0; ; i++ {
			ev, err := r.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrEventTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(ev.Raw) > max || len(ev.Data) > max {
				t.Fatalf("event exceeds limit: raw %d data %d", len(ev.Raw), len(ev.Data))
			}
			if i > len(in) {
				t.Fatal("more events than input bytes")
			}
			// Re-encoding and parsing again gives the same event.
			if ev.HasData {
				b := AppendEvent(nil, ev.Name, ev.Data)
				ev2, err := NewReader(bytes.NewReader(b), 0).Next()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ev2.Data, ev.Data) || (ev2.Name != strings.NewReplacer("\n", "", "\r", "").Replace(ev.Name)) {
					t.Fatalf("round trip: %q/%q -> %q/%q", ev.Name, ev.Data, ev2.Name, ev2.Data)
				}
			}
		}
	})
}

func BenchmarkReader(b *testing.B) {
	var in bytes.Buffer
	for i := 0; i < 100; i++ {
		in.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n")
	}
	data := in.Bytes()
	r := NewReader(bytes.NewReader(data), 0)
	src := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(data)
		r.Reset(src)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

func TestHasBufferedEvent(t *testing.T) {
	r := NewReader(strings.NewReader("data: a\n\ndata: b\n\ndata: c"), 0)
	if r.HasBufferedEvent() {
		t.Fatal("nothing read yet")
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if !r.HasBufferedEvent() {
		t.Fatal("b is buffered")
	}
	r.Next()
	if r.HasBufferedEvent() {
		t.Fatal("c is incomplete")
	}
}
