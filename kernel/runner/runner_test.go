package runner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/nbexec"
	"github.com/goproc/goproc/kernel/notebook"
)

// goproc is the binary under test: $GOPROC_TEST_BINARY, or one built from the module
// in TestMain.
var goproc string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if goproc = binaryFromEnv(); goproc != "" {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "goproc-runner-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		goproc = filepath.Join(dir, "goproc")
		root, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go env GOMOD:", err)
			return 1
		}
		build := exec.Command("go", "build", "-o", goproc, ".")
		build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building goproc: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

type result struct {
	code           int
	stdout, stderr string
	wall           time.Duration
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goproc, append([]string{"run"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("goproc run %v: %v", args, err)
	}
	return r
}

// copyNB copies a test notebook into a temporary directory.
func copyNB(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func savedText(t *testing.T, path string) string {
	t.Helper()
	nb, err := notebook.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var s strings.Builder
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			s.WriteString(nbexec.PlainText(o))
		}
	}
	return s.String()
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "missing.ipynb")}, "missing.ipynb: no such file"},
		{[]string{"testdata/notjson.ipynb"}, "notjson.ipynb is not a Jupyter notebook"},
		{[]string{"testdata/v3.ipynb"}, "v3.ipynb is not a Jupyter notebook: not an nbformat 4 notebook"},
		{[]string{"testdata/python.ipynb"}, "python.ipynb is a python notebook; goproc runs Go notebooks"},
		{[]string{dir}, "is a directory"},
		{nil, "no notebook given"},
		{[]string{"a.ipynb", "b.ipynb"}, "one notebook at a time"},
		{[]string{"testdata/ok.ipynb", "--inplace", "--out", "x.ipynb"}, "--out and --inplace are exclusive"},
		{[]string{"testdata/ok.ipynb", "--timeout", "soon"}, `--timeout "soon" is not a duration`},
		{[]string{"testdata/ok.ipynb", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"testdata/ok.ipynb", "--out", filepath.Join(dir, "no/such/dir/x.ipynb")}, "does not exist"},
	}
	for _, c := range cases {
		r := run(t, c.args...)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("goproc run %q: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestRunOK(t *testing.T) {
	nbPath := copyNB(t, "ok.ipynb")
	out := filepath.Join(t.TempDir(), "out.ipynb")
	before, _ := os.ReadFile(nbPath)
	r := run(t, nbPath, "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	want := "hello\n<tag> & é\n42\n**bold**\nno newline\"quoted\"\n"
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if saved := savedText(t, out); saved != r.stdout {
		t.Errorf("terminal and saved notebook differ:\nterminal %q\nsaved    %q", r.stdout, saved)
	}
	for _, w := range []string{"[1/5] cell 2 … ok", "[2/5] cell 3 … \n[2/5] cell 3 ok", "cell 6 skipped (tag skip-execution)", "5 cells ran in", "wrote " + out} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if after, _ := os.ReadFile(nbPath); !bytes.Equal(before, after) {
		t.Error("the input notebook changed without --inplace")
	}
	nb, err := notebook.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	c := nb.Cells[3]
	if *c.ExecutionCount != 3 || c.Outputs[0].OutputType != "execute_result" || *c.Outputs[0].ExecutionCount != 3 {
		t.Errorf("cell 4: count %v outputs %+v", c.ExecutionCount, c.Outputs)
	}
	if d := nb.Cells[4].Outputs[0]; d.OutputType != "display_data" || d.Data["text/markdown"] != "**bold**" {
		t.Errorf("display output %+v", d)
	}
	if li, _ := nb.Metadata["language_info"].(map[string]any); li["name"] != "go" {
		t.Errorf("language_info %v", nb.Metadata["language_info"])
	}
	if _, err := exec.LookPath("/usr/bin/python3"); err == nil {
		v := exec.Command("/usr/bin/python3", "-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], 4))", out)
		if b, err := v.CombinedOutput(); err != nil && !strings.Contains(string(b), "No module named") {
			t.Errorf("nbformat rejects the executed notebook: %v\n%s", err, b)
		}
	}

	// No --out: nothing is written next to the notebook.
	r = run(t, nbPath)
	if r.code != 0 || r.stdout != want {
		t.Errorf("without --out: exit %d stdout %q", r.code, r.stdout)
	}
	if ents, _ := os.ReadDir(filepath.Dir(nbPath)); len(ents) != 1 {
		t.Errorf("files were written beside the notebook: %v", ents)
	}
}

func TestInplace(t *testing.T) {
	nbPath := copyNB(t, "ok.ipynb")
	if r := run(t, "--inplace", nbPath); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if s := savedText(t, nbPath); !strings.HasPrefix(s, "hello\n") {
		t.Errorf("--inplace did not save outputs: %q", s)
	}
}

func TestFailingCell(t *testing.T) {
	nbPath := copyNB(t, "fails.ipynb")
	out := filepath.Join(t.TempDir(), "out.ipynb")
	r := run(t, nbPath, "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "fails.ipynb: cell 3 failed: ") || !strings.Contains(r.stderr, "boom") {
		t.Fatalf("exit %d stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "after") || !strings.Contains(r.stdout, "before\n") || !strings.Contains(r.stdout, "boom") {
		t.Errorf("stdout %q", r.stdout)
	}
	if saved := savedText(t, out); saved != r.stdout {
		t.Errorf("terminal %q != saved %q", r.stdout, saved)
	}

	r = run(t, nbPath, "--allow-errors")
	if r.code != 0 || !strings.Contains(r.stdout, "after\n") || !strings.Contains(r.stderr, "1 failed (--allow-errors)") {
		t.Errorf("--allow-errors: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, copyNB(t, "raises.ipynb"))
	if r.code != 0 || !strings.Contains(r.stdout, "after\n") {
		t.Errorf("raises-exception tag: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestTimeoutInterruptsCell(t *testing.T) {
	nbPath := copyNB(t, "sleep.ipynb")
	out := filepath.Join(t.TempDir(), "out.ipynb")
	r := run(t, nbPath, "--timeout", "500ms", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "cell 2 did not finish within the 500ms limit per cell and was interrupted") {
		t.Fatalf("exit %d stderr:\n%s", r.code, r.stderr)
	}
	if r.wall > 10*time.Second {
		t.Errorf("took %v: the timeout did not interrupt the cell", r.wall)
	}
	if s := savedText(t, out); !strings.Contains(s, "sleeping\n") || !strings.Contains(s, "CellTimeoutError") {
		t.Errorf("saved %q", s)
	}
}

func TestCtrlC(t *testing.T) {
	nbPath := copyNB(t, "sleep.ipynb")
	cmd := exec.Command(goproc, "run", nbPath)
	var stderr bytes.Buffer
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("sleeping\n"))
	if _, err := stdout.Read(buf); err != nil || string(buf) != "sleeping\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("goproc run did not stop on SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "interrupted in cell 2") {
		t.Errorf("err %v stderr %q", err, stderr.String())
	}
	t.Logf("stopped %v after SIGINT", time.Since(start))
}

// binaryFromEnv is a prebuilt goproc named by $GOPROC_TEST_BINARY (as
// tests/run.sh sets it) or $GOPROC_BIN, or "".
func binaryFromEnv() string {
	if b := os.Getenv("GOPROC_TEST_BINARY"); b != "" {
		return b
	}
	return os.Getenv("GOPROC_BIN")
}
