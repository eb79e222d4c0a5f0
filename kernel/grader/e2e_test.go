package grader

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/confine"
	"github.com/goproc/goproc/kernel/notebook"
)

// goprocBinary is the goproc binary the end-to-end tests run: the one
// tests/run.sh built (GOPROC_TEST_BINARY), or one built by TestMain.
var goprocBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			return m.Run()
		}
		goprocBinary = os.Getenv("GOPROC_TEST_BINARY")
		if goprocBinary == "" && os.Getenv("GOPROC_SKIP_E2E") == "" {
			dir, err := os.MkdirTemp("", "goproc-grader-test-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			goprocBinary = filepath.Join(dir, "goproc")
			cmd := exec.Command("go", "build", "-o", goprocBinary, ".")
			cmd.Dir = "../.."
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "building goproc for the end-to-end tests:", err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

type expectation struct {
	Students map[string]map[string]any `json:"students"`
}

// TestGradeSamples grades notebooks/submissions with the real binary and
// compares every score with notebooks/submissions/expected.json.
func TestGradeSamples(t *testing.T) {
	if goprocBinary == "" {
		t.Skip("end-to-end: needs the goproc binary (not with -short or GOPROC_SKIP_E2E)")
	}
	root, _ := filepath.Abs("../..")
	var exp expectation
	b, err := os.ReadFile(filepath.Join(root, "notebooks/submissions/expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goprocBinary, "grade",
		"--source", filepath.Join(root, "notebooks/assignment.ipynb"),
		"--out", out, "--jobs", "2", "--timeout", "5s", "--quiet",
		filepath.Join(root, "notebooks/submissions"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err = cmd.Run()
	t.Logf("goproc grade took %v\n%s", time.Since(t0).Round(time.Millisecond), stdout.String())
	if err != nil {
		t.Fatalf("goproc grade: %v\n%s", err, stderr.String())
	}
	gb, err := ReadGradebook(filepath.Join(out, "gradebook.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, r := range gb.Students {
		got[r.Student] = r
	}
	var names []string
	for n := range exp.Students {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		want := exp.Students[name]
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: not in the gradebook", name)
			continue
		}
		for _, s := range r.Scores {
			w, ok := want[s.GradeID]
			if !ok {
				t.Errorf("%s: %s not in expected.json", name, s.GradeID)
				continue
			}
			switch w := w.(type) {
			case string:
				if !s.NeedsManualGrade {
					t.Errorf("%s %s: %v/%v (%s), want it waiting for manual grading", name, s.GradeID, s.Points, s.Max, s.Feedback)
				}
			case float64:
				if s.NeedsManualGrade || s.Points != w {
					t.Errorf("%s %s: %v/%v (%s), want %v", name, s.GradeID, s.Points, s.Max, s.Feedback, w)
				}
			}
		}
		if w := want["total"].(float64); r.Total != w {
			t.Errorf("%s: total %v, want %v", name, r.Total, w)
		}
		if wc, ok := want["changes"].([]any); ok {
			var gc []string
			for _, c := range r.Changes {
				gc = append(gc, c.String())
			}
			if fmt.Sprint(wc) != fmt.Sprint(gc) {
				t.Errorf("%s: changes %q, want %q", name, gc, wc)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "feedback", name+".ipynb")); err != nil {
			t.Errorf("%s: no feedback notebook: %v", name, err)
		}
	}
	if strings.Contains(gb.WriteConfinement, "not available") {
		t.Logf("write confinement: %s", gb.WriteConfinement)
	}
}

// TestGradeConfinesWrites grades a submission that writes inside and
// outside its working directory, from the engine's goroutines and from a
// child process, and checks that only the writes inside succeed.
func TestGradeConfinesWrites(t *testing.T) {
	if goprocBinary == "" {
		t.Skip("end-to-end: needs the goproc binary (not with -short or GOPROC_SKIP_E2E)")
	}
	if v, err := confine.Available(); err != nil || v == 0 {
		t.Skipf("Landlock not available: %v", err)
	}
	dir, outside := t.TempDir(), t.TempDir()
	code := fmt.Sprintf(`import (
	"fmt"
	"os"
	"sync"

	"multiprocessing"
)

func try(path string) string {
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		return "denied " + path
	}
	return "wrote " + path
}

func report(path string) { fmt.Println(try(path)) }

fmt.Println(try("inside.txt"))
var wg sync.WaitGroup
lines := make([]string, 8)
for i := range lines {
	wg.Add(1)
	go func() {
		defer wg.Done()
		lines[i] = try(fmt.Sprintf("%%s/engine%%d.txt", %q, i))
	}()
}
wg.Wait()
for _, l := range lines {
	fmt.Println(l)
}
p := &multiprocessing.Process{Target: report, Args: []any{%q + "/child.txt"}}
if err := p.Start(); err != nil {
	panic(err)
}
p.Join()
`, outside, outside)
	src := &notebook.Notebook{NBFormat: 4, NBFormatMinor: 5,
		Metadata: map[string]any{"kernelspec": map[string]any{"name": "goproc", "display_name": "Go (goproc)", "language": "go"}},
		Cells:    []*notebook.Cell{cell("code", "w_answer", answer, code)}}
	writeNB(t, filepath.Join(dir, "source.ipynb"), src)
	writeNB(t, filepath.Join(dir, "subs", "student.ipynb"), src)
	out := filepath.Join(dir, "out")
	cmd := exec.Command(goprocBinary, "grade", "--source", filepath.Join(dir, "source.ipynb"),
		"--out", out, "--quiet", filepath.Join(dir, "subs"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goproc grade: %v\n%s", err, b)
	}
	b, err := os.ReadFile(filepath.Join(out, "feedback", "student.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	fb, err := notebook.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, c := range fb.Cells {
		if m, ok := MetaOf(c); !ok || m.GradeID != "w_answer" {
			continue
		}
		for _, o := range c.Outputs {
			if o.Text != nil {
				text.WriteString(string(*o.Text))
			}
			text.WriteString(o.EName + o.EValue)
		}
	}
	got := text.String()
	want := []string{"wrote inside.txt", "denied " + outside + "/child.txt"}
	for i := range 8 {
		want = append(want, fmt.Sprintf("denied %s/engine%d.txt", outside, i))
	}
	for _, w := range want {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("want %q in the cell's output:\n%s", w, got)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("the submission wrote outside its working directory: %v", entries)
	}
}
