package grader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/sandbox"
	"github.com/goproc/goproc/runtime/grade"
)

// A verifierSlot is the verifier of one grading worker: an engine that runs
// the source's tests on the record of what a submission's cells did, kept
// for the worker's submissions one after another (an engine start costs as
// much as the tests of a submission). It runs in a sandbox of its own that
// sees its directory (the record) and nothing else of the course, so what
// it runs can never reach the source or the submissions. The tests it runs
// are the source's; each submission's run declares their names again.
type verifierSlot struct {
	opts Options
	dir  string

	mu  sync.Mutex
	eng language.Engine
	box *sandbox.Sandbox
	err error
}

func newVerifierSlot(opts Options, workRoot string, n int) *verifierSlot {
	v := &verifierSlot{opts: opts, dir: filepath.Join(workRoot, fmt.Sprintf("verifier-%d", n))}
	if err := removeWithin(workRoot, v.dir); err != nil {
		v.err = err
		return v
	}
	if err := os.Mkdir(v.dir, 0o755); err != nil {
		v.err = fmt.Errorf("the verifier's directory: %w", err)
	}
	return v
}

// record is the file the grader writes for the verifier.
func (v *verifierSlot) record() string { return filepath.Join(v.dir, "record.json") }

// engine returns the worker's verifier, starting it if it is not running
// (the first time, or after a test hung or crashed and it was killed).
func (v *verifierSlot) engine(ctx context.Context) (language.Engine, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err != nil {
		return nil, v.err
	}
	if v.eng != nil {
		if k, ok := v.eng.(*keptEngine); !ok || !k.closed() {
			return v.eng, nil
		}
	}
	recordPath := v.record()
	var launcher engine.Launcher
	if !v.opts.NoSandbox && v.box == nil {
		box, err := sandbox.New(sandbox.Config{WorkDir: v.dir, Binary: v.opts.Binary,
			MemoryBytes: DefaultLimits.MemoryLimit, MaxTasks: tasksFor(v.opts.Limits.MaxProcesses)})
		if err == nil {
			v.box = box
		}
	}
	if v.box != nil {
		launcher = v.box
		recordPath = sandbox.SharePath + "/record.json"
	}
	o := engine.Options{
		Binary:        v.opts.Binary,
		Dir:           v.dir,
		Env:           append(engineEnv(v.box != nil, false), grade.EnvOutputs+"="+recordPath),
		MaxProcesses:  v.opts.Limits.MaxProcesses,
		ConfineWrites: v.opts.ConfineWrites,
		NoSpare:       true,
	}
	if launcher != nil {
		o.Launcher = launcher
	}
	e, err := v.opts.NewEngine(ctx, o)
	if err != nil {
		return nil, err
	}
	v.eng = &keptEngine{Engine: e}
	return v.eng, nil
}

// close stops the verifier and removes its sandbox and directory.
func (v *verifierSlot) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.eng != nil {
		v.eng.Close()
		v.eng = nil
	}
	if v.box != nil {
		v.box.Destroy()
		v.box = nil
	}
	os.RemoveAll(v.dir)
}

// keptEngine is an engine whose Close is final: the slot starts another
// one next time.
type keptEngine struct {
	language.Engine
	mu   sync.Mutex
	done bool
}

func (k *keptEngine) Close() error {
	k.mu.Lock()
	k.done = true
	k.mu.Unlock()
	return k.Engine.Close()
}

func (k *keptEngine) closed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.done
}
