package multiprocessing_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/goproc/goproc/runtime/multiprocessing"
	"github.com/goproc/goproc/runtime/multiprocessing/internal/notebooktest"
)

// The tests run notebooks in a real yaegi interpreter (notebooktest) and
// real worker processes: the test binary re-executes itself in worker mode.

var nb *notebooktest.Notebook

func TestMain(m *testing.M) {
	if multiprocessing.IsWorker() {
		w, err := notebooktest.New()
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(3)
		}
		if err := multiprocessing.ServeWorker(context.Background(), w); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	var err error
	nb, err = notebooktest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	multiprocessing.SetHost(nb)
	if err := nb.Decl(`import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"multiprocessing"
)
var _ = errors.New
var _ = strings.Repeat
var _ = time.Now
var _ = os.Getpid`); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if os.Getenv("GOPROC_TEST_ORPHAN_ENGINE") != "" {
		orphanEngine()
	}
	code := m.Run()
	multiprocessing.Shutdown()
	os.Exit(code)
}

// decl evaluates notebook declarations.
func decl(t testing.TB, src string) {
	t.Helper()
	if err := nb.Decl(src); err != nil {
		t.Fatal(err)
	}
}

// run evaluates a cell body.
func run(t testing.TB, src string) {
	t.Helper()
	if _, err := nb.Run(src); err != nil {
		t.Fatalf("cell failed: %v\n%s", err, src)
	}
}

var captureMu sync.Mutex

// capture runs f with fd 1 and fd 2 redirected to pipes and returns what
// was written to them — as the engine captures a cell's output.
func capture(t testing.TB, f func()) (stdout, stderr string) {
	t.Helper()
	captureMu.Lock()
	defer captureMu.Unlock()
	grab := func(fd int) (restore func() string) {
		saved, err := syscall.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		syscall.Dup3(int(w.Fd()), fd, 0)
		w.Close()
		var buf strings.Builder
		done := make(chan struct{})
		go func() { io.Copy(&buf, r); close(done) }()
		return func() string {
			syscall.Dup3(saved, fd, 0)
			syscall.Close(saved)
			<-done
			r.Close()
			return buf.String()
		}
	}
	restoreOut := grab(1)
	restoreErr := grab(2)
	restored := false
	defer func() { // also when f calls t.Fatal
		if !restored {
			o, e := restoreOut(), restoreErr()
			t.Logf("stdout:\n%s\nstderr:\n%s", o, e)
		}
	}()
	f()
	restored = true
	return restoreOut(), restoreErr()
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
