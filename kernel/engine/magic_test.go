package engine

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/language"
)

// timing is what %time and %%time print, in IPython's form.
var timing = regexp.MustCompile(`CPU times: user [0-9.]+ (s|ms|µs|ns), sys: [0-9.]+ (s|ms|µs|ns), total: [0-9.]+ (s|ms|µs|ns)\nWall time: [0-9.]+ (s|ms|µs|ns)\n$`)

// TestMagicCells runs magics and shell lines through the real engine
// process, mixed with Go, and Go lines that only look like them.
func TestMagicCells(t *testing.T) {
	c := startClient(t)
	type want struct {
		stdout  string // exact, or a pattern when it starts with ~
		stderr  string // a substring
		result  string
		errName string
	}
	cases := []struct {
		name, code string
		want
	}{
		{"go setup", "import (\"fmt\"; \"os\")\nok := false", want{}},
		{"%%time runs the cell and shows its result", "%%time\nfmt.Println(\"body\")\nx := 21\nx * 2", want{stdout: "~^body\n" + timing.String(), result: "42"}},
		{"%time of an expression", "%time x + 1", want{stdout: "~^" + timing.String(), result: "22"}},
		{"%time of a statement declares", "%time y := x * 3", want{stdout: "~^" + timing.String()}},
		{"declared by %time", "y", want{result: "63"}},
		{"a shell line and Go in order", "fmt.Println(\"a\")\n!echo b\nfmt.Println(\"c\")", want{stdout: "a\nb\nc\n"}},
		{"a shell line's stderr", "!echo oops >&2", want{stderr: "oops\n"}},
		{"a non-zero exit does not fail the cell", "!exit 3\nfmt.Println(\"after\")", want{stdout: "after\n", stderr: "returned non-zero exit status 3"}},
		{"%env sets", "%env GOPROC_MAGIC_TEST=hello world", want{stdout: "env: GOPROC_MAGIC_TEST=hello world\n"}},
		{"%env NAME value sets", "%env GOPROC_MAGIC_TEST2 two", want{stdout: "env: GOPROC_MAGIC_TEST2=two\n"}},
		{"cells see it", "os.Getenv(\"GOPROC_MAGIC_TEST\")", want{result: `"hello world"`}},
		{"commands see it", "!echo $GOPROC_MAGIC_TEST2", want{stdout: "two\n"}},
		{"%env NAME shows it", "%env GOPROC_MAGIC_TEST", want{stdout: "hello world\n"}},
		{"%env lists", "%env", want{stdout: "~(?m)^GOPROC_MAGIC_TEST=hello world$"}},
		{"%env of an unset name", "%env GOPROC_NO_SUCH_VARIABLE", want{errName: "UsageError"}},
		{"%help", "%help", want{stdout: "~%%time[^\n]*\n(.*\n)*  %env.*\n(.*\n)*  %help.*\n(.*\n)*  !COMMAND"}},
		{"%go get", "%go get golang.org/x/text@v0.14.0", want{errName: "NotImplementedError"}},
		{"unknown magic runs nothing", "fmt.Println(\"not run\")\n%nosuch", want{errName: "UsageError"}},
		{"! and % in Go stay Go", "notOK := !ok\nr := 7 % 4\nfmt.Printf(\"%v %d%%\\n\", notOK,\n\tr)\nboth := notOK &&\n\t!ok\nboth", want{stdout: "true 3%\n", result: "true"}},
		{"an error stops the cell", "!echo first\npanic(\"boom\")\n!echo never", want{stdout: "first\n", errName: "panic"}},
	}
	for _, tc := range cases {
		res, r := run(t, c, tc.code)
		if tc.errName != "" {
			if res.Error == nil || res.Error.Name != tc.errName {
				t.Errorf("%s: want error %s, got %s %+v", tc.name, tc.errName, res.Status, res.Error)
			}
		} else if res.Status != "ok" {
			t.Errorf("%s: %+v\nstderr: %s", tc.name, res.Error, r.text("stderr"))
			continue
		}
		out := r.text("stdout")
		if pat, ok := strings.CutPrefix(tc.stdout, "~"); ok {
			if !regexp.MustCompile(pat).MatchString(out) {
				t.Errorf("%s: stdout %q does not match %q", tc.name, out, pat)
			}
		} else if out != tc.stdout {
			t.Errorf("%s: stdout %q, want %q", tc.name, out, tc.stdout)
		}
		if errText := r.text("stderr"); !strings.Contains(errText, tc.stderr) {
			t.Errorf("%s: stderr %q, want %q in it", tc.name, errText, tc.stderr)
		}
		if got, _ := res.Result["text/plain"].(string); got != tc.result {
			t.Errorf("%s: result %q, want %q", tc.name, got, tc.result)
		}
	}
}

// A Go part after a magic line reports errors at the cell's own line and
// column.
func TestMagicKeepsLineNumbers(t *testing.T) {
	c := startClient(t)
	res, _ := run(t, c, "!true\nx := 1\n   %time y := nosuch + x")
	if res.Error == nil {
		t.Fatal("want an error")
	}
	if tb := strings.Join(res.Error.Traceback, "\n"); !strings.Contains(tb, "line 3") || !strings.Contains(tb, "nosuch") {
		t.Fatalf("traceback does not point at line 3:\n%s", tb)
	}
}

// !command runs in the engine's working directory, streams its output as
// it comes, and is stopped by an interrupt, which keeps the notebook.
func TestMagicShellStreamsAndInterrupts(t *testing.T) {
	c := startClient(t)
	wd, _ := os.Getwd()
	if res, r := run(t, c, "!pwd"); res.Status != "ok" || r.text("stdout") != wd+"\n" {
		t.Fatalf("!pwd: %+v %q, want %q", res.Error, r.text("stdout"), wd)
	}
	run(t, c, "z := 41")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &recorder{}
	started := make(chan time.Time, 1)
	go func() {
		// The first line arrives while the command still runs.
		for !strings.Contains(r.text("stdout"), "started") {
			time.Sleep(10 * time.Millisecond)
		}
		started <- time.Now()
		cancel()
	}()
	start := time.Now()
	res := c.Execute(ctx, language.ExecuteRequest{Code: "!echo started; sleep 30; echo never"}, r)
	if res.Status != "error" || res.Error.Name != "Interrupted" || res.EngineRestarted {
		t.Fatalf("interrupt: %+v", res.Error)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the interrupt took %v", d)
	}
	select {
	case <-started:
	default:
		t.Fatal("no output before the interrupt")
	}
	if strings.Contains(r.text("stdout"), "never") {
		t.Fatal("the command went on after the interrupt")
	}
	if res, _ := run(t, c, "z + 1"); res.Result["text/plain"] != "42" {
		t.Fatalf("state lost after interrupt: %+v", res)
	}
}

// A variable %env sets reaches a Process started afterwards, even when
// warm workers were started before it.
func TestMagicEnvReachesChildProcesses(t *testing.T) {
	c := startClient(t)
	for _, code := range []string{
		"import (\"fmt\"; \"os\"; \"multiprocessing\")\nfunc show() { fmt.Println(\"child:\", os.Getenv(\"GOPROC_MAGIC_CHILD\")) }",
		"p := &multiprocessing.Process{Target: show}\np.Start()\np.Join()",
		"%env GOPROC_MAGIC_CHILD=set",
	} {
		if strings.HasPrefix(code, "%env") {
			time.Sleep(500 * time.Millisecond) // warm workers start after the first Process
		}
		if res, r := run(t, c, code); res.Status != "ok" {
			t.Fatalf("%q: %+v\n%s", code, res.Error, r.text("stderr"))
		}
	}
	res, r := run(t, c, "p2 := &multiprocessing.Process{Target: show}\np2.Start()\np2.Join()")
	if res.Status != "ok" || r.text("stdout") != "child: set\n" {
		t.Fatalf("child's environment: %+v %q", res.Error, r.text("stdout"))
	}
}

// is_complete (jupyter console's continuation prompt) knows magics: a lone
// %%time waits for its body, a command line is complete, Go after it
// decides.
func TestMagicIsComplete(t *testing.T) {
	c := startClient(t)
	for code, want := range map[string]string{
		"%%time":               "incomplete",
		"%%time\nx := 1":       "complete",
		"!echo {":              "complete",
		"%env A=b\nfunc f() {": "incomplete",
		"%nosuch":              "invalid",
		"x := 1":               "complete",
	} {
		res, err := c.IsComplete(context.Background(), code)
		if err != nil || res.Status != want {
			t.Errorf("%q: %+v %v, want %s", code, res, err, want)
		}
	}
}

// Tab after % completes the magics' names; Go completion is left as it was.
func TestMagicCompletion(t *testing.T) {
	c := startClient(t)
	res, err := c.Complete(context.Background(), "x := 1\n%e", 9)
	if err != nil || strings.Join(res.Matches, " ") != "%env" || res.CursorStart != 7 || res.CursorEnd != 9 {
		t.Fatalf("%%e: %+v %v", res, err)
	}
	res, err = c.Complete(context.Background(), "%zz", 3)
	if err != nil || res.Matches == nil || len(res.Matches) != 0 {
		t.Fatalf("%%zz: %+v %v", res, err)
	}
	res, err = c.Complete(context.Background(), "appe", 4)
	if err != nil || !strings.Contains(strings.Join(res.Matches, " "), "append") {
		t.Fatalf("Go completion: %+v %v", res, err)
	}
}
