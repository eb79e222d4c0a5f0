package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
)

// SystemDirs are the directories a box sees read-only (those that exist
// here); a process confined by Landlock alone may read them too.
var SystemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"}

// Device files a box has: what programs open without asking.
var devices = []string{"null", "zero", "full", "random", "urandom"}

const (
	prSetNoNewPrivs   = 38
	prSetSecurebits   = 28
	prCapbsetDrop     = 24
	secbitNoroot      = 1 << 0
	secbitNorootLock  = 1 << 1
	secbitNoSetuidFix = 1 << 2
	secbitNoSetuidLck = 1 << 3
	lastCap           = 63
)

// RunInit is a box's init: goproc started by Command with InitArg. It
// waits for its configuration on standard input, sets up the box and runs
// the program in it, reaping orphans, and exits with the program's status.
// It returns only on failure to set up, with an error to print.
func RunInit() error {
	// Everything below runs on this thread: the no_new_privs and
	// securebits it sets are inherited by the program it forks.
	runtime.LockOSThread()
	line, err := bufio.NewReader(os.Stdin).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("sandbox init: reading the configuration: %w", err)
	}
	var cfg initConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		return fmt.Errorf("sandbox init: configuration: %w", err)
	}
	// Into the cgroup before anything forks.
	for _, p := range cfg.Cgroups {
		if err := os.WriteFile(p, []byte("0"), 0); err != nil {
			return fmt.Errorf("sandbox init: joining %s: %w", p, err)
		}
	}
	if err := buildRoot(cfg); err != nil {
		return fmt.Errorf("sandbox init: %w", err)
	}
	syscall.Sethostname([]byte("goproc"))
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
		return fmt.Errorf("sandbox init: no_new_privs: %w", e)
	}
	devNull, err := os.Open("/dev/null")
	if err != nil {
		return fmt.Errorf("sandbox init: %w", err)
	}
	cmd := &exec.Cmd{Path: BinaryPath, Args: cfg.Args, Env: os.Environ(), Dir: WorkPath,
		Stdin: devNull, Stdout: os.Stdout, Stderr: os.Stderr}
	for i := 0; i < cfg.ExtraFDs; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), fmt.Sprintf("fd%d", 3+i)))
	}
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if cfg.UserNS {
		// Root of the user namespace only: the program keeps uid 0 there
		// but gains no capabilities by it, and cannot get them back.
		for c := 0; c <= lastCap; c++ {
			syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, uintptr(c), 0)
		}
		bits := uintptr(secbitNoroot | secbitNorootLock | secbitNoSetuidFix | secbitNoSetuidLck)
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetSecurebits, bits, 0); e != 0 {
			return fmt.Errorf("sandbox init: securebits: %w", e)
		}
	} else {
		attr.Credential = &syscall.Credential{Uid: uint32(cfg.UID), Gid: uint32(cfg.UID), Groups: []uint32{}}
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sandbox init: starting %s: %w", BinaryPath, err)
	}
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	devNull.Close()
	program := cmd.Process.Pid
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			os.Exit(1)
		}
		if pid != program {
			continue // an orphan
		}
		switch {
		case ws.Exited():
			os.Exit(ws.ExitStatus())
		case ws.Signaled():
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(1)
	}
}

// buildRoot makes the box's file system and moves into it: a tmpfs root
// with read-only binds of the system's directories, the binary and the
// caller's share, a working directory and a /tmp of the box's own (tmpfs,
// capped, counted in its memory), a few device files and a /proc of the
// box's own processes. The host's file system is then unmounted from the
// box altogether.
func buildRoot(cfg initConfig) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	root := cfg.Root
	if err := syscall.Mount("tmpfs", root, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=1m,mode=0755"); err != nil {
		return fmt.Errorf("mounting the root: %w", err)
	}
	ro := uintptr(syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV)
	for _, d := range SystemDirs {
		st, err := os.Lstat(d)
		if err != nil {
			continue
		}
		if st.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(d)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, root+d); err != nil {
				return err
			}
			continue
		}
		if err := bindMount(d, root+d, true, ro); err != nil {
			return err
		}
	}
	if err := bindMount(cfg.Binary, root+BinaryPath, false, ro); err != nil {
		return err
	}
	if err := bindMount(cfg.WorkDir, root+SharePath, true, ro); err != nil {
		return err
	}
	owner := ""
	if !cfg.UserNS {
		owner = fmt.Sprintf(",uid=%d,gid=%d", cfg.UID, cfg.UID)
	}
	work := fmt.Sprintf("size=%d,nr_inodes=65536,mode=0700%s", cfg.WorkBytes, owner)
	if err := mountFS("tmpfs", root+WorkPath, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, work); err != nil {
		return err
	}
	if err := mountFS("tmpfs", root+"/tmp", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=64m,mode=1777"); err != nil {
		return err
	}
	if err := mountFS("tmpfs", root+"/dev", "tmpfs", syscall.MS_NOSUID|syscall.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return err
	}
	for _, d := range devices {
		if err := bindMount("/dev/"+d, root+"/dev/"+d, false, syscall.MS_NOSUID|syscall.MS_NOEXEC); err != nil {
			return err
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		os.Symlink(target, root+"/dev/"+name)
	}
	if err := syscall.Mount("", root+"/dev", "", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("making /dev read-only: %w", err)
	}
	if err := mountFS("proc", root+"/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return err
	}
	old := root + "/.old"
	if err := os.Mkdir(old, 0o700); err != nil {
		return err
	}
	if err := syscall.PivotRoot(root, old); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Chdir("/"); err != nil {
		return err
	}
	if err := syscall.Unmount("/.old", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("unmounting the host's file system: %w", err)
	}
	os.Remove("/.old")
	if err := syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("making the root read-only: %w", err)
	}
	return nil
}

// bindMount binds src at dst (a directory when dir, else a file), then
// applies flags (MS_RDONLY and the like) to the bind.
func bindMount(src, dst string, dir bool, flags uintptr) error {
	if dir {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s: %w", src, err)
	}
	if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|flags, ""); err != nil {
		return fmt.Errorf("restricting %s: %w", src, err)
	}
	return nil
}

func mountFS(src, dst, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", fstype, dst, err)
	}
	return nil
}
