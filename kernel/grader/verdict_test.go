package grader

import (
	"os"
	"reflect"
	"testing"

	"github.com/goproc/goproc/kernel/notebook"
)

func TestAnalyseCell(t *testing.T) {
	a := analyseCell(`import (
	"fmt"

	"grade"
)

// uses helper() in a comment, "square" in a string
func check(out string) error { return grade.PrintsValue(out, square(3)) }

var grade g
x := helper(2)
fmt.Println(x, "square")
`)
	if !a.parsed {
		t.Fatal("did not parse")
	}
	if got, want := a.declared, []string{"check", "grade", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("declared %v, want %v", got, want)
	}
	if got, want := a.free, []string{"square", "g", "helper"}; !reflect.DeepEqual(got, want) {
		t.Errorf("free %v, want %v", got, want)
	}
}

func TestPlanRunsOutputTestsInTheVerifier(t *testing.T) {
	b, err := os.ReadFile("../../notebooks/assignment.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := notebook.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	p := planTests(nb)
	if len(p.inProcess) != 0 {
		t.Errorf("tests that only read outputs planned in the student's process: %v", p.inProcess)
	}
	nb.Cells = append(nb.Cells, &notebook.Cell{CellType: "code", Source: notebook.MultiString("import \"grade\"\nif square(3) != 9 { grade.Fail(\"square(3) = %d\", square(3)) }"),
		Metadata: map[string]any{"nbgrader": map[string]any{"grade": true, "solution": false, "locked": true, "points": 1.0, "grade_id": "calls", "schema_version": 3.0}}})
	p = planTests(nb)
	if !p.inProcess["calls"] {
		t.Errorf("a test calling the answer's square is not run in the student's process")
	}
	if _, ok := p.reserved["square"]; ok {
		t.Errorf("square, which the answer must declare, is reserved")
	}
	if _, ok := p.reserved["grade"]; !ok {
		t.Errorf("grade is not reserved: %v", p.reserved)
	}
}
