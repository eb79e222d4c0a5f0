package multiprocessing

// EnvironChanged retires the idle workers, started with the environment as
// it was, so that the next Process or pool gets workers that see the
// process's environment as it is now: the kernel calls it after %env sets
// a variable, as a Python child forked after os.environ changed sees the
// change. Workers busy in an open pool keep theirs; a spare still starting
// up when the environment changed may keep the old one.
func EnvironChanged() {
	spares.Lock()
	idle, used := spares.idle, spares.used
	spares.idle = nil
	spares.Unlock()
	for _, w := range idle {
		idleSince.Delete(w)
		w.retire()
	}
	if used && len(idle) > 0 {
		go replenish()
	}
}
