package engine

import (
	"context"
	"strings"
	"testing"
)

// A cell that declares main and then calls it, as a port of Python's
// `if __name__ == "__main__": main()` does, runs main once.
func TestMainCalledOnce(t *testing.T) {
	in, out := newTestInterpreter(t)
	mustRunCell(t, in, "import \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\")\n}\n\nmain()")
	if got := out.take(); got != "main ran\n" {
		t.Errorf("output %q, want main to run once", got)
	}
	// A later cell's main() still reaches it.
	mustRunCell(t, in, "main()")
	if got := out.take(); got != "main ran\n" {
		t.Errorf("later call: %q", got)
	}
	_ = context.Background
	_ = strings.Contains
}

// Globals a top-level := defines reach a child as `var x = ...` ones do,
// whatever their type: []any, map[string]any, the notebook's own types.
func TestChildSeesDefinedGlobals(t *testing.T) {
	c := startClient(t)
	mustRun := func(code string) string {
		t.Helper()
		res, r := run(t, c, code)
		if res.Status != "ok" {
			t.Fatalf("%q: %+v\nstderr: %s", code, res.Error, r.text("stderr"))
		}
		return r.text("stdout")
	}
	mustRun(`import ("fmt"; "multiprocessing")`)
	mustRun("type point struct{ X, Y int }\nitems := []any{\"A\", 5}\nconfig := map[string]any{\"name\": \"n\"}\norigin := point{1, 2}\nptr := &point{3, 4}\npts := []point{{5, 6}}\nvar direct = []any{\"B\"}")
	mustRun("func show(i int) string { return fmt.Sprint(items[i], \" \", config[\"name\"], \" \", origin.X+ptr.Y+pts[0].Y, \" \", direct[0]) }")
	out := mustRun("pool := multiprocessing.NewPool(2)\nr, err := pool.Map(show, []int{0, 1})\npool.Close()\nfmt.Println(r, err)")
	if out != "[A n 11 B 5 n 11 B] <nil>\n" {
		t.Errorf("got %q", out)
	}
}
