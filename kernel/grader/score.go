package grader

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/runtime/grade"
)

// Score is one graded cell's result for one student.
type Score struct {
	GradeID string `json:"grade_id"`
	// Kind is "test" (autograded) or "manual".
	Kind   string  `json:"kind"`
	Points float64 `json:"points"`
	Max    float64 `json:"max"`
	// NeedsManualGrade marks a changed manual answer: Points is 0 until a
	// person grades it.
	NeedsManualGrade bool   `json:"needs_manual_grade,omitempty"`
	Feedback         string `json:"feedback"`
}

// score grades an executed, restored submission against the source, as
// nbgrader does: a test cell with an error output scores 0; one whose
// execute_result is a number between 0 and its points scores that number;
// any other test cell scores its points. A test that printed
// grade.NotCheckedMarker scores 0 (it could not see the answer). A manual
// answer left as released scores 0; a changed one waits for a person. The
// source's metadata decides points, whatever the submission claims.
func score(source, executed *notebook.Notebook) []Score {
	var scores []Score
	for _, sc := range source.Cells {
		sm, ok := MetaOf(sc)
		if !ok || !(sm.Grade || sm.Task) {
			continue
		}
		s := Score{GradeID: sm.GradeID, Max: sm.Points, Kind: "test"}
		if sm.IsManual(sc.CellType) {
			s.Kind = "manual"
		}
		i := indexOfID(executed, sm.GradeID)
		if i < 0 {
			s.Feedback = "the cell was deleted"
			scores = append(scores, s)
			continue
		}
		c := executed.Cells[i]
		if s.Kind == "manual" {
			cc := *c
			cc.Metadata = copyMap(c.Metadata)
			SetMeta(&cc, sm) // checksum over the source's flags and points
			if sm.Checksum != "" && Checksum(&cc) == sm.Checksum {
				s.Feedback = "the answer was left as released"
			} else {
				s.NeedsManualGrade = true
				s.Feedback = "waits for manual grading"
			}
			scores = append(scores, s)
			continue
		}
		s.Points, s.Feedback = scoreTest(c, sm.Points)
		scores = append(scores, s)
	}
	return scores
}

// scoreTest scores one executed test cell.
func scoreTest(c *notebook.Cell, max float64) (float64, string) {
	var text strings.Builder
	result := ""
	for _, o := range c.Outputs {
		switch o.OutputType {
		case "error":
			return 0, firstLine(o.EName + ": " + o.EValue)
		case "stream":
			if o.Text != nil {
				text.WriteString(string(*o.Text))
			}
		case "execute_result":
			result = strings.TrimSpace(plainText(o.Data))
		}
	}
	if strings.Contains(text.String(), grade.NotCheckedMarker) {
		return 0, "the test could not see the answer's output"
	}
	if v, err := strconv.ParseFloat(result, 64); err == nil && !math.IsNaN(v) && v >= 0 && v <= max {
		return v, fmt.Sprintf("partial credit: %s of %s", pyNum(v), pyNum(max))
	}
	return max, "passed"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// pyNum formats points without a useless ".0".
func pyNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
