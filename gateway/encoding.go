package gateway

import (
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/provider"
)

// supportedEncodings is what the gateway decodes (Accept-Encoding of a 415).
const supportedEncodings = "gzip, deflate"

// decodeRequest makes a request body with a Content-Encoding plain before
// anything inspects it, so that the layers scan what the upstream will
// read: gzip and deflate (zlib) are decoded (lazily, when the engine reads
// the body, which is after authentication), everything else (br, zstd,
// compress, several encodings) is refused with 415. The compressed input is
// bounded by the body limit and the decoded output by the engine's (or
// /v1/scan's) own bound on what it reads, so a decompression bomb ends in
// a 413 after at most the limit's worth of output. The header is removed:
// the upstream gets the decoded body uncompressed and never an encoding the
// gateway did not inspect. It returns false after answering.
func (g *Gateway) decodeRequest(w http.ResponseWriter, r *http.Request, a provider.Adapter, limit int64) bool {
	vals := r.Header.Values("Content-Encoding")
	if len(vals) == 0 {
		return true
	}
	enc := strings.ToLower(strings.TrimSpace(strings.Join(vals, ",")))
	var open func(io.Reader) (io.ReadCloser, error)
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		open = func(rd io.Reader) (io.ReadCloser, error) { return gzip.NewReader(rd) }
	case "deflate":
		open = zlib.NewReader
	default:
		w.Header().Set("Accept-Encoding", supportedEncodings)
		g.fail(w, a, http.StatusUnsupportedMediaType, "unsupported_content_encoding",
			"Content-Encoding "+strings.Join(vals, ", ")+" is not supported; send the body uncompressed or with "+supportedEncodings)
		return false
	}
	r.Header.Del("Content-Encoding")
	if open == nil || r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if limit <= 0 {
		limit = config.DefaultMaxBodyBytes
	}
	r.Body = &lazyDecoder{raw: http.MaxBytesReader(w, r.Body, limit), open: open}
	r.ContentLength = -1
	r.Header.Del("Content-Length")
	return true
}

// lazyDecoder opens its decompressor at the first Read (a gzip reader
// reads its header at once, which must wait until the caller is
// authenticated).
type lazyDecoder struct {
	raw  io.ReadCloser
	open func(io.Reader) (io.ReadCloser, error)
	dec  io.ReadCloser
	err  error
}

func (d *lazyDecoder) Read(p []byte) (int, error) {
	if d.dec == nil && d.err == nil {
		d.dec, d.err = d.open(d.raw)
	}
	if d.err != nil {
		return 0, d.err
	}
	return d.dec.Read(p)
}

func (d *lazyDecoder) Close() error {
	if d.dec != nil {
		d.dec.Close()
	}
	return d.raw.Close()
}
