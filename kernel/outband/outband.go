// Package outband embeds control frames in an output stream. The engine and
// every process it starts write displays, clear_output requests and end-of-cell
// markers into the same stdout pipe as printed text, so the reader sees them in
// exactly the order they were produced. A frame is
//
//	"\x00\x1bgoproc\x1f" kind(1 byte) length(8 hex digits) payload
//
// which ordinary program output does not contain.
package outband

import (
	"bytes"
	"fmt"
	"strconv"
)

// Frame kinds.
const (
	KindEnd     = 'E' // end of a cell; payload is the cell's sequence number
	KindDisplay = 'D' // display_data / update_display_data; payload is JSON (language.Display)
	KindClear   = 'C' // clear_output; payload is "wait" or ""
	KindInput   = 'I' // the engine asks for input next; payload is the request's id
)

const magic = "\x00\x1bgoproc\x1f"

const headerLen = len(magic) + 1 + 8

// Encode returns the bytes of one frame.
func Encode(kind byte, payload []byte) []byte {
	b := make([]byte, 0, headerLen+len(payload))
	b = append(b, magic...)
	b = append(b, kind)
	b = append(b, fmt.Sprintf("%08x", len(payload))...)
	return append(b, payload...)
}

// Handler receives what a Demux parses.
type Handler interface {
	// Text is ordinary output, never containing a frame.
	Text(p []byte)
	// Frame is one control frame.
	Frame(kind byte, payload []byte)
}

// Demux splits a byte stream into text and frames. Frames may arrive split
// across any number of writes. It is not safe for concurrent use.
type Demux struct {
	H Handler
	// MaxFrame is the largest payload a frame may announce (0:
	// DefaultMaxFrame). A header announcing more is not a frame: its bytes
	// pass as text, so a program cannot hold back output, unseen and
	// uncounted, in a frame that never ends.
	MaxFrame int
	pending  []byte
}

// DefaultMaxFrame is MaxFrame's default.
const DefaultMaxFrame = 64 << 20

// Write parses p. It never fails.
func (d *Demux) Write(p []byte) (int, error) {
	n := len(p)
	if len(d.pending) > 0 {
		d.pending = append(d.pending, p...)
		p = d.pending
		d.pending = nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, 0)
		if i < 0 {
			d.H.Text(p)
			return n, nil
		}
		if i > 0 {
			d.H.Text(p[:i])
			p = p[i:]
		}
		// p starts with NUL: a frame, the start of one, or a stray NUL.
		m := min(len(p), len(magic))
		if string(p[:m]) != magic[:m] {
			d.H.Text(p[:1])
			p = p[1:]
			continue
		}
		if len(p) < headerLen {
			d.pending = append([]byte(nil), p...)
			return n, nil
		}
		size, err := strconv.ParseUint(string(p[len(magic)+1:headerLen]), 16, 32)
		maxFrame := d.MaxFrame
		if maxFrame <= 0 {
			maxFrame = DefaultMaxFrame
		}
		if err != nil || size > uint64(maxFrame) {
			d.H.Text(p[:1])
			p = p[1:]
			continue
		}
		if len(p) < headerLen+int(size) {
			d.pending = append([]byte(nil), p...)
			return n, nil
		}
		d.H.Frame(p[len(magic)], p[headerLen:headerLen+int(size)])
		p = p[headerLen+int(size):]
	}
	return n, nil
}

// Pending reports whether a partial frame is buffered.
func (d *Demux) Pending() bool { return len(d.pending) > 0 }

// Lines buffers text and releases it in whole lines.
type Lines struct {
	buf []byte
}

// Add appends p and returns the complete lines now available (possibly
// empty). The returned slice is valid until the next call.
func (l *Lines) Add(p []byte) []byte {
	j := bytes.LastIndexByte(p, '\n') // only the new bytes can hold a newline
	l.buf = append(l.buf, p...)
	if j < 0 {
		return nil
	}
	i := len(l.buf) - len(p) + j
	out := append([]byte(nil), l.buf[:i+1]...)
	l.buf = append(l.buf[:0], l.buf[i+1:]...)
	return out
}

// Flush returns and clears any partial line.
func (l *Lines) Flush() []byte {
	if len(l.buf) == 0 {
		return nil
	}
	out := append([]byte(nil), l.buf...)
	l.buf = l.buf[:0]
	return out
}

// Len is the number of buffered bytes.
func (l *Lines) Len() int { return len(l.buf) }
