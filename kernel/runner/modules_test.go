package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/modules/modtest"
)

// These tests import example.com/greet from a module proxy of the test's
// own (modtest), so that what "latest" and "pinned" mean is the test's to
// decide. The Go toolchain resolves and builds for real.

// moduleEnv is goproc run's environment for these tests: the test proxy,
// no checksum database for its module, and a cache of engines shared by
// the tests of one run (each set is built once).
func moduleEnv(t *testing.T, proxy, cache string) []string {
	return append(os.Environ(), modtest.Env(proxy, cache)...)
}

// writeNotebook writes a notebook of code cells into dir.
func writeNotebook(t *testing.T, dir, name string, cells ...string) string {
	t.Helper()
	type cell struct {
		CellType string         `json:"cell_type"`
		Metadata map[string]any `json:"metadata"`
		Source   string         `json:"source"`
		Outputs  []any          `json:"outputs"`
		Count    *int           `json:"execution_count"`
	}
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "goproc", "language": "go", "display_name": "Go"}},
	}
	var cs []cell
	for _, src := range cells {
		cs = append(cs, cell{CellType: "code", Metadata: map[string]any{}, Source: src, Outputs: []any{}})
	}
	nb["cells"] = cs
	b, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runWith runs goproc run with env and returns its result.
func runWith(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goproc, append([]string{"run"}, args...)...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("goproc run: %v", err)
	}
	return r
}

func pinned(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatalf("no go.mod beside the notebook: %v", err)
	}
	return string(b)
}

func TestModuleImportPinsAndReruns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds engines with the Go toolchain")
	}
	env := moduleEnv(t, modtest.Proxy(t), t.TempDir())
	dir := t.TempDir()
	cells := []string{
		"import \"fmt\"\nname := \"cell\"",
		"import \"example.com/greet\"\nfmt.Println(greet.Hello(name))",
		// The module in pool workers: they run the same engine binary.
		"import \"multiprocessing\"\nfunc hi(n int) string { return greet.Hello(fmt.Sprint(n)) }\n" +
			"pool := multiprocessing.NewPool(2)\nsaid, err := pool.Map(hi, []int{1, 2})\npool.Close()\nfmt.Println(said, err)",
	}
	nb := writeNotebook(t, dir, "greet.ipynb", cells...)

	// No pins: the latest version is taken, and pinned beside the notebook.
	r := runWith(t, env, nb)
	if r.code != 0 || !strings.Contains(r.stdout, "hello cell from v1.1.0") || !strings.Contains(r.stdout, "[hello 1 from v1.1.0 hello 2 from v1.1.0] <nil>") {
		t.Fatalf("first run: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if mod := pinned(t, dir); !strings.Contains(mod, "example.com/greet v1.1.0") {
		t.Fatalf("go.mod does not pin v1.1.0:\n%s", mod)
	}
	if !strings.Contains(r.stdout+r.stderr, "pinned example.com/greet@v1.1.0") {
		t.Errorf("the run did not say what it pinned:\n%s\n%s", r.stdout, r.stderr)
	}

	// Pinned to an older version: a re-run uses it, though v1.1.0 is the
	// latest.
	gomod := strings.Replace(pinned(t, dir), "example.com/greet v1.1.0", "example.com/greet v1.0.0", 1)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runWith(t, env, nb)
	if r.code != 0 || !strings.Contains(r.stdout, "hello cell from v1.0.0") {
		t.Fatalf("pinned re-run: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if mod := pinned(t, dir); !strings.Contains(mod, "example.com/greet v1.0.0") {
		t.Fatalf("the re-run moved the pin:\n%s", mod)
	}

	t.Logf("pinned re-run:\n%s\n%s", r.stdout, r.stderr)
	// Built once per set: the same run again builds nothing.
	r = runWith(t, env, nb)
	if r.code != 0 || strings.Contains(r.stderr, "building an engine") {
		t.Fatalf("a cached set was built again: exit %d\nstderr:\n%s", r.code, r.stderr)
	}

	// %go get moves the pin, and the notebook onto an engine with the new
	// version, keeping its state.
	nb2 := writeNotebook(t, dir, "upgrade.ipynb", append(cells, "%go get example.com/greet@v1.1.0\nfmt.Println(greet.Hello(name))")...)
	r = runWith(t, env, nb2)
	if r.code != 0 || !strings.Contains(r.stdout, "hello cell from v1.0.0") || !strings.Contains(r.stdout, "hello cell from v1.1.0") {
		t.Fatalf("%%go get: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if mod := pinned(t, dir); !strings.Contains(mod, "example.com/greet v1.1.0") {
		t.Fatalf("%%go get did not pin v1.1.0:\n%s", mod)
	}
}

func TestModuleThatDoesNotExist(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	env := moduleEnv(t, modtest.Proxy(t), t.TempDir())
	dir := t.TempDir()
	nb := writeNotebook(t, dir, "nope.ipynb",
		"import \"fmt\"\nkept := 41",
		"import \"example.com/nope/missing\"\nmissing.Do()",
		"kept++\nfmt.Println(\"still working:\", kept)",
	)
	out := filepath.Join(dir, "out.ipynb")
	r := runWith(t, env, nb, "--allow-errors", "--out", out)
	t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	text := savedText(t, out)
	for _, want := range []string{"cannot import example.com/nope/missing", "Check the import path", "still working: 42"} {
		if !strings.Contains(text, want) {
			t.Errorf("outputs lack %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		if mod := pinned(t, dir); strings.Contains(mod, "nope") {
			t.Errorf("a module that does not exist was pinned:\n%s", mod)
		}
	}
}

func TestModulePinsOfAGoProject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds engines with the Go toolchain")
	}
	env := moduleEnv(t, modtest.Proxy(t), t.TempDir())
	dir := t.TempDir()
	// A notebook inside a Go project: the project's go.mod says which
	// version, and goproc writes nothing into it.
	project := "module example.com/project\n\ngo 1.21\n\nrequire example.com/greet v1.0.0\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(project), 0o644); err != nil {
		t.Fatal(err)
	}
	nb := writeNotebook(t, dir, "in-project.ipynb", "import (\n\t\"fmt\"\n\t\"example.com/greet\"\n)\nfmt.Println(greet.Hello(\"project\"))")
	r := runWith(t, env, nb)
	if r.code != 0 || !strings.Contains(r.stdout, "hello project from v1.0.0") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := pinned(t, dir); got != project {
		t.Errorf("the project's go.mod was changed:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil {
		t.Errorf("goproc wrote a go.sum into the project")
	}
}

func TestModuleReplacedByALocalDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds engines with the Go toolchain")
	}
	env := moduleEnv(t, modtest.Proxy(t), t.TempDir())
	dir := t.TempDir()
	// A module being written beside the notebook, put in place of the
	// published one by a replace directive relative to the notebook.
	local := filepath.Join(dir, "greet")
	if err := os.MkdirAll(local, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"go.mod":   "module example.com/greet\n\ngo 1.21\n",
		"greet.go": "package greet\n\nfunc Hello(name string) string { return \"hello \" + name + \" from the local copy\" }\n",
	} {
		if err := os.WriteFile(filepath.Join(local, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pins := "module notebook\n\ngo 1.21\n\nrequire example.com/greet v1.0.0\n\nreplace example.com/greet => ./greet\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(pins), 0o644); err != nil {
		t.Fatal(err)
	}
	nb := writeNotebook(t, dir, "local.ipynb", "import (\n\t\"fmt\"\n\t\"example.com/greet\"\n)\nfmt.Println(greet.Hello(\"dev\"))")
	r := runWith(t, env, nb)
	if r.code != 0 || !strings.Contains(r.stdout, "hello dev from the local copy") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := pinned(t, dir); !strings.Contains(got, "=> ./greet") {
		t.Errorf("the relative replace was rewritten in the notebook's go.mod:\n%s", got)
	}
}
