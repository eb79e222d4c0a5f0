package multiprocessing

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Probe is called at the top of every notebook function while the engine is
// probing (see NameOf); it records name and reports whether the function
// should return at once. The kernel inserts the calls; notebooks never call it.
func Probe(name string) bool {
	t := probingThread.Load()
	if t == 0 || t != int32(syscall.Gettid()) {
		return false
	}
	probedName = name
	return true
}

// NameOf tells its own goroutine apart from others that may call notebook
// functions meanwhile by locking it to its OS thread: while it is locked, no
// other goroutine runs on that thread, so the thread id names the goroutine.
// (Reading the goroutine id from runtime.Stack walked the whole interpreted
// stack, a tenth of the parent's CPU in a loop of Start and Join.)
var (
	probeMu       sync.Mutex   // one NameOf at a time
	probingThread atomic.Int32 // the thread NameOf's goroutine is locked to, 0 if none
	probedName    string       // written by Probe on that goroutine
)

// NameOf returns the name under which a child process finds fn: the name of
// a top-level notebook function, or the qualified name of a standard-library
// function ("strings.ToUpper"). Function literals, closures and method
// values cannot run in another process; NameOf says so and what to do.
func NameOf(fn any) (string, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() {
		return "", errors.New("the target is nil: set it to a top-level function, e.g. Target: worker")
	}
	if v.Kind() != reflect.Func {
		return "", fmt.Errorf("the target is %s, not a function", describeValue(fn))
	}
	if v.IsNil() {
		return "", errors.New("the target is a nil function")
	}
	if compiled := runtime.FuncForPC(v.Pointer()).Name(); compiled != "reflect.makeFuncStub" {
		return compiledName(compiled)
	}
	h := currentHost()
	if h == nil {
		return "", errors.New("cannot identify an interpreted function: no notebook engine is running (SetHost was not called)")
	}
	probeMu.Lock()
	defer probeMu.Unlock()
	probedName = ""
	runtime.LockOSThread()
	probingThread.Store(int32(syscall.Gettid()))
	h.SetProbing(true)
	err := callProbing(v)
	h.SetProbing(false)
	probingThread.Store(0)
	runtime.UnlockOSThread()
	name := probedName
	switch {
	case name == "" && err != nil:
		return "", fmt.Errorf("cannot identify the function: %w", err)
	case name == "":
		return "", errors.New("cannot identify the function: it was not defined in the notebook (define it as a top-level function: func worker(...) {...})")
	case strings.HasPrefix(name, "func literal"):
		return "", fmt.Errorf("the target is a %s: a function literal or closure cannot run in a child process; define it as a top-level function: func worker(...) {...}", name)
	case strings.HasPrefix(name, "method "):
		return "", fmt.Errorf("the target is a %s: a method value cannot run in a child process; define it as a top-level function that takes the receiver as an argument: func worker(a Acc, ...) {...}", strings.TrimPrefix(name, "method "))
	}
	return name, nil
}

// callProbing calls fn with zero arguments; instrumented functions return at
// their probe without running their bodies.
func callProbing(v reflect.Value) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("probe call panicked: %v", p)
		}
	}()
	t := v.Type()
	args := make([]reflect.Value, t.NumIn())
	for i := range args {
		args[i] = reflect.Zero(t.In(i))
	}
	if t.IsVariadic() {
		v.CallSlice(args)
	} else {
		v.Call(args)
	}
	return nil
}

// compiledName accepts standard-library package functions, which a child
// resolves by name from the interpreter's symbol table.
func compiledName(name string) (string, error) {
	slash := strings.LastIndex(name, "/")
	dot := strings.Index(name[slash+1:], ".")
	if dot < 0 {
		return "", fmt.Errorf("the target is the compiled function %s, which a child process cannot find", name)
	}
	pkg, fn := name[:slash+1+dot], name[slash+2+dot:]
	first, _, _ := strings.Cut(pkg, "/")
	if strings.Contains(first, ".") || pkg == "main" || strings.ContainsAny(fn, "().-") || strings.Contains(pkg, "internal") {
		return "", fmt.Errorf("the target is the compiled function %s: only top-level notebook functions and standard-library functions can run in a child process", name)
	}
	return name, nil
}
