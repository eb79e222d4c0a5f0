package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroup is one box's control group: one directory per controller on a v1
// hierarchy, or one directory on v2.
type cgroup struct {
	version string
	dirs    []string
}

// ownCgroups maps each controller ("" for v2) to this process's cgroup path.
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			m[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			m[c] = parts[2]
		}
	}
	return m, sc.Err()
}

func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// newCgroup creates the cgroup of one box, below this process's own.
func newCgroup(name string, cfg Config) (*cgroup, error) {
	own, err := ownCgroups()
	if err != nil {
		return nil, fmt.Errorf("reading this process's cgroups: %w", err)
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		return newCgroupV2(name, cfg, own[""])
	}
	return newCgroupV1(name, cfg, own)
}

func newCgroupV1(name string, cfg Config, own map[string]string) (*cgroup, error) {
	cg := &cgroup{version: "v1"}
	for _, ctrl := range []string{"memory", "pids", "cpu"} {
		path, ok := own[ctrl]
		if !ok {
			cg.remove()
			return nil, fmt.Errorf("no %s controller in this process's cgroups", ctrl)
		}
		dir := filepath.Join(cgroupRoot, ctrl, path, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			cg.remove()
			return nil, fmt.Errorf("creating the %s cgroup: %w", ctrl, err)
		}
		cg.dirs = append(cg.dirs, dir)
		switch ctrl {
		case "memory":
			if cfg.MemoryBytes > 0 {
				v := strconv.FormatUint(cfg.MemoryBytes, 10)
				if err := writeFile(filepath.Join(dir, "memory.limit_in_bytes"), v); err != nil {
					cg.remove()
					return nil, err
				}
				// Swap counts too where the kernel accounts it.
				writeFile(filepath.Join(dir, "memory.memsw.limit_in_bytes"), v)
			}
		case "pids":
			if cfg.MaxTasks > 0 {
				if err := writeFile(filepath.Join(dir, "pids.max"), strconv.Itoa(cfg.MaxTasks)); err != nil {
					cg.remove()
					return nil, err
				}
			}
		case "cpu":
			w := cfg.CPUWeight
			if w <= 0 {
				w = 100
			}
			writeFile(filepath.Join(dir, "cpu.shares"), strconv.Itoa(w*1024/100))
		}
	}
	return cg, nil
}

func newCgroupV2(name string, cfg Config, own string) (*cgroup, error) {
	parent := filepath.Join(cgroupRoot, own)
	// The controllers must be enabled for the parent's children. cgroup
	// v2 refuses while the parent holds processes itself ("no internal
	// processes"), as it does when goproc runs in it: goproc then moves
	// itself into a leaf of its own beside the boxes, as container
	// runtimes do.
	control := filepath.Join(parent, "cgroup.subtree_control")
	if err := writeFile(control, "+memory +pids +cpu"); err != nil {
		leaf := filepath.Join(parent, fmt.Sprintf("goproc-%d", os.Getpid()))
		if mkErr := os.Mkdir(leaf, 0o755); mkErr != nil && !os.IsExist(mkErr) {
			return nil, fmt.Errorf("enabling memory, pids and cpu for %s (run goproc as root, or in a delegated cgroup): %w", parent, err)
		}
		if mvErr := writeFile(filepath.Join(leaf, "cgroup.procs"), strconv.Itoa(os.Getpid())); mvErr != nil {
			return nil, fmt.Errorf("enabling memory, pids and cpu for %s: %w; moving goproc into a leaf: %w", parent, err, mvErr)
		}
		if err := writeFile(control, "+memory +pids +cpu"); err != nil {
			return nil, fmt.Errorf("enabling memory, pids and cpu for %s: %w", parent, err)
		}
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the cgroup: %w", err)
	}
	cg := &cgroup{version: "v2", dirs: []string{dir}}
	if cfg.MemoryBytes > 0 {
		v := strconv.FormatUint(cfg.MemoryBytes, 10)
		if err := writeFile(filepath.Join(dir, "memory.max"), v); err != nil {
			cg.remove()
			return nil, err
		}
		writeFile(filepath.Join(dir, "memory.swap.max"), "0")
	}
	if cfg.MaxTasks > 0 {
		if err := writeFile(filepath.Join(dir, "pids.max"), strconv.Itoa(cfg.MaxTasks)); err != nil {
			cg.remove()
			return nil, err
		}
	}
	if cfg.CPUWeight > 0 {
		writeFile(filepath.Join(dir, "cpu.weight"), strconv.Itoa(cfg.CPUWeight))
	}
	return cg, nil
}

// procs lists the host pids of the cgroup's processes.
func (cg *cgroup) procs() []int {
	if cg == nil || len(cg.dirs) == 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(cg.dirs[0], "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// killAll kills every process of the cgroup and waits until it is empty.
func (cg *cgroup) killAll(timeout time.Duration) error {
	if cg == nil || len(cg.dirs) == 0 {
		return nil
	}
	if cg.version == "v2" {
		writeFile(filepath.Join(cg.dirs[0], "cgroup.kill"), "1")
	}
	deadline := time.Now().Add(timeout)
	for {
		pids := cg.procs()
		if len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			syscall.Kill(p, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes of the cgroup did not die", len(pids))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// remove kills what is left in the cgroup and removes its directories.
func (cg *cgroup) remove() error {
	if cg == nil {
		return nil
	}
	err := cg.killAll(5 * time.Second)
	for i := len(cg.dirs) - 1; i >= 0; i-- {
		// An emptied cgroup may take a moment to be released.
		for try := 0; ; try++ {
			e := syscall.Rmdir(cg.dirs[i])
			if e == nil || errors.Is(e, syscall.ENOENT) {
				break
			}
			if try == 200 {
				err = errors.Join(err, fmt.Errorf("removing cgroup %s: %w", cg.dirs[i], e))
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	cg.dirs = nil
	return err
}

// joinPaths are the cgroup.procs files a box's init writes itself into.
func (cg *cgroup) joinPaths() []string {
	if cg == nil {
		return nil
	}
	var ps []string
	for _, d := range cg.dirs {
		ps = append(ps, filepath.Join(d, "cgroup.procs"))
	}
	return ps
}
