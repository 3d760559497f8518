package sse

import (
	"bytes"
	"io"
)

// Done is OpenAI's terminal event.
var Done = []byte("data: [DONE]\n\n")

// AppendEvent appends one well-formed event to dst: an "event:" line when
// name is not empty, one "data:" line per line of data ("\n", "\r\n" or "\r"
// separated), and the terminating blank line. Newlines in name are dropped.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		for i := 0; i < len(name); i++ {
			if c := name[i]; c != '\n' && c != '\r' {
				dst = append(dst, c)
			}
		}
		dst = append(dst, '\n')
	}
	for {
		i := bytes.IndexAny(data, "\r\n")
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}

// WriteEvent writes one event to w (see AppendEvent).
func WriteEvent(w io.Writer, name string, data []byte) error {
	var buf [512]byte
	_, err := w.Write(AppendEvent(buf[:0], name, data))
	return err
}
