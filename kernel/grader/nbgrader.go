package grader

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/goproc/goproc/kernel/notebook"
)

// SchemaVersion is the nbgrader cell metadata schema goproc reads and writes.
const SchemaVersion = 3

// Meta is a cell's nbgrader metadata (cell.metadata.nbgrader).
type Meta struct {
	// Grade marks a graded cell: an autograder test (code) or a manually
	// graded answer (with Solution).
	Grade bool
	// Solution marks a cell the student writes in.
	Solution bool
	// Locked marks a read-only cell, restored from the source when grading.
	Locked bool
	// Task marks a manually graded task.
	Task bool
	// Points is what a graded cell is worth.
	Points float64
	// GradeID names the cell; it is the key in the gradebook.
	GradeID string
	// Checksum is the checksum of the cell as released (see Checksum).
	Checksum string
	// CellType is the cell's type when it was released.
	CellType string
}

// MetaOf returns the nbgrader metadata of c and whether it has any.
func MetaOf(c *notebook.Cell) (Meta, bool) {
	raw, ok := c.Metadata["nbgrader"].(map[string]any)
	if !ok {
		return Meta{}, false
	}
	var m Meta
	m.Grade, _ = raw["grade"].(bool)
	m.Solution, _ = raw["solution"].(bool)
	m.Locked, _ = raw["locked"].(bool)
	m.Task, _ = raw["task"].(bool)
	m.GradeID, _ = raw["grade_id"].(string)
	m.Checksum, _ = raw["checksum"].(string)
	m.CellType, _ = raw["cell_type"].(string)
	switch p := raw["points"].(type) {
	case float64:
		m.Points = p
	case int:
		m.Points = float64(p)
	case string:
		m.Points, _ = strconv.ParseFloat(p, 64)
	}
	return m, m.GradeID != ""
}

// SetMeta writes m as c's nbgrader metadata, keeping keys it does not know.
func SetMeta(c *notebook.Cell, m Meta) {
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	raw, _ := c.Metadata["nbgrader"].(map[string]any)
	if raw == nil {
		raw = map[string]any{}
	}
	raw["grade"] = m.Grade
	raw["solution"] = m.Solution
	raw["locked"] = m.Locked
	raw["task"] = m.Task
	raw["grade_id"] = m.GradeID
	raw["schema_version"] = SchemaVersion
	if m.Grade || m.Task {
		raw["points"] = m.Points
	} else {
		delete(raw, "points")
	}
	if m.Checksum != "" {
		raw["checksum"] = m.Checksum
	}
	if m.CellType != "" {
		raw["cell_type"] = m.CellType
	}
	c.Metadata["nbgrader"] = raw
}

// IsTest reports whether m is an autograder test cell.
func (m Meta) IsTest(cellType string) bool { return m.Grade && !m.Solution && cellType == "code" }

// IsManual reports whether m is graded by a person: a graded answer or a task.
func (m Meta) IsManual(cellType string) bool {
	return m.Task || (m.Grade && (m.Solution || cellType != "code"))
}

// Restored reports whether grading replaces the cell with the source's
// version: locked cells and grade cells that are not answers.
func (m Meta) Restored() bool { return m.Locked || (m.Grade && !m.Solution) }

// Checksum computes nbgrader's checksum of a cell: the MD5 of its source, its
// type, its grade/solution/locked flags, its grade_id and (for grade cells)
// its points, as nbgrader.utils.compute_checksum does.
func Checksum(c *notebook.Cell) string {
	m, _ := MetaOf(c)
	h := md5.New()
	h.Write([]byte(c.Source))
	h.Write([]byte(c.CellType))
	h.Write([]byte(pyBool(m.Grade)))
	h.Write([]byte(pyBool(m.Solution)))
	h.Write([]byte(pyBool(m.Locked)))
	h.Write([]byte(m.GradeID))
	if m.Grade {
		h.Write([]byte(pyFloat(m.Points)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyFloat formats f as Python's str(float(f)) does for ordinary values.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// graded lists the notebook's cells that carry a grade_id, checking that the
// grade_ids are unique.
func graded(nb *notebook.Notebook) (map[string]int, error) {
	ids := map[string]int{}
	for i, c := range nb.Cells {
		m, ok := MetaOf(c)
		if !ok {
			continue
		}
		if j, dup := ids[m.GradeID]; dup {
			return nil, fmt.Errorf("grade_id %q is used by cells %d and %d; grade_ids must be unique", m.GradeID, j+1, i+1)
		}
		ids[m.GradeID] = i
	}
	return ids, nil
}
