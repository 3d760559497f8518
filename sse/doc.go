// Package sse reads and writes server-sent events (the text/event-stream
// format of the WHATWG HTML standard) incrementally.
//
// Reader parses a stream one event at a time from an io.Reader: it never
// buffers more than one event, and an event (or a single line) larger than
// the configured limit is an error rather than unbounded growth. Lines end
// in "\n" or "\r\n"; a bare "\r" inside a line is also treated as a line end.
// Comment lines (": ping") and fields other than event/data are kept in the
// event's raw bytes, so a proxy can pass unchanged events through byte for
// byte, keep-alive comments included.
//
// AppendEvent and WriteEvent produce well-formed events: multi-line data is
// split over several "data:" lines, which a reader joins back with "\n".
package sse
