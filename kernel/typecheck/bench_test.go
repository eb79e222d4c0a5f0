package typecheck

import (
	"testing"

	"github.com/goproc/goproc/kernel/notebook"
)

// BenchmarkCheckTrivial is what the check adds to a trivial cell ("1") in
// a notebook whose earlier cells are the assignment's.
func BenchmarkCheckTrivial(b *testing.B) {
	c := New(Options{})
	nb, err := notebook.Read("../../notebooks/assignment.ipynb")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, cl := range nb.Cells {
		if cl.CellType == "code" {
			c.Commit(c.Check(string(cl.Source)))
			n++
		}
	}
	b.ReportMetric(float64(n), "earlier-cells")
	for b.Loop() {
		if r := c.Check("1"); len(r.Errors) > 0 || r.skipped != "" {
			b.Fatal(r.Errors, r.skipped)
		}
	}
}

// BenchmarkCheckCell checks a typical cell: a function and statements
// that use the standard library.
func BenchmarkCheckCell(b *testing.B) {
	c := New(Options{})
	c.Commit(c.Check("import (\n\t\"fmt\"\n\t\"strings\"\n)"))
	const cell = "func count(s string) map[string]int {\n\tm := map[string]int{}\n\tfor _, w := range strings.Fields(s) {\n\t\tm[strings.ToLower(w)]++\n\t}\n\treturn m\n}\ncounts := count(\"a b A c\")\nfmt.Println(counts[\"a\"], len(counts))"
	for b.Loop() {
		if r := c.Check(cell); len(r.Errors) > 0 || r.skipped != "" {
			b.Fatal(r.Errors, r.skipped)
		}
	}
}

// BenchmarkImportFmt is the first import of fmt in a process: its types
// and its dependencies' read from the symbol tables.
func BenchmarkImportFmt(b *testing.B) {
	for b.Loop() {
		c := New(Options{})
		if r := c.Check("import \"fmt\"\nfmt.Println(1)"); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
}

// BenchmarkImportNetHTTP is the same for net/http, one of the largest.
func BenchmarkImportNetHTTP(b *testing.B) {
	for b.Loop() {
		c := New(Options{})
		if r := c.Check("import \"net/http\"\n_, _ = http.Get(\"x\")"); len(r.Errors) > 0 {
			b.Fatal(r.Errors)
		}
	}
}
