package multiprocessing

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// A worker bootstraps — Go's start-up, the interpreter, the notebook's
// declarations — with runtime settings made for that serial, short,
// allocation-heavy work, and runs its target or pool tasks with the
// notebook's own:
//
//   - GOMAXPROCS=1: with more Ps the runtime starts threads that spin
//     looking for work, CPU other processes on a busy machine need
//     (measured: ~6% of a grading run's CPU);
//   - GOGC=400: a new process's heap is small, so the default starts
//     several collections during start-up, each of which finds nearly
//     everything alive (measured: ~10% of a grading run's CPU).
//
// The parent's values travel in the environment next to them and are put
// back before the first target or task, so a target that starts goroutines
// runs them in parallel and one that allocates is collected as in the
// notebook; commands the notebook runs see the notebook's environment.
var bootstrapSettings = []struct{ name, value string }{
	{"GOMAXPROCS", "1"},
	{"GOGC", "400"},
}

// userEnvPrefix names the variable that carries the parent's value of a
// bootstrap setting (empty: unset).
const userEnvPrefix = "GOPROC_MP_USER_"

// bootstrapEnv is what a new worker's environment adds.
func bootstrapEnv() []string {
	var env []string
	for _, b := range bootstrapSettings {
		env = append(env, b.name+"="+b.value, userEnvPrefix+b.name+"="+os.Getenv(b.name))
	}
	return env
}

// isBootstrapEntry reports whether an environment entry is one that
// bootstrapEnv sets (so that the parent's own is not passed twice).
func isBootstrapEntry(kv string) bool {
	for _, b := range bootstrapSettings {
		if strings.HasPrefix(kv, b.name+"=") || strings.HasPrefix(kv, userEnvPrefix+b.name+"=") {
			return true
		}
	}
	return false
}

// restoreUserEnv puts the parent's values back into the worker's
// environment (the runtime keeps its bootstrap settings until
// userSettings).
func restoreUserEnv() {
	for _, b := range bootstrapSettings {
		if v := os.Getenv(userEnvPrefix + b.name); v != "" {
			os.Setenv(b.name, v)
		} else {
			os.Unsetenv(b.name)
		}
		os.Unsetenv(userEnvPrefix + b.name)
	}
}

var userSettingsOnce sync.Once

// userSettings gives the runtime the notebook's settings, once, before the
// first target or task runs.
func userSettings() {
	userSettingsOnce.Do(func() {
		if n, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil && n > 0 {
			runtime.GOMAXPROCS(n)
		} else {
			runtime.SetDefaultGOMAXPROCS()
		}
		gogc := 100
		switch v := os.Getenv("GOGC"); {
		case v == "off":
			gogc = -1
		case v != "":
			if n, err := strconv.Atoi(v); err == nil {
				gogc = n
			}
		}
		debug.SetGCPercent(gogc)
	})
}
