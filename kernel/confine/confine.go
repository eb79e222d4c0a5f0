// Package confine restricts where a process may write files, using Linux's
// Landlock. Reads and execution are left alone; creating, writing, renaming
// and removing files is allowed only beneath the given directories.
//
// Landlock applies to the calling thread and everything it starts. A Go
// program built without cgo confines all its threads at once (Process); one
// built with cgo confines one locked thread and then re-executes itself from
// it (Exec), so that the new image and every process it starts are confined.
package confine

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

const (
	sysCreateRuleset = 444
	sysAddRule       = 445
	sysRestrictSelf  = 446

	createRulesetVersion = 1
	rulePathBeneath      = 1
	prSetNoNewPrivs      = 38
	oPath                = 0x200000 // O_PATH on Linux
)

// Filesystem access rights (Landlock ABI 1-3) that change the filesystem.
const (
	accessWriteFile  = 1 << 1
	accessRemoveDir  = 1 << 4
	accessRemoveFile = 1 << 5
	accessMakeChar   = 1 << 6
	accessMakeDir    = 1 << 7
	accessMakeReg    = 1 << 8
	accessMakeSock   = 1 << 9
	accessMakeFifo   = 1 << 10
	accessMakeBlock  = 1 << 11
	accessMakeSym    = 1 << 12
	accessRefer      = 1 << 13 // ABI 2
	accessTruncate   = 1 << 14 // ABI 3
)

// ABI returns the Landlock ABI version the kernel offers, or 0 when Landlock
// is not available.
func ABI() int {
	v, _, errno := syscall.Syscall(sysCreateRuleset, 0, 0, createRulesetVersion)
	if errno != 0 {
		return 0
	}
	return int(v)
}

func writeRights(abi int) uint64 {
	r := uint64(accessWriteFile | accessRemoveDir | accessRemoveFile | accessMakeChar |
		accessMakeDir | accessMakeReg | accessMakeSock | accessMakeFifo | accessMakeBlock | accessMakeSym)
	if abi >= 2 {
		r |= accessRefer
	}
	if abi >= 3 {
		r |= accessTruncate
	}
	return r
}

type rulesetAttr struct {
	handledAccessFS uint64
}

// pathBeneathAttr mirrors struct landlock_path_beneath_attr, which is packed.
type pathBeneathAttr [12]byte

// ruleset creates a Landlock ruleset that allows writes only beneath dirs;
// the caller closes the descriptor.
func ruleset(dirs []string) (uintptr, error) {
	abi := ABI()
	if abi == 0 {
		return 0, fmt.Errorf("landlock is not available on this kernel")
	}
	rights := writeRights(abi)
	attr := rulesetAttr{handledAccessFS: rights}
	fd, _, errno := syscall.Syscall(sysCreateRuleset, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if errno != 0 {
		return 0, fmt.Errorf("landlock_create_ruleset: %w", errno)
	}
	for _, dir := range dirs {
		dfd, err := syscall.Open(dir, oPath|syscall.O_CLOEXEC, 0)
		if err != nil {
			syscall.Close(int(fd))
			return 0, fmt.Errorf("open %s: %w", dir, err)
		}
		var pb pathBeneathAttr
		*(*uint64)(unsafe.Pointer(&pb[0])) = rights
		*(*int32)(unsafe.Pointer(&pb[8])) = int32(dfd)
		_, _, errno := syscall.Syscall6(sysAddRule, fd, rulePathBeneath, uintptr(unsafe.Pointer(&pb)), 0, 0, 0)
		syscall.Close(dfd)
		if errno != 0 {
			syscall.Close(int(fd))
			return 0, fmt.Errorf("landlock_add_rule %s: %w", dir, errno)
		}
	}
	return fd, nil
}

// restrictThread confines the calling OS thread: writes only beneath dirs.
func restrictThread(dirs []string) error {
	fd, err := ruleset(dirs)
	if err != nil {
		return err
	}
	defer syscall.Close(int(fd))
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", errno)
	}
	if _, _, errno := syscall.RawSyscall(sysRestrictSelf, fd, 0, 0); errno != 0 {
		return fmt.Errorf("landlock_restrict_self: %w", errno)
	}
	return nil
}

// ErrThreadsUnsupported is returned by Process when the Go runtime cannot
// run a system call on all its threads (a binary linked with cgo); Exec
// then confines the process instead.
var ErrThreadsUnsupported = errors.New("confining every thread needs a binary built without cgo (CGO_ENABLED=0)")

// Process confines writes to dirs for every thread of the running process,
// and so for every thread and process it starts from now on. It needs no
// re-execution, but works only in a binary built without cgo: otherwise it
// returns ErrThreadsUnsupported with the process unchanged.
func Process(dirs []string) error {
	fd, err := ruleset(dirs)
	if err != nil {
		return err
	}
	defer syscall.Close(int(fd))
	if _, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); errno != 0 {
		if errno == syscall.ENOTSUP {
			return ErrThreadsUnsupported
		}
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS) on every thread: %w", errno)
	}
	if _, _, errno := syscall.AllThreadsSyscall(sysRestrictSelf, fd, 0, 0); errno != 0 {
		return fmt.Errorf("landlock_restrict_self on every thread: %w", errno)
	}
	return nil
}

// Exec confines writes to dirs and replaces the current process with argv0
// args env, which then runs confined with all its threads and children. It
// returns only on failure, with the process unchanged except possibly the
// calling thread (which it then leaves locked, so Go never reuses it).
func Exec(dirs []string, argv0 string, args, env []string) error {
	runtime.LockOSThread()
	if err := restrictThread(dirs); err != nil {
		return err
	}
	if err := syscall.Exec(argv0, args, env); err != nil {
		return fmt.Errorf("re-execute %s confined: %w", argv0, err)
	}
	return nil
}

// Self returns the path of the running executable, for Exec.
func Self() (string, error) { return os.Executable() }
