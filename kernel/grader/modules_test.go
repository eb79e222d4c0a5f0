package grader

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

// withCell returns the notebook at path with a code cell of src inserted
// after its first code cell.
func withCell(t *testing.T, path, src string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb map[string]any
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	cells := nb["cells"].([]any)
	for i, c := range cells {
		if c.(map[string]any)["cell_type"] == "code" {
			cell := map[string]any{"cell_type": "code", "metadata": map[string]any{}, "source": src, "outputs": []any{}, "execution_count": nil}
			cells = append(cells[:i+1], append([]any{cell}, cells[i+1:]...)...)
			break
		}
	}
	nb["cells"] = cells
	out, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGradeWithModules grades a class whose assignment imports a module:
// the engine is built once, from the source notebook's pins, before any
// submission runs, and every submission runs on it in its sandbox. A
// submission cannot get another module built: its import fails with a
// clear error, its other answers are graded as usual, and nothing is built
// for it.
func TestGradeWithModules(t *testing.T) {
	if goprocBinary == "" {
		t.Skip("end-to-end: needs the goproc binary (not with -short or GOPROC_SKIP_E2E)")
	}
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	cache := t.TempDir()
	uses := "import \"example.com/greet\"\nfmt.Println(greet.Hello(\"class\"))"
	if err := os.WriteFile(filepath.Join(dir, "source.ipynb"), withCell(t, filepath.Join(root, "notebooks/assignment.ipynb"), uses), 0o644); err != nil {
		t.Fatal(err)
	}
	// The instructor pinned v1.0.0, though v1.1.0 is the latest.
	pins := "module notebook\n\ngo 1.21\n\nrequire example.com/greet v1.0.0\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(pins), 0o644); err != nil {
		t.Fatal(err)
	}
	subs := filepath.Join(dir, "subs")
	if err := os.Mkdir(subs, 0o755); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(root, "notebooks/submissions/000.ipynb")
	for name, src := range map[string]string{
		"honest": uses,
		"greedy": "import \"example.com/other/more\"\nmore.Thing()\n%go get example.com/other@latest",
	} {
		if err := os.WriteFile(filepath.Join(subs, name+".ipynb"), withCell(t, sample, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goprocBinary, "grade", "--source", filepath.Join(dir, "source.ipynb"),
		"--out", out, "--jobs", "2", "--quiet", subs)
	cmd.Env = append(os.Environ(), modtest.Env(modtest.Proxy(t), cache)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("goproc grade: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	gb, err := ReadGradebook(filepath.Join(out, "gradebook.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gb.Students {
		// 000's answers score 7 with or without the extra cell.
		if r.Total != 7 {
			t.Errorf("%s: total %v, want 7 (as 000 scores)", r.Student, r.Total)
		}
	}
	feedback := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, "feedback", name+".ipynb"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if fb := feedback("honest"); !strings.Contains(fb, "hello class from v1.0.0") {
		t.Errorf("the honest submission's module cell did not run on the pinned version:\n%s", fb)
	}
	fb := feedback("greedy")
	if !strings.Contains(fb, "package example.com/other/more is not built into this engine") {
		t.Errorf("the greedy submission's import did not fail clearly:\n%s", fb)
	}
	engines, _ := os.ReadDir(filepath.Join(cache, "engines"))
	if len(engines) != 1 {
		t.Errorf("%d engines built, want 1 (the source notebook's)", len(engines))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "go.mod")); string(b) != pins {
		t.Errorf("grading moved the instructor's pins:\n%s", b)
	}
}
