package multiprocessing

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/goproc/goproc/kernel/outband"
)

// Output of child processes. Each child writes to its own stdout and stderr
// pipes; a forwarder per pipe parses the stream (text and outband frames),
// cuts the text into whole lines and writes them to this process's fd 1 or
// fd 2 under one process-wide lock. So lines of different children never mix,
// a line is never split (a trailing partial line is written at EOF or when
// the child finishes a task), and the engine, which captures its own fds,
// sees children's output live in the running cell.

// outputMu serialises every write of forwarded output in this process.
var outputMu sync.Mutex

// pipeBuf is the size up to which a pipe write is atomic (PIPE_BUF): writes
// are cut at line ends into pieces no larger, so that a writer that does not
// take outputMu (the engine itself) cannot land inside a line.
const pipeBuf = 4096

// maxPartialLine bounds how much of a line without newline is held back.
const maxPartialLine = 1 << 20

// forwarder copies one child pipe to one of this process's output files.
type forwarder struct {
	src   *os.File
	dst   *os.File
	demux outband.Demux
	lines outband.Lines

	reads, handled atomic.Uint64 // for drained(): reads returned / processed
	frames         bool          // stderr: say where a panic's frames are (describeFrames)

	mu     sync.Mutex
	cond   *sync.Cond
	marker uint64 // last task marker seen
	eof    bool
}

func newForwarder(src, dst *os.File, frames bool) *forwarder {
	f := &forwarder{src: src, dst: dst, frames: frames}
	f.cond = sync.NewCond(&f.mu)
	f.demux.H = f
	go f.run()
	return f
}

// forwardBuffers recycles the forwarders' read buffers: two per child, as
// large as a pipe's capacity, would otherwise be garbage after every
// Process.
var forwardBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func (f *forwarder) run() {
	bp := forwardBuffers.Get().(*[]byte)
	defer forwardBuffers.Put(bp)
	buf := *bp
	for {
		n, err := f.src.Read(buf)
		f.reads.Add(1)
		if n > 0 {
			f.demux.Write(buf[:n])
		}
		f.handled.Add(1)
		if err != nil {
			break
		}
	}
	f.flushPartial()
	f.src.Close()
	f.mu.Lock()
	f.eof = true
	f.cond.Broadcast()
	f.mu.Unlock()
}

// Text implements outband.Handler.
func (f *forwarder) Text(p []byte) {
	if out := f.lines.Add(p); len(out) > 0 {
		if f.frames && bytes.Contains(out, []byte(": panic: ")) {
			out = describeFrames(out)
		}
		writeLines(f.dst, out)
	}
	if f.lines.Len() > maxPartialLine {
		f.flushPartial()
	}
}

// Frame implements outband.Handler.
func (f *forwarder) Frame(kind byte, payload []byte) {
	f.flushPartial()
	if kind == markerKind {
		seq, _ := strconv.ParseUint(string(payload), 10, 64)
		f.mu.Lock()
		f.marker = seq
		f.cond.Broadcast()
		f.mu.Unlock()
		return
	}
	frame := outband.Encode(kind, payload)
	outputMu.Lock()
	f.dst.Write(frame)
	outputMu.Unlock()
}

func (f *forwarder) flushPartial() {
	if rest := f.lines.Flush(); len(rest) > 0 {
		writeLines(f.dst, rest)
	}
}

// frameDescriber is implemented by a Host that can say where an
// interpreted frame a child printed ("300002:5: panic: main.f(...)") is in
// the notebook.
type frameDescriber interface {
	DescribeFrame(line string) string
}

// describeFrames rewrites the frame lines of a child's traceback (indented,
// see recovered.frameText) with where they are in the notebook.
func describeFrames(text []byte) []byte {
	d, ok := currentHost().(frameDescriber)
	if !ok {
		return text
	}
	lines := strings.SplitAfter(string(text), "\n")
	for i, l := range lines {
		body := strings.TrimLeft(l, " ")
		if indent := len(l) - len(body); indent > 0 && strings.Contains(body, ": panic: ") {
			nl := ""
			if strings.HasSuffix(body, "\n") {
				body, nl = body[:len(body)-1], "\n"
			}
			lines[i] = l[:indent] + d.DescribeFrame(body) + nl
		}
	}
	return []byte(strings.Join(lines, ""))
}

// writeLines writes whole lines in pieces of at most pipeBuf bytes, cut at
// line ends (a single longer line is written in one call).
func writeLines(dst *os.File, p []byte) {
	outputMu.Lock()
	defer outputMu.Unlock()
	for len(p) > 0 {
		n := len(p)
		if n > pipeBuf {
			if i := bytes.LastIndexByte(p[:pipeBuf], '\n'); i >= 0 {
				n = i + 1
			} else if j := bytes.IndexByte(p, '\n'); j >= 0 {
				n = j + 1
			}
		}
		if _, err := dst.Write(p[:n]); err != nil {
			return
		}
		p = p[n:]
	}
}

// waitMarker waits until the marker seq (or EOF) has been seen.
func (f *forwarder) waitMarker(seq uint64) {
	f.mu.Lock()
	for f.marker < seq && !f.eof {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

func (f *forwarder) atEOF() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eof
}

// waitDrained is called after the child exited: it returns at EOF, or, if
// something else still holds the pipe's write end (a command the child
// started with its stdout), once the pipe is empty and everything read has
// been written — all the child itself wrote has then been forwarded.
func (f *forwarder) waitDrained() {
	done := make(chan struct{})
	go func() {
		f.mu.Lock()
		for !f.eof {
			f.cond.Wait()
		}
		f.mu.Unlock()
		close(done)
	}()
	stable := 0
	var lastReads uint64
	for {
		select {
		case <-done:
			return
		case <-time.After(5 * time.Millisecond):
		}
		r, h := f.reads.Load(), f.handled.Load()
		if r == h && r == lastReads && pipeEmpty(f.src) {
			stable++
			if stable >= 3 {
				return
			}
		} else {
			stable = 0
		}
		lastReads = r
	}
}

// pipeEmpty reports whether no bytes are waiting in the pipe.
func pipeEmpty(f *os.File) bool {
	sc, err := f.SyscallConn()
	if err != nil {
		return true
	}
	var n int32
	var ioctlErr syscall.Errno
	sc.Control(func(fd uintptr) {
		_, _, ioctlErr = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	return ioctlErr != 0 || n == 0
}
