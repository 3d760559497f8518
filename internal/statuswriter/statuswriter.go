// Package statuswriter records the status an http.Handler answered with,
// for the code that wraps it (audit of admin actions, draining an
// oversized body after a 413).
package statuswriter

import "net/http"

// Writer wraps a ResponseWriter and remembers the first status written
// (200 for a Write without WriteHeader). Flush and Unwrap pass through, so
// streaming and http.ResponseController keep working.
type Writer struct {
	http.ResponseWriter
	// Status is the answer's status (0 before anything was written).
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (s *Writer) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (s *Writer) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (s *Writer) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (s *Writer) Unwrap() http.ResponseWriter { return s.ResponseWriter }
