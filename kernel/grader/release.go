package grader

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/goproc/goproc/kernel/notebook"
)

// Markers delimit what the student version leaves out, as nbgrader's
// "### BEGIN SOLUTION" does for Python, with Go comments.
const (
	BeginSolution    = "// BEGIN SOLUTION"
	EndSolution      = "// END SOLUTION"
	BeginHiddenTests = "// BEGIN HIDDEN TESTS"
	EndHiddenTests   = "// END HIDDEN TESTS"
	// CodeStub replaces a solution region in a code cell.
	CodeStub = "// YOUR CODE HERE\npanic(\"not implemented\")"
	// AnswerStub replaces the answer in a markdown solution cell.
	AnswerStub = "YOUR ANSWER HERE"
)

// Release makes the student version of an instructor's source notebook, as
// nbgrader generate_assignment does: solution regions become stubs, hidden
// tests disappear, outputs are cleared, locked cells are marked read-only
// and every nbgrader cell carries the checksum of its released form. The
// source is not modified.
func Release(src *notebook.Notebook) (*notebook.Notebook, error) {
	if _, err := graded(src); err != nil {
		return nil, err
	}
	out, err := clone(src)
	if err != nil {
		return nil, err
	}
	for i, c := range out.Cells {
		if c.CellType == "code" {
			c.Outputs = []*notebook.Output{}
			c.ExecutionCount = nil
		}
		// As nbconvert's ClearOutputPreprocessor: no timings, no view state.
		for _, k := range []string{"execution", "collapsed", "scrolled"} {
			delete(c.Metadata, k)
		}
		m, ok := MetaOf(c)
		if !ok {
			continue
		}
		rel, err := releaseSource(c, m)
		if err != nil {
			return nil, fmt.Errorf("cell %d (grade_id %q): %w", i+1, m.GradeID, err)
		}
		c.Source = notebook.MultiString(rel)
		m.CellType = c.CellType
		m.Checksum = ""
		SetMeta(c, m)
		m.Checksum = Checksum(c)
		SetMeta(c, m)
		if m.Restored() {
			c.Metadata["editable"] = false
			c.Metadata["deletable"] = false
		}
	}
	return out, nil
}

// StampChecksums writes into each nbgrader cell of src the checksum of its
// released form, so that grading can tell unchanged answers and edited
// read-only cells.
func StampChecksums(src *notebook.Notebook) error {
	rel, err := Release(src)
	if err != nil {
		return err
	}
	for i, c := range src.Cells {
		m, ok := MetaOf(c)
		if !ok {
			continue
		}
		rm, _ := MetaOf(rel.Cells[i])
		m.Checksum = rm.Checksum
		m.CellType = c.CellType
		SetMeta(c, m)
		if m.Restored() {
			c.Metadata["editable"] = false
			c.Metadata["deletable"] = false
		}
	}
	return nil
}

// releaseSource is the student version of one nbgrader cell's source.
func releaseSource(c *notebook.Cell, m Meta) (string, error) {
	src := string(c.Source)
	switch {
	case m.Solution && c.CellType == "code":
		if !strings.Contains(src, BeginSolution) {
			return CodeStub + "\n", nil
		}
		return replaceRegions(src, BeginSolution, EndSolution, func(indent string) []string {
			var lines []string
			for _, l := range strings.Split(CodeStub, "\n") {
				lines = append(lines, indent+l)
			}
			return lines
		})
	case m.Solution:
		if !strings.Contains(src, BeginSolution) {
			return AnswerStub, nil
		}
		return replaceRegions(src, BeginSolution, EndSolution, func(indent string) []string {
			return []string{indent + AnswerStub}
		})
	case m.Grade && c.CellType == "code":
		return replaceRegions(src, BeginHiddenTests, EndHiddenTests, func(string) []string { return nil })
	}
	return src, nil
}

// replaceRegions replaces every region from a line holding begin to the
// next line holding end (both included) by what stub returns for the
// begin line's indentation.
func replaceRegions(src, begin, end string, stub func(indent string) []string) (string, error) {
	lines := strings.Split(src, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.Contains(l, begin) {
			if strings.Contains(l, end) {
				return "", fmt.Errorf("line %d: %q without %q before it", i+1, end, begin)
			}
			out = append(out, l)
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		j := i + 1
		for j < len(lines) && !strings.Contains(lines[j], end) {
			if strings.Contains(lines[j], begin) {
				return "", fmt.Errorf("line %d: %q inside another region", j+1, begin)
			}
			j++
		}
		if j == len(lines) {
			return "", fmt.Errorf("line %d: %q without %q after it", i+1, begin, end)
		}
		out = append(out, stub(indent)...)
		i = j
	}
	return strings.Join(out, "\n"), nil
}

// clone deep-copies a notebook through JSON.
func clone(nb *notebook.Notebook) (*notebook.Notebook, error) {
	b, err := json.Marshal(nb)
	if err != nil {
		return nil, fmt.Errorf("copying notebook: %w", err)
	}
	var c notebook.Notebook
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("copying notebook: %w", err)
	}
	return &c, nil
}
