package grader

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a progress bar: redrawn in place on a terminal, one line
// per submission otherwise (logs, CI).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	total int
	n     int
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) done(r Result) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	rate := float64(p.n) / time.Since(p.start).Seconds()
	const width = 30
	fill := width * p.n / max(p.total, 1)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	what := fmt.Sprintf("%s %s/%s", termSafe(r.Student), pyNum(r.Total), pyNum(r.Max))
	if r.Cached {
		what += " (cached)"
	}
	if r.Error != "" {
		what += " (not graded)"
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r[%s] %d/%d %.1f/s %-30.30s", bar, p.n, p.total, rate, what)
		return
	}
	fmt.Fprintf(p.w, "[%s] %d/%d %.1f/s %s\n", bar, p.n, p.total, rate, what)
}

func (p *progress) finish() {
	if p.w == nil {
		return
	}
	if p.tty && p.n > 0 {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintf(p.w, "graded %d submissions in %.1fs\n", p.n, time.Since(p.start).Seconds())
}
