// Package multiprocessing gives Go notebook cells what Python's
// multiprocessing gives Python — Process, Pool, CurrentProcess, Queue, Pipe,
// Lock, Event, Value, Array — backed by real OS processes, for functions
// defined in the notebook.
//
// A target is a top-level notebook function (or a standard-library
// function); NameOf identifies it through the probe the kernel inserts at the
// top of every function body. A worker is the goproc binary re-executed in
// worker mode (IsWorker, ServeWorker): it replays the notebook's declarations
// (the Program) in a fresh interpreter, takes the notebook's JSON-encodable
// globals as they were at Start, decodes the arguments (JSON, typed: see
// package typedjson; an int in a []any stays an int) and runs the target. Workers are started ahead of time and kept warm (after the
// first use, or when the engine starts with GOPROC_MP_PREWARM=N); each
// Process gets a fresh one (its own pid), and GOPROC_MP_REUSE=1 lets a
// finished Process's worker serve the next one (see spares.go for the
// trade-off).
//
// Output: every worker writes to its own stdout and stderr pipes; the parent
// forwards them to its fd 1 and fd 2 in whole lines under one lock, live, and
// Join (or Map) returns only after everything the child printed has been
// written. Outband frames (kernel/outband) pass through intact.
//
// A pool hands each chunk of tasks to the first worker that is free, in
// order, as Python's does: a chunk is sent ahead to a busy worker only when
// no worker is idle, and taken back if another one frees up first
// (pool.go). A pool nothing refers to is terminated (poolsweep.go).
//
// Failures are reported, never hung: a panicking target exits 1 with its
// panic on the cell's stderr; a pool task's panic or error fails the call
// with a TaskError naming the item; a pool worker that dies fails the call at
// once and is replaced. Children die with the engine (Pdeathsig from a locked
// thread; the engine's process group) and with an interrupted cell
// (ErrInterrupted); Shutdown kills them all. SetMaxProcesses (or
// GOPROC_MAX_PROCESSES) caps how many processes may be started.
//
// The engine's side: SetHost(host) at start-up; ServeWorker(ctx, rebuilder)
// when IsWorker(); Shutdown() before exiting; cancel a cell's context with
// ErrInterrupted as the cause when it is interrupted.
package multiprocessing
