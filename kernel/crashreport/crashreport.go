// Package crashreport reads what the Go runtime writes as a process
// crashes. The engine and multiprocessing workers point their fd 2 at a
// pipe their parent reads with Read: a stack overflow's report is hundreds
// of lines of the interpreter's own stacks, of which a notebook needs the
// one line that says what happened (Reason).
package crashreport

import (
	"os"
	"strings"
	"sync"
	"time"
)

// keep is how much of a report is kept: the reason is near its start.
const keep = 16 << 10

// Report is the start of what a process wrote to its crash pipe.
type Report struct {
	mu   sync.Mutex
	b    []byte
	done chan struct{} // closed at EOF: the process and its crash pipe are gone
}

// Read reads r, the parent's end of a crash pipe, in the background until
// EOF, keeping the first 16 KiB.
func Read(r *os.File) *Report {
	rep := &Report{done: make(chan struct{})}
	go func() {
		defer close(rep.done)
		defer r.Close()
		buf := make([]byte, keep)
		for {
			n, err := r.Read(buf)
			rep.mu.Lock()
			if room := keep - len(rep.b); room > 0 && n > 0 {
				rep.b = append(rep.b, buf[:min(n, room)]...)
			}
			rep.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return rep
}

// Wait waits until the report has been read to EOF, or for d.
func (r *Report) Wait(d time.Duration) {
	select {
	case <-r.done:
	case <-time.After(d):
	}
}

// String is the report as read so far.
func (r *Report) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.b)
}

// IsCrashLine reports whether line is the Go runtime's own account of a
// crash.
func IsCrashLine(line string) bool {
	return strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "runtime: out of memory")
}

// Reason returns the first crash line of text (see IsCrashLine), or "".
// Go 1.23+ marks a panic that passed a recover "[recovered, repanicked]",
// as every panic in a goroutine yaegi started is; the notebook's author did
// not recover it, so the mark is dropped.
func Reason(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); IsCrashLine(line) {
			return strings.TrimSuffix(line, " [recovered, repanicked]")
		}
	}
	return ""
}
