package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventBytes bounds one event (all its lines) when no limit is given.
const DefaultMaxEventBytes = 1 << 20

// ErrEventTooLarge is returned (wrapped) when a line or an event exceeds the
// reader's limit.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one parsed block of the stream, ended by a blank line.
type Event struct {
	// Name is the value of the last "event:" field ("" when absent).
	Name string
	// Data is the value of the "data:" fields joined with "\n".
	Data []byte
	// HasData is true when the block had at least one "data:" field. A
	// block without one (only comments or other fields) is not dispatched
	// as an event by browsers; a proxy passes its Raw bytes through.
	HasData bool
	// Raw is the block exactly as read, terminating blank line included.
	Raw []byte
}

// IsDone reports whether the event is OpenAI's terminal "data: [DONE]".
func (e *Event) IsDone() bool { return e.HasData && bytes.Equal(e.Data, doneData) }

var doneData = []byte("[DONE]")

// Reader parses events from an underlying reader. Event.Data and Event.Raw
// alias internal buffers that are valid only until the next call to Next.
type Reader struct {
	br      *bufio.Reader
	max     int
	raw     []byte
	data    []byte
	line    []byte
	pending [][]byte // lines split off at a bare '\r', still to process
	name    string   // last event name, reused to avoid an allocation per event
	err     error
}

// NewReader returns a Reader over r that rejects events larger than
// maxEventBytes (DefaultMaxEventBytes when <= 0).
func NewReader(r io.Reader, maxEventBytes int) *Reader {
	if maxEventBytes <= 0 {
		maxEventBytes = DefaultMaxEventBytes
	}
	size := 16 << 10
	if size > maxEventBytes {
		size = maxEventBytes
	}
	if size < 16 {
		size = 16
	}
	return &Reader{br: bufio.NewReaderSize(r, size), max: maxEventBytes}
}

// Reset makes the reader read from r, keeping its buffers.
func (r *Reader) Reset(src io.Reader) {
	r.br.Reset(src)
	r.raw, r.data, r.line, r.pending, r.err = r.raw[:0], r.data[:0], r.line[:0], r.pending[:0], nil
}

// Next returns the next block. At the end of the stream it returns io.EOF;
// an unterminated last block (no blank line after it) is returned first,
// then io.EOF. Any other error is returned as is, and again on later calls.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	r.raw = r.raw[:0]
	r.data = r.data[:0]
	ev := Event{}
	for {
		line, err := r.readLine()
		if err != nil {
			r.err = err
			if err == io.EOF && len(r.raw) > 0 {
				ev.Data, ev.Raw = r.data, r.raw
				return ev, nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if len(r.raw) == 0 {
				continue // blank lines between events
			}
			r.raw = append(r.raw, '\n')
			if len(r.raw) > r.max {
				return r.fail()
			}
			ev.Data, ev.Raw = r.data, r.raw
			return ev, nil
		}
		if len(r.raw)+len(line)+1 > r.max {
			return r.fail()
		}
		r.raw = append(r.raw, line...)
		r.raw = append(r.raw, '\n')
		if line[0] == ':' {
			continue // comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if ev.HasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			ev.HasData = true
		case "event":
			if string(value) != r.name {
				r.name = string(value)
			}
			ev.Name = r.name
		}
	}
}

// HasBufferedEvent reports whether a complete event is already buffered, so
// that the next call to Next returns without reading from the source. A
// relay can use it to flush its writes only when it would otherwise wait.
func (r *Reader) HasBufferedEvent() bool {
	if len(r.pending) > 0 {
		return true
	}
	n := r.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.br.Peek(n)
	return bytes.Contains(b, lf2) || bytes.Contains(b, crlf2) || bytes.Contains(b, cr2)
}

var (
	lf2   = []byte("\n\n")
	crlf2 = []byte("\r\n\r\n")
	cr2   = []byte("\r\r")
)

func (r *Reader) fail() (Event, error) {
	r.err = fmt.Errorf("%w (limit %d bytes)", ErrEventTooLarge, r.max)
	return Event{}, r.err
}

// readLine returns the next line without its terminator, or io.EOF when the
// input is exhausted. The slice is valid until the next call.
func (r *Reader) readLine() ([]byte, error) {
	if len(r.pending) > 0 {
		l := r.pending[0]
		r.pending = r.pending[1:]
		return l, nil
	}
	r.line = r.line[:0]
	var line []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(r.line)+len(frag)+len(r.raw) > r.max {
				return nil, fmt.Errorf("%w (limit %d bytes)", ErrEventTooLarge, r.max)
			}
			r.line = append(r.line, frag...)
			continue
		}
		if err != nil && (err != io.EOF || len(frag)+len(r.line) == 0) {
			return nil, err
		}
		// A complete line, or an unterminated last line at EOF.
		if len(r.line) == 0 {
			line = frag
		} else {
			r.line = append(r.line, frag...)
			line = r.line
		}
		break
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if bytes.IndexByte(line, '\r') >= 0 {
		parts := bytes.Split(line, []byte{'\r'})
		r.pending = append(r.pending[:0], parts[1:]...)
		line = parts[0]
	}
	return line, nil
}
