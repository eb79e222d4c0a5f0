package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

var testBinary string

func TestMain(m *testing.M) {
	if bin := os.Getenv("GOPROC_TEST_BINARY"); bin != "" {
		testBinary = bin
	} else {
		dir, err := os.MkdirTemp("", "goproc-engine-test")
		if err != nil {
			panic(err)
		}
		testBinary = filepath.Join(dir, "goproc")
		cmd := exec.Command("go", "build", "-o", testBinary, "../..")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build goproc:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
	}
	code := m.Run()
	os.Exit(code)
}

// recorder is a language.Output that keeps everything in order.
type recorder struct {
	mu     sync.Mutex
	events []string
	input  func(string) (string, error)
}

func (r *recorder) Stream(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, name+":"+text)
}
func (r *recorder) Display(d language.Display) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("display:%v", d.Data))
}
func (r *recorder) ClearOutput(wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "clear")
}
func (r *recorder) Input(prompt string, password bool) (string, error) {
	if r.input == nil {
		return "", errors.New("no input")
	}
	return r.input(prompt)
}
func (r *recorder) text(stream string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.events {
		if s, ok := strings.CutPrefix(e, stream+":"); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

func startClient(t *testing.T) *Client {
	t.Helper()
	c, err := Start(context.Background(), Options{Binary: testBinary, Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *Client, code string) (language.ExecuteResult, *recorder) {
	t.Helper()
	r := &recorder{}
	res := c.Execute(context.Background(), language.ExecuteRequest{Code: code, AllowStdin: true}, r)
	return res, r
}

func TestClientOutputAndState(t *testing.T) {
	c := startClient(t)
	res, r := run(t, c, `import ("fmt"; "os"; "log")`)
	if res.Status != "ok" {
		t.Fatalf("import: %+v", res.Error)
	}
	res, r = run(t, c, "for i := 0; i < 1000; i++ { fmt.Println(\"line\", i) }\nfmt.Fprintln(os.Stderr, \"to stderr\")\nlog.SetFlags(0)\nlog.Println(\"logged\")\nx := 6\nx * 7")
	if res.Status != "ok" || res.Result["text/plain"] != "42" {
		t.Fatalf("cell: %+v %+v", res, res.Error)
	}
	out := r.text("stdout")
	if strings.Count(out, "\n") != 1000 || !strings.HasSuffix(out, "line 999\n") {
		t.Fatalf("stdout lost lines: %d lines", strings.Count(out, "\n"))
	}
	if errText := r.text("stderr"); !strings.Contains(errText, "to stderr\n") || !strings.Contains(errText, "logged\n") {
		t.Fatalf("stderr: %q", errText)
	}
	res, _ = run(t, c, "x + 1")
	if res.Result["text/plain"] != "7" {
		t.Fatalf("state lost: %+v", res)
	}
}

func TestClientCrashRestarts(t *testing.T) {
	c := startClient(t)
	run(t, c, "y := 5")
	run(t, c, `import "os"`)
	for code, reason := range map[string]string{
		"go func() { panic(\"in goroutine\") }()\nselect {}": "panic: in goroutine",
		"os.Exit(3)": "exit status 3",
		"func() { var f func(int) int; f = func(n int) int { return f(n+1) + 1 }; f(0) }()": "fatal error: stack overflow",
	} {
		run(t, c, `import "os"`) // each crash resets the state
		start := time.Now()
		res, r := run(t, c, code)
		if res.Status != "error" || !res.EngineRestarted {
			t.Fatalf("%q: want a crash and restart, got %+v %+v (stderr %q)", code, res, res.Error, r.text("stderr"))
		}
		t.Logf("%q -> %s in %v", code, res.Error.Value, time.Since(start))
		if !strings.Contains(res.Error.Value, reason) || strings.Contains(res.Error.Value, "repanicked") {
			t.Errorf("%q: the error does not give the reason %q: %s", code, reason, res.Error.Value)
		}
		// The reason, not every goroutine's stack through yaegi.
		if stderr := r.text("stderr"); strings.Contains(stderr, "yaegi/interp.") {
			t.Errorf("%q: the crash dumped the interpreter's stacks into the cell:\n%s", code, stderr)
		}
		res, _ = run(t, c, "1 + 1")
		if res.Result["text/plain"] != "2" {
			t.Fatalf("engine not usable after crash: %+v", res)
		}
	}
}

func TestClientInterrupt(t *testing.T) {
	c := startClient(t)
	run(t, c, "z := 41")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	res := c.Execute(ctx, language.ExecuteRequest{Code: "for {}"}, &recorder{})
	if res.Status != "error" || res.Error.Name != "Interrupted" || res.EngineRestarted {
		t.Fatalf("interrupt: %+v", res.Error)
	}
	// Not restarted: the cell stopped by itself, within interruptGrace.
	// How fast is measured by tests/e2e/bench_kernel.py, not asserted here:
	// on a loaded machine it can take a second.
	t.Logf("interrupt took %v", time.Since(start))
	res, _ = run(t, c, "z + 1")
	if res.Result["text/plain"] != "42" {
		t.Fatalf("state lost after interrupt: %+v", res)
	}
}

// A notebook function that kernel/numcode compiles runs outside the
// interpreter; interrupting it must still stop it, and leave nothing spinning.
func TestClientInterruptsCompiledLoop(t *testing.T) {
	// A whole numeric procedure (RunProc), a recursive one, and a loop in a
	// function that prints (RunLoop).
	for _, c := range []struct{ decl, call string }{
		{"func spin(n int) int {\n\tfor {\n\t\tn++\n\t}\n}", "spin(1)"},
		{"func fib(n int) int {\n\tif n < 2 {\n\t\treturn n\n\t}\n\treturn fib(n-1) + fib(n-2)\n}", "fib(90)"},
		{"func spinThenPrint(n int) {\n\tfor n > 0 {\n\t\tn++\n\t}\n\tfmt.Println(n)\n}", "spinThenPrint(1)"},
	} {
		t.Run(c.call, func(t *testing.T) {
			cl := startClient(t)
			run(t, cl, "import (\"fmt\"; \"os\"; \"strconv\"; \"strings\"; \"time\")\n"+c.decl)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			res := cl.Execute(ctx, language.ExecuteRequest{Code: c.call}, &recorder{})
			if res.Status != "error" || res.Error.Name != "Interrupted" || res.EngineRestarted {
				t.Fatalf("interrupt: %+v", res.Error)
			}
			// Not restarted: the loop stopped by itself, within
			// interruptGrace (see TestClientInterrupt).
			t.Logf("interrupt took %v", time.Since(start))
			// The engine's CPU time while the next cell sleeps: a loop left
			// running would add the whole sleep.
			r := &recorder{}
			res = cl.Execute(context.Background(), language.ExecuteRequest{Code: `cpu := func() int {
	b, _ := os.ReadFile("/proc/self/stat")
	f := strings.Fields(string(b))
	u, _ := strconv.Atoi(f[13])
	s, _ := strconv.Atoi(f[14])
	return u + s // clock ticks, 100 a second
}
before := cpu()
time.Sleep(500 * time.Millisecond)
fmt.Println(cpu()-before < 25)`}, r)
			if res.Status != "ok" || r.text("stdout") != "true\n" {
				t.Fatalf("the interrupted loop kept running: %+v %q", res.Error, r.text("stdout"))
			}
		})
	}
}

func TestClientInputAndPartialLine(t *testing.T) {
	c := startClient(t)
	r := &recorder{input: func(string) (string, error) { return "gopher", nil }}
	run(t, c, `import "fmt"`)
	res := c.Execute(context.Background(), language.ExecuteRequest{AllowStdin: true, Code: "var name string\nfmt.Print(\"Name: \")\nfmt.Scanln(&name)\nfmt.Println(\"hello\", name)"}, r)
	if res.Status != "ok" || r.text("stdout") != "Name: hello gopher\n" {
		t.Fatalf("input: %+v %q", res.Error, r.text("stdout"))
	}
	res = c.Execute(context.Background(), language.ExecuteRequest{AllowStdin: false, Code: "var s string\n_, err := fmt.Scanln(&s)\nfmt.Println(err)"}, r)
	if !strings.Contains(r.text("stdout"), "allow_stdin is false") {
		t.Fatalf("no clear error without stdin: %q", r.text("stdout"))
	}
}

func TestClientHugeOutput(t *testing.T) {
	c := startClient(t)
	run(t, c, `import ("fmt"; "strings")`)
	start := time.Now()
	r := &countingOutput{}
	res := c.Execute(context.Background(), language.ExecuteRequest{Code: "s := strings.Repeat(\"x\", 100<<20)\nfmt.Print(s)\nfmt.Println()\nfmt.Println(\"after\")"}, r)
	if res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
	if r.n != 100<<20+len("\nafter\n") {
		t.Fatalf("got %d bytes, want %d", r.n, 100<<20+len("\nafter\n"))
	}
	t.Logf("100 MB line delivered in %v in %d pieces", time.Since(start), r.calls)
	res, _ = run(t, c, "1 + 1")
	if res.Result["text/plain"] != "2" {
		t.Fatalf("engine unusable after a 100 MB print: %+v", res)
	}
}

type countingOutput struct {
	recorder
	n, calls int
}

func (o *countingOutput) Stream(name, text string) { o.n += len(text); o.calls++ }

// An engine killed by SIGINT while it starts (jupyter_client interrupts the
// kernel's whole process group) is started again, not reported as broken.
func TestStartSurvivesInterruptAtStart(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "interrupted-once")
	script := filepath.Join(dir, "engine.sh")
	body := "#!/bin/sh\nif [ ! -e " + mark + " ]; then touch " + mark + "; kill -INT $$; sleep 5; fi\nexec " + testBinary + " \"$@\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Start(context.Background(), Options{Binary: script, NoSpare: true, Log: os.Stderr})
	if err != nil {
		t.Fatalf("start after an interrupted first attempt: %v", err)
	}
	defer c.Close()
	if _, err := os.Stat(mark); err != nil {
		t.Fatal("the first attempt did not run")
	}
	if res, _ := run(t, c, "1+1"); res.Status != "ok" {
		t.Fatalf("%+v", res.Error)
	}
}
