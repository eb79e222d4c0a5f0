// Package timerslack sets how late Linux may wake goproc's threads from a
// timed sleep, so that the Go runtime's background thread costs less CPU.
//
// Every Go program runs a monitor thread (sysmon) that sleeps 20 µs at a
// time while any goroutine runs; Linux's default timer slack of 50 µs lets
// each sleep run only a little longer. In a virtual machine each wake-up
// and the context switches around it cost a few microseconds of CPU, and
// goproc runs many short-lived Go processes: an engine per notebook or
// graded submission, a fresh process per multiprocessing Process or pool
// worker. Grading five submissions made ~4,600 such sleeps with the default
// slack and ~1,000 with a slack of 1 ms, and the run's CPU fell by ~20%.
//
// The price is precision: a timed sleep (time.Sleep, a timer, a timeout)
// may end up to the slack late. Event wake-ups (a socket, a pipe, a child
// exiting) are not delayed. GOPROC_TIMER_SLACK sets another slack (a Go
// duration such as 50us); 0 leaves the system's.
//
// Linux keeps the slack per thread. A new thread takes its creator's, and a
// child process its parent thread's across fork and exec, so a process that
// inherits the slack has nothing to do.
package timerslack

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Env names the environment variable that overrides Default.
const Env = "GOPROC_TIMER_SLACK"

// Default is the slack goproc asks for.
const Default = time.Millisecond

// FromEnv returns the slack GOPROC_TIMER_SLACK asks for, or Default when it
// is unset. 0 means: leave the system's slack alone.
func FromEnv() (time.Duration, error) {
	s, ok := os.LookupEnv(Env)
	if !ok || s == "" {
		return Default, nil
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return Default, fmt.Errorf("%s=%q is not a duration such as 1ms or 50us (0 leaves the system's slack); using %v", Env, s, Default)
	}
	return d, nil
}

// Current returns the calling thread's timer slack.
func Current() time.Duration {
	r, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_TIMERSLACK, 0, 0)
	if errno != 0 {
		return 0
	}
	return time.Duration(r)
}

// Apply gives every thread of the process a timer slack of d, which the
// threads and processes they start inherit. It does nothing when d is 0 or
// the calling thread already has that slack (inherited from the parent).
//
// A program built with cgo cannot change its other threads; there Apply
// changes the calling thread's slack only.
func Apply(d time.Duration) error {
	if d <= 0 || Current() == d {
		return nil
	}
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, syscall.PR_SET_TIMERSLACK, uintptr(d), 0)
	if errno == syscall.ENOTSUP {
		_, _, errno = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_TIMERSLACK, uintptr(d), 0)
	}
	if errno != 0 {
		return fmt.Errorf("set the timer slack to %v: %w", d, errno)
	}
	return nil
}
