package gateway

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider"
)

// geminiKey moves the client's key from the "key" query parameter (which
// Google's REST examples use) into the x-goog-api-key header that the
// identity layer reads, and removes it from the URL, so that the key is
// neither forwarded upstream nor found in a logged URL. A key given twice
// (two parameters, or parameter and header differing) is refused 401.
// It reports false when it answered the client.
func (g *Gateway) geminiKey(w http.ResponseWriter, r *http.Request, a provider.Adapter) bool {
	if !strings.Contains(r.URL.RawQuery, "key") {
		return true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		g.fail(w, a, http.StatusBadRequest, engine.CodeInvalidRequest, "the query string is malformed")
		return false
	}
	keys, ok := q["key"]
	if !ok {
		return true
	}
	hdr := r.Header.Values("X-Goog-Api-Key")
	if len(keys) != 1 || len(hdr) > 1 ||
		(len(hdr) == 1 && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(hdr[0])), []byte(keys[0])) != 1) {
		g.fail(w, a, http.StatusUnauthorized, "invalid_api_key", "send one API key: the key parameter and the x-goog-api-key header differ or repeat")
		return false
	}
	delete(q, "key")
	r.Header.Set("X-Goog-Api-Key", keys[0])
	r.URL.RawQuery = q.Encode()
	r.RequestURI = ""
	return true
}

// geminiTarget is the upstream URL of a Gemini call: the base URL (e.g.
// https://generativelanguage.googleapis.com/v1beta), /models/<model>:<method>
// with the upstream's alias of the model, and "alt=sse" for streams (the
// engine reads the SSE form; a client that asked for the JSON-array form
// gets it from the engine). The client's query string is not forwarded.
func (u *upstream) geminiTarget(tx *engine.Tx, model string) string {
	if alias, ok := u.aliases[model]; ok && alias != "" {
		model = alias
	}
	method := ":generateContent"
	q := url.Values{}
	if tx.Route == geminiStream {
		method = ":streamGenerateContent"
		q.Set("alt", "sse")
	}
	for k, v := range u.query {
		q[k] = v
	}
	t := u.base + "/models/" + url.PathEscape(model) + method
	if len(q) > 0 {
		t += "?" + q.Encode()
	}
	return t
}

// geminiArrayStream reports whether a streamGenerateContent client asked
// for the JSON-array form (no alt=sse): the engine then sends the events
// it reads (as SSE) from the upstream as the elements of one JSON array.
func geminiArrayStream(r *http.Request) bool {
	return !strings.EqualFold(r.URL.Query().Get("alt"), "sse")
}
