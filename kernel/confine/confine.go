// Package confine restricts a process with Linux's Landlock: where it may
// write files (Process, Exec) and, with a Policy, also what it may read and
// run, whether it may use TCP, and whether it may signal or reach abstract
// unix sockets of processes outside its own domain — every right the
// kernel's Landlock ABI offers. goproc grade uses the full policy where it
// cannot build a sandbox of namespaces and cgroups (an unprivileged user).
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
	"strings"
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
	accessIoctlDev   = 1 << 15 // ABI 5

	accessExecute  = 1 << 0
	accessReadFile = 1 << 2
	accessReadDir  = 1 << 3

	netBindTCP    = 1 << 0 // ABI 4
	netConnectTCP = 1 << 1

	scopeAbstractUnix = 1 << 0 // ABI 6
	scopeSignal       = 1 << 1
)

// fileRights are the rights a rule on a file (not a directory) may carry.
const fileRights = accessExecute | accessWriteFile | accessReadFile | accessTruncate | accessIoctlDev

// ABI returns the Landlock ABI version the kernel offers, or 0 when Landlock
// is not available.
func ABI() int {
	v, _ := Available()
	return v
}

// Available returns the Landlock ABI version the kernel offers, or an error
// saying why Landlock cannot be used.
func Available() (int, error) {
	v, _, errno := syscall.Syscall(sysCreateRuleset, 0, 0, createRulesetVersion)
	switch errno {
	case 0:
		return int(v), nil
	case syscall.ENOSYS:
		return 0, errors.New("this Linux kernel has no Landlock")
	case syscall.EOPNOTSUPP:
		return 0, errors.New("Landlock is disabled on this Linux kernel (boot with lsm=...,landlock)")
	}
	return 0, fmt.Errorf("landlock_create_ruleset: %w", errno)
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
	handledAccessFS  uint64
	handledAccessNet uint64 // ABI 4
	scoped           uint64 // ABI 6
}

// Devices are the device files a confined program may write (and read):
// what programs open without asking. /dev itself is not writable, so
// neither are /dev/shm and the disks.
var Devices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// Policy is what a confined process may do besides computing.
type Policy struct {
	// Write are the directories (or files) it may write beneath (and
	// read); the first must exist, later ones that do not are skipped.
	Write []string
	// Read, when not nil, are the files and directories it may read and
	// execute; nothing else is readable.
	Read []string
	// NoTCP denies binding and connecting TCP sockets (Landlock ABI 4).
	NoTCP bool
	// Scoped denies signals to, and abstract unix sockets of, processes
	// outside the confined ones (Landlock ABI 6).
	Scoped bool
}

// Describe says what the policy enforces on this kernel.
func (p Policy) Describe() string {
	abi := ABI()
	if abi == 0 {
		return "no Landlock on this kernel"
	}
	parts := []string{"writes only in " + strings.Join(p.Write, ", ")}
	if p.Read != nil {
		parts = append(parts, "reads only of system directories, the binary and its own")
	}
	if p.NoTCP {
		if abi >= 4 {
			parts = append(parts, "no TCP")
		} else {
			parts = append(parts, "TCP allowed (needs Landlock ABI 4)")
		}
	}
	if p.Scoped {
		if abi >= 6 {
			parts = append(parts, "no signals or abstract sockets outside")
		} else {
			parts = append(parts, "signals not scoped (needs Landlock ABI 6)")
		}
	}
	return fmt.Sprintf("Landlock ABI v%d: %s", abi, strings.Join(parts, "; "))
}

// Apply confines every thread of the running process, and what it starts
// from now on, to the policy (a binary built without cgo; see Process).
func (p Policy) Apply() error {
	fd, err := p.ruleset()
	if err != nil {
		return err
	}
	defer syscall.Close(int(fd))
	return restrictAll(fd)
}

// pathBeneathAttr mirrors struct landlock_path_beneath_attr, which is packed.
type pathBeneathAttr [12]byte

// ruleset creates a Landlock ruleset that allows writes only beneath dirs;
// the caller closes the descriptor.
func ruleset(dirs []string) (uintptr, error) {
	return Policy{Write: dirs}.ruleset()
}

func (p Policy) ruleset() (uintptr, error) {
	abi := ABI()
	if abi == 0 {
		return 0, fmt.Errorf("landlock is not available on this kernel")
	}
	handled := writeRights(abi)
	if p.Read != nil {
		handled |= accessExecute | accessReadFile | accessReadDir
		if abi >= 5 {
			handled |= accessIoctlDev
		}
	}
	attr := rulesetAttr{handledAccessFS: handled}
	size := unsafe.Sizeof(attr.handledAccessFS)
	if abi >= 4 {
		size += unsafe.Sizeof(attr.handledAccessNet)
		if p.NoTCP {
			attr.handledAccessNet = netBindTCP | netConnectTCP
		}
	}
	if abi >= 6 {
		size += unsafe.Sizeof(attr.scoped)
		if p.Scoped {
			attr.scoped = scopeAbstractUnix | scopeSignal
		}
	}
	fd, _, errno := syscall.Syscall(sysCreateRuleset, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return 0, fmt.Errorf("landlock_create_ruleset: %w", errno)
	}
	add := func(path string, rights uint64) error {
		dfd, err := syscall.Open(path, oPath|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		defer syscall.Close(dfd)
		var st syscall.Stat_t
		if err := syscall.Fstat(dfd, &st); err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			rights &= fileRights
		}
		var pb pathBeneathAttr
		*(*uint64)(unsafe.Pointer(&pb[0])) = rights
		*(*int32)(unsafe.Pointer(&pb[8])) = int32(dfd)
		if _, _, errno := syscall.Syscall6(sysAddRule, fd, rulePathBeneath, uintptr(unsafe.Pointer(&pb)), 0, 0, 0); errno != 0 {
			return fmt.Errorf("landlock_add_rule %s: %w", path, errno)
		}
		return nil
	}
	for i, dir := range p.Write {
		if err := add(dir, handled); err != nil {
			if i > 0 && errors.Is(err, syscall.ENOENT) {
				continue // a device file this machine does not have
			}
			syscall.Close(int(fd))
			return 0, err
		}
	}
	for _, path := range p.Read {
		if err := add(path, handled&(accessExecute|accessReadFile|accessReadDir)); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				continue // a system directory this machine does not have
			}
			syscall.Close(int(fd))
			return 0, err
		}
	}
	return fd, nil
}

// restrictThread confines the calling OS thread: writes only beneath dirs.
func restrictThread(dirs []string) error {
	return Policy{Write: dirs}.restrictThread()
}

// restrictThread confines the calling OS thread to the policy.
func (p Policy) restrictThread() error {
	fd, err := p.ruleset()
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
	return restrictAll(fd)
}

// restrictAll applies the ruleset fd to every thread.
func restrictAll(fd uintptr) error {
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

// Exec confines the calling thread to the policy and replaces the process
// with argv0 args env, which then runs confined with all its threads and
// children: the way to apply a Policy in a binary built with cgo. It
// returns only on failure.
func (p Policy) Exec(argv0 string, args, env []string) error {
	runtime.LockOSThread()
	if err := p.restrictThread(); err != nil {
		return err
	}
	if err := syscall.Exec(argv0, args, env); err != nil {
		return fmt.Errorf("re-execute %s confined: %w", argv0, err)
	}
	return nil
}
