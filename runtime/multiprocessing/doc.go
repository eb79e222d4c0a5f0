// Package multiprocessing gives Go notebook cells what Python's
// multiprocessing gives Python: Process, Pool, CurrentProcess and the rest,
// backed by real OS processes. A target is a top-level function of the
// notebook; the child rebuilds the notebook in a fresh interpreter and runs it
// there. Everything a child prints appears in the cell that started it, in
// whole lines.
package multiprocessing

import "sync/atomic"

// host is the engine running the notebook in this process (nil in a worker
// before it rebuilt the notebook, and in plain Go programs).
var host atomic.Pointer[Host]
