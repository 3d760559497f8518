package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MockUpstream is a fast OpenAI-compatible upstream for load measurements:
// fixed answers, no model. It serves POST /v1/chat/completions (streamed
// when the body asks for "stream":true) and GET /v1/models.
type MockUpstream struct {
	// StreamEvents is the number of content chunks in a streamed answer
	// (ignored when PieceBytes is set: then the whole Text is sent).
	StreamEvents int
	// DigitTokens makes every streamed token carry a digit ("word7 "): the
	// worst case for output scanning, which holds back and rescans tokens
	// that may be part of a card or phone number. Default: English prose
	// cut into short tokens, as a model streams it.
	DigitTokens bool
	// Gap is the pause between streamed events (0: one burst). Events are
	// sent on a fixed schedule (event i at i×Gap after the headers), so
	// sleep overshoot does not accumulate.
	Gap time.Duration
	// PieceBytes, when set, streams the whole answer text (Text, default
	// ProseText) cut into pieces of this many bytes, one per event: with
	// Gap = 20ms and PieceBytes = 4 that is a model's pace (≈ 50 tokens/s).
	PieceBytes int
	// Text is the answer streamed with PieceBytes (default ProseText).
	Text string

	mu    sync.Mutex
	sends map[string][]Send // by request reference, see RefPrefix
}

// Send is when a paced mock wrote the answer bytes from Offset on. The last
// entry of a log marks the end: its Offset is the answer's length.
type Send struct {
	Offset int   `json:"offset"`
	At     int64 `json:"at"` // wall clock, Unix nanoseconds
}

// refRE finds a request's reference in its body: "[ref 0123456789abcdef]".
var refRE = regexp.MustCompile(`\[ref ([0-9a-f]{16})\]`)

// maxSends bounds the send logs a mock keeps for requests whose client has
// not fetched them.
const maxSends = 4096

// ProseText is a plain English answer with no digits.
const ProseText = "The capital of France is Paris. It has been the capital for centuries, " +
	"and it is known for its museums, its architecture and its food. Most visitors start with the Louvre, " +
	"walk along the Seine, and end the day in one of the small restaurants of the Marais. " +
	"If you have more time, take a train to the coast or to the castles of the Loire valley."

// NumbersText is an answer full of numbers: years, amounts, a phone number
// and order ids, each of which the output guard must hold back until it
// knows the run is not a card, an account or a secret.
const NumbersText = "Your order 48213 from 12 March 2024 was shipped on 14 March; the total was 129.90 EUR " +
	"including 21.50 EUR shipping. A second parcel, order 48377, left the warehouse in 2025 and weighs 3.2 kg. " +
	"If anything is missing, call our support line at +1 415 555 0132 between 9 and 17 o'clock, " +
	"or quote reference 7731-0042 when you write to us."

// proseTokens is a model-like answer cut into short tokens.
var proseTokens = strings.SplitAfter("The capital of France is Paris. It has been the capital for centuries, "+
	"and it is known for its museums, its architecture and its food. Most visitors start with the Louvre, "+
	"walk along the Seine, and end the day in one of the small restaurants of the Marais.", " ")

var mockCompletion = []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It has been the capital for centuries and is known for its museums, architecture and food."},"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":24,"total_tokens":66}}`)

func (m *MockUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/bench/sends/"):
		// The send log of one paced stream, once (it is deleted).
		ref := strings.TrimPrefix(r.URL.Path, "/bench/sends/")
		m.mu.Lock()
		log, ok := m.sends[ref]
		delete(m.sends, ref)
		m.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(log)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"bench-model","object":"model","created":0,"owned_by":"bench"}]}`)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if strings.Contains(string(body), `"stream":true`) {
			ref := ""
			if m.PieceBytes > 0 {
				if sm := refRE.FindSubmatch(body); sm != nil {
					ref = string(sm[1])
				}
			}
			m.stream(w, strings.Contains(string(body), `"include_usage":true`), ref)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(mockCompletion)
	default:
		http.NotFound(w, r)
	}
}

// pieces returns the content of each streamed event.
func (m *MockUpstream) pieces() []string {
	if m.PieceBytes > 0 {
		text := m.Text
		if text == "" {
			text = ProseText
		}
		var out []string
		for len(text) > 0 {
			n := min(m.PieceBytes, len(text))
			out = append(out, text[:n])
			text = text[n:]
		}
		return out
	}
	n := m.StreamEvents
	if n <= 0 {
		n = 20
	}
	out := make([]string, n)
	for i := range out {
		out[i] = proseTokens[i%len(proseTokens)]
		if m.DigitTokens {
			out[i] = "word" + strconv.Itoa(i) + " "
		}
	}
	return out
}

// stream sends the answer as server-sent events; with usage (the client
// asked for stream_options.include_usage), a usage-only chunk precedes
// [DONE], as OpenAI sends it.
func (m *MockUpstream) stream(w http.ResponseWriter, usage bool, ref string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	start := time.Now()
	var log []Send
	offset := 0
	defer func() {
		if ref == "" {
			return
		}
		m.mu.Lock()
		if m.sends == nil {
			m.sends = map[string][]Send{}
		}
		if len(m.sends) < maxSends {
			m.sends[ref] = log
		}
		m.mu.Unlock()
	}()
	for i, tok := range m.pieces() {
		if m.Gap > 0 && i > 0 {
			if d := time.Until(start.Add(time.Duration(i) * m.Gap)); d > 0 {
				time.Sleep(d)
			}
		}
		if ref != "" { // the moment before the piece is written
			log = append(log, Send{Offset: offset, At: time.Now().UnixNano()})
			offset += len(tok)
		}
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", tok)
		if fl != nil {
			fl.Flush()
		}
	}
	if ref != "" { // end marker: Offset is the answer's length
		log = append(log, Send{Offset: offset, At: time.Now().UnixNano()})
	}
	io.WriteString(w, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
	if usage {
		io.WriteString(w, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":420,\"completion_tokens\":20,\"total_tokens\":440}}\n\n")
	}
	io.WriteString(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}
