package multiprocessing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Warm workers. Starting a worker costs an exec and a replay of the notebook
// (~15-20 ms), so the package keeps a few idle workers that have already
// replayed the Program (they catch up on new chunks incrementally) and hands
// them out on Start and NewPool. By default every Process gets a fresh OS
// process (its own pid and memory, as the assignment teaches), so a tight
// loop of Start+Join is bound by how fast workers start. With
// GOPROC_MP_REUSE=1 a worker whose Process target returned while leaving
// nothing running (no goroutine, no child process) goes back to the idle list
// and Start+Join costs a few IPC round trips; the price is that such a reused
// worker keeps its pid and any process-wide state its target changed outside
// the notebook's globals (working directory, environment, package state of
// compiled libraries); the notebook's globals are reset at every Start.
var spares struct {
	sync.Mutex
	idle     []*worker
	starting int
	used     bool
	shutdown bool
}

// idleSince records when a worker went idle, to retire extras.
var idleSince sync.Map // *worker → time.Time

func spareTarget() int {
	if n, err := strconv.Atoi(os.Getenv(sparesEnv)); err == nil && n >= 0 {
		return n
	}
	return 2 // more oversubscribes 2 cores while they replay (measured)
}

func maxIdle() int { return max(spareTarget(), 4) }

// reuseEnabled reports whether a finished Process's worker may serve the next
// Process (opt-in: a Process is otherwise a fresh OS process).
func reuseEnabled() bool { return os.Getenv(reuseEnv) == "1" }

// poolReuseEnabled reports whether a closed pool's workers may serve later
// pools and processes. Pool workers are anonymous task runners that already
// run many tasks each, so this is on unless GOPROC_MP_REUSE=0.
func poolReuseEnabled() bool { return os.Getenv(reuseEnv) != "0" }

var errShutdown = errors.New("multiprocessing is shut down")

func isDead(w *worker) bool {
	select {
	case <-w.dead:
		return true
	default:
		return false
	}
}

// acquireWorker returns an idle worker, or starts one.
func acquireWorker() (*worker, error) {
	w, _, err := acquire(true)
	return w, err
}

// acquireFreshWorker is acquireWorker for a Process: unless reuse is on, it
// takes only a worker that never ran anything, so a Process is a fresh OS
// process. spawned reports a worker started just now, which has not
// finished starting up.
func acquireFreshWorker() (w *worker, spawned bool, err error) { return acquire(reuseEnabled()) }

func acquire(usedOK bool) (*worker, bool, error) {
	spares.Lock()
	if spares.shutdown {
		spares.Unlock()
		return nil, false, errShutdown
	}
	spares.used = true
	for i := len(spares.idle) - 1; i >= 0; i-- {
		w := spares.idle[i]
		if w.used && !usedOK {
			continue
		}
		spares.idle = append(spares.idle[:i], spares.idle[i+1:]...)
		if isDead(w) {
			continue
		}
		spares.Unlock()
		idleSince.Delete(w)
		go replenish()
		w.used = true
		return w, false, nil
	}
	spares.Unlock()
	// No replenish here: spares started now would compete for the CPU with
	// this worker's replay while the caller waits. Callers replenish once
	// their worker is running (replenishLater).
	w, err := spawnWorker()
	if w != nil {
		w.used = true
	}
	return w, err == nil, err
}

// releaseWorker returns a worker that finished cleanly to the idle list.
func releaseWorker(w *worker) {
	spares.Lock()
	same := 0 // idle workers of w's kind: fresh spares and used ones have their own caps
	for _, o := range spares.idle {
		if o.used == w.used {
			same++
		}
	}
	if spares.shutdown || isDead(w) || same >= maxIdle() {
		spares.Unlock()
		w.retire()
		return
	}
	spares.idle = append(spares.idle, w)
	spares.Unlock()
	idleSince.Store(w, time.Now())
	startIdleReaper()
}

// prewarmFromEnv starts the workers GOPROC_MP_PREWARM asks for, when the
// engine registers: the notebook's first Starts and pools then find them
// ready instead of waiting for workers to start up. A batch runner that
// knows a notebook will start processes sets it (goproc grade does);
// workers it starts that nothing uses are extra processes, retired after
// 30 s idle.
func prewarmFromEnv() {
	n, err := strconv.Atoi(os.Getenv(prewarmEnv))
	if err != nil || n <= 0 || depth > 0 {
		return
	}
	n = min(n, maxIdle()) // more would be retired as soon as they are ready
	spares.Lock()
	if spares.shutdown {
		spares.Unlock()
		return
	}
	spares.starting += n
	spares.Unlock()
	startSpares(n)
}

// replenishLater tops up the spares after the caller's own worker is
// running.
func replenishLater() { go replenish() }

// replenish starts workers in the background until spareTarget are idle or
// starting.
func replenish() {
	spares.Lock()
	fresh := 0
	for _, w := range spares.idle {
		if !w.used {
			fresh++
		}
	}
	need := spareTarget() - fresh - spares.starting
	if spares.shutdown || need <= 0 {
		spares.Unlock()
		return
	}
	spares.starting += need
	spares.Unlock()
	startSpares(need)
}

// startSpares starts n workers in the background, already counted in
// spares.starting, and puts them on the idle list once they have replayed
// the Program.
func startSpares(n int) {
	for range n {
		go func() {
			w, err := spawnWorker()
			if err == nil {
				err = warm(w)
				if err != nil {
					w.retire()
				}
			}
			spares.Lock()
			spares.starting--
			spares.Unlock()
			if err == nil {
				releaseWorker(w)
			}
		}()
	}
}

// warm makes w replay the current Program.
func warm(w *worker) error {
	h := currentHost()
	if h == nil {
		return nil
	}
	p := h.Program()
	from, chunks := w.catchUp(p)
	if len(chunks) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := w.request(ctx, &message{Op: opReplay, From: from, Chunks: chunks})
	if err != nil {
		return err
	}
	if m.Err != "" {
		return errors.New(m.Err)
	}
	w.replayed = from + len(chunks)
	return nil
}

// refreshIdle brings idle workers up to date with a grown Program, in the
// background, so the next Start does not pay for the replay.
func refreshIdle(p Program) {
	spares.Lock()
	var stale, fresh []*worker
	for _, w := range spares.idle {
		if w.replayed < len(p.Chunks) {
			stale = append(stale, w)
		} else {
			fresh = append(fresh, w)
		}
	}
	spares.idle = fresh
	spares.Unlock()
	for _, w := range stale {
		go func() {
			if err := warm(w); err != nil {
				w.retire()
				return
			}
			releaseWorker(w)
		}()
	}
}

var reaperOnce sync.Once

// startIdleReaper retires idle workers beyond spareTarget after 30 s idle.
func startIdleReaper() {
	reaperOnce.Do(func() {
		go func() {
			for range time.Tick(5 * time.Second) {
				spares.Lock()
				var keep []*worker
				extra := len(spares.idle) - spareTarget()
				for _, w := range spares.idle {
					t, _ := idleSince.Load(w)
					if since, ok := t.(time.Time); ok && extra > 0 && time.Since(since) > 30*time.Second {
						extra--
						idleSince.Delete(w)
						go w.retire()
						continue
					}
					keep = append(keep, w)
				}
				spares.idle = keep
				spares.Unlock()
			}
		}()
	})
}

// Limits.

var (
	maxProcesses     atomic.Int64 // 0: no cap
	processesStarted atomic.Int64
)

func init() {
	if n, err := strconv.Atoi(os.Getenv(maxProcessesEnv)); err == nil && n > 0 {
		maxProcesses.Store(int64(n))
	}
}

// SetMaxProcesses caps how many processes this process may start over its
// life (Process starts plus pool workers, replacements included); 0 removes
// the cap. Over the cap, Start and pool operations return an error. The
// environment variable GOPROC_MAX_PROCESSES sets the initial cap; children
// inherit it, and nesting is limited to 8 levels, so a notebook cannot
// fork-bomb the machine.
func SetMaxProcesses(n int) { maxProcesses.Store(int64(max(n, 0))) }

// reserve counts n process starts against the cap.
func reserve(n int) error {
	limit := maxProcesses.Load()
	if limit == 0 {
		processesStarted.Add(int64(n))
		return nil
	}
	for {
		cur := processesStarted.Load()
		if cur+int64(n) > limit {
			return fmt.Errorf("process limit reached: %d processes started, the limit is %d (SetMaxProcesses)", cur, limit)
		}
		if processesStarted.CompareAndSwap(cur, cur+int64(n)) {
			return nil
		}
	}
}

// Shutdown kills every worker and child process this process started and
// waits (up to 2 s) until they are reaped. The engine calls it before it
// exits or restarts; afterwards starting processes fails.
func Shutdown() {
	spares.Lock()
	spares.shutdown = true
	spares.idle = nil
	spares.Unlock()
	all := registry.snapshot()
	for _, w := range all {
		w.signal(syscall.SIGKILL)
	}
	deadline := time.After(2 * time.Second)
	for _, w := range all {
		select {
		case <-w.exited:
		case <-deadline:
			return
		}
	}
}
