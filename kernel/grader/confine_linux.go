package grader

import (
	"fmt"
	"syscall"

	"github.com/goproc/goproc/kernel/confine"
)

// sysLandlockCreateRuleset is landlock_create_ruleset(2), the same number on
// every Linux architecture.
const sysLandlockCreateRuleset = 444

// landlockABI returns the kernel's Landlock ABI version, or an error saying
// why Landlock cannot be used.
func landlockABI() (int, error) {
	const versionFlag = 1 // LANDLOCK_CREATE_RULESET_VERSION
	v, _, errno := syscall.Syscall(sysLandlockCreateRuleset, 0, 0, versionFlag)
	if errno != 0 {
		switch errno {
		case syscall.ENOSYS:
			return 0, fmt.Errorf("this Linux kernel has no Landlock")
		case syscall.EOPNOTSUPP:
			return 0, fmt.Errorf("Landlock is disabled on this Linux kernel (boot with lsm=...,landlock)")
		}
		return 0, fmt.Errorf("landlock_create_ruleset: %w", errno)
	}
	return int(v), nil
}

// confinementStatus says what Landlock enforces on each submission: writes
// only in its working directory, and, when there is no sandbox, every
// other right the kernel's Landlock offers too.
func confinementStatus(want, alone bool) string {
	if !want {
		return "off (--confine-writes=false): submissions may write anywhere the grader can"
	}
	v, err := landlockABI()
	if err != nil {
		return "not available: " + err.Error() + "; submissions may write anywhere the grader can"
	}
	if alone {
		p := confine.Policy{Write: []string{"its working directory"}, Read: []string{}, NoTCP: true, Scoped: true}
		return p.Describe()
	}
	return fmt.Sprintf("Landlock ABI v%d: each submission may write only in its working directory", v)
}
