package typecheck

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goproc/goproc/kernel/modules"
	"github.com/goproc/goproc/kernel/notebook"
)

// corpusRejects are the cells of the project's notebooks that the check
// rejects on purpose, by notebook and 1-based code cell: the Go compiler
// rejects them too.
var corpusRejects = map[string]string{}

// TestCorpus checks every code cell of the project's Go notebooks in order,
// as a notebook runs them: valid notebook code must pass.
func TestCorpus(t *testing.T) {
	var paths []string
	for _, pat := range []string{
		"../../notebooks/*.ipynb",
		"../../notebooks/submissions/*.ipynb",
		"../../tests/*/*.ipynb",
		"../runner/testdata/*.ipynb",
	} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	checked := 0
	for _, p := range paths {
		nb, err := notebook.Read(p)
		if err != nil || nb.Language() != "go" {
			continue
		}
		c := New(Options{})
		n := 0
		for _, cl := range nb.Cells {
			if cl.CellType != "code" {
				continue
			}
			n++
			if len(modules.Imports(string(cl.Source))) > 0 {
				// Checked in the engine with its modules built in
				// (kernel/runner's module tests and the notebook suite).
				continue
			}
			r := c.Check(string(cl.Source))
			c.Commit(r) // the notebook goes on, as a run of it does
			if r.skipped != "" {
				t.Errorf("%s cell %d not checked: %s", p, n, r.skipped)
			}
			checked++
			key := fmt.Sprintf("%s#%d", strings.TrimPrefix(p, "../../"), n)
			got := ""
			if len(r.Errors) > 0 {
				e := r.Errors[0]
				got = fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
			}
			if got != corpusRejects[key] {
				t.Errorf("%s: got %q, want %q\n%s", key, got, corpusRejects[key], cl.Source)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d cells checked", checked)
	}
	t.Logf("%d cells checked", checked)
}
