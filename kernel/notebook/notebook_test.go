package notebook

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `{
 "cells": [
  {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Title\n", "<b>x</b> & y"]},
  {"cell_type": "code", "id": "c1", "metadata": {"tags": ["skip-execution"]}, "execution_count": null, "outputs": [],
   "source": "fmt.Println(\"<hi>\")"},
  {"cell_type": "code", "id": "c2", "metadata": {}, "execution_count": 3, "source": "x",
   "outputs": [
    {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]},
    {"output_type": "display_data", "data": {"text/html": ["<p>\n", "</p>"], "application/json": {"a": [1, 2]}, "image/png": "AAAA"}, "metadata": {}},
    {"output_type": "execute_result", "execution_count": 3, "data": {"text/plain": "42"}, "metadata": {}},
    {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t"]}
   ]}
 ],
 "metadata": {"kernelspec": {"name": "goproc", "display_name": "Go (goproc)", "language": "go"}},
 "nbformat": 4,
 "nbformat_minor": 5
}`

func TestRoundTrip(t *testing.T) {
	nb, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if nb.Language() != "go" {
		t.Errorf("Language() = %q", nb.Language())
	}
	if !nb.Cells[1].HasTag("skip-execution") || nb.Cells[2].HasTag("skip-execution") {
		t.Error("HasTag is wrong")
	}
	dd := nb.Cells[2].Outputs[1]
	if dd.Data["text/html"] != "<p>\n</p>" {
		t.Errorf("split text/html not rejoined: %#v", dd.Data["text/html"])
	}
	if _, ok := dd.Data["application/json"].(map[string]any); !ok {
		t.Errorf("application/json changed: %#v", dd.Data["application/json"])
	}
	b, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"<b>x</b> & y"`, // no HTML escaping
		`"execution_count": null`,
		"\"text/html\": [\n       \"<p>\\n\",\n       \"</p>\"\n      ]",
		`"cell_type": "markdown",` + "\n   \"id\": \"m1\"", // keys sorted
	} {
		if !strings.Contains(s, want) {
			t.Errorf("marshalled notebook lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, `"outputs"`) != 2 || strings.Contains(s, `"outputs": null`) {
		t.Errorf("outputs only on code cells, never null:\n%s", s)
	}
	nb2, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := nb2.Marshal()
	if !bytes.Equal(b, b2) {
		t.Errorf("not stable across a round trip:\n%s\n---\n%s", b, b2)
	}

	// Jupyter's own writer produces the same bytes, when nbformat is installed.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", `import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
sys.stdout.write(nbformat.writes(nb) + "\n")`, path)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "No module named") {
			t.Skip("python3-nbformat is not installed")
		}
		t.Fatalf("nbformat rejects our notebook: %v\n%s", err, err.(*exec.ExitError).Stderr)
	}
	if !bytes.Equal(out, b) {
		t.Errorf("nbformat writes\n%s\nwe write\n%s", out, b)
	}
}

func TestCodeCellWithoutOutputs(t *testing.T) {
	nb := &Notebook{NBFormat: 4, NBFormatMinor: 5, Cells: []*Cell{{ID: "a", CellType: "code", Source: "1"}}}
	b, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"outputs": []`, `"execution_count": null`, `"metadata": {}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("missing %s in\n%s", want, b)
		}
	}
}

func TestEnsureIDs(t *testing.T) {
	nb := &Notebook{NBFormat: 4, NBFormatMinor: 5, Cells: []*Cell{{ID: "keep"}, {}, {}}}
	nb.EnsureIDs()
	if nb.Cells[0].ID != "keep" || nb.Cells[1].ID == "" || nb.Cells[2].ID == "" || nb.Cells[1].ID == nb.Cells[2].ID {
		t.Errorf("ids %q %q %q", nb.Cells[0].ID, nb.Cells[1].ID, nb.Cells[2].ID)
	}
	old := &Notebook{NBFormat: 4, NBFormatMinor: 4, Cells: []*Cell{{}}}
	old.EnsureIDs()
	if old.Cells[0].ID != "" {
		t.Error("ids added to a 4.4 notebook, which does not allow them")
	}
}
