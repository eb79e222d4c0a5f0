package grader

import (
	"fmt"
	"strings"

	"github.com/goproc/goproc/kernel/notebook"
)

// Change is something a submission did to a cell it should not have changed,
// found while restoring it.
type Change struct {
	GradeID string `json:"grade_id"`
	// What happened: "modified", "deleted", "cell type changed".
	What string `json:"what"`
	// Restored reports that the source's version replaced the student's.
	Restored bool `json:"restored"`
}

func (c Change) String() string {
	s := c.GradeID + ": " + c.What
	if c.Restored {
		s += " (restored from the source)"
	}
	return s
}

// Restore returns the submission with its locked and test cells replaced by
// the source's (hidden tests included) and the source's kernelspec and
// language_info, as nbgrader autograde does, and the changes it found. A
// deleted locked or test cell is put back after the cell that precedes it
// in the source. Answers (solution cells) and cells the student added are
// kept.
func Restore(source, submission *notebook.Notebook) (*notebook.Notebook, []Change, error) {
	r, err := newRestorer(source)
	if err != nil {
		return nil, nil, err
	}
	out, err := clone(submission)
	if err != nil {
		return nil, nil, err
	}
	return r.restore(out)
}

// restorer restores submissions of one source notebook: what Restore needs
// of the source is worked out once, not once per submission.
type restorer struct {
	source *notebook.Notebook
	srcIDs map[string]int     // grade_id → index of the source's cell
	rel    *notebook.Notebook // the student version, for "modified"
}

func newRestorer(source *notebook.Notebook) (*restorer, error) {
	srcIDs, err := graded(source)
	if err != nil {
		return nil, fmt.Errorf("source notebook: %w", err)
	}
	rel, err := Release(source)
	if err != nil {
		return nil, fmt.Errorf("source notebook: %w", err)
	}
	return &restorer{source: source, srcIDs: srcIDs, rel: rel}, nil
}

// restore is Restore on a submission the caller hands over: it is changed
// and returned, not copied.
func (r *restorer) restore(out *notebook.Notebook) (*notebook.Notebook, []Change, error) {
	source, srcIDs, rel := r.source, r.srcIDs, r.rel
	// Keep only the first cell for each grade_id the source knows.
	subIdx := map[string]int{}
	var cells []*notebook.Cell
	for _, c := range out.Cells {
		if m, ok := MetaOf(c); ok {
			if _, known := srcIDs[m.GradeID]; known {
				if _, dup := subIdx[m.GradeID]; dup {
					continue
				}
				subIdx[m.GradeID] = len(cells)
			}
		}
		cells = append(cells, c)
	}
	out.Cells = cells

	var changes []Change
	for _, sc := range source.Cells {
		sm, ok := MetaOf(sc)
		if !ok {
			continue
		}
		i, present := subIdx[sm.GradeID]
		if !present {
			if !sm.Restored() {
				// A deleted answer stays deleted: its tests fail.
				changes = append(changes, Change{GradeID: sm.GradeID, What: "deleted"})
				continue
			}
			changes = append(changes, Change{GradeID: sm.GradeID, What: "deleted", Restored: true})
			continue
		}
		c := out.Cells[i]
		if c.CellType != sc.CellType && !sm.Restored() {
			changes = append(changes, Change{GradeID: sm.GradeID, What: fmt.Sprintf("cell type changed from %s to %s", sc.CellType, c.CellType)})
		}
		if !sm.Restored() {
			continue
		}
		relCell := rel.Cells[indexOfID(rel, sm.GradeID)]
		if c.CellType != sc.CellType || normalise(string(c.Source)) != normalise(string(relCell.Source)) {
			changes = append(changes, Change{GradeID: sm.GradeID, What: "modified", Restored: true})
		}
	}

	// Rebuild the cell list with restored cells, inserting deleted ones
	// after the cell that precedes them in the source.
	var result []*notebook.Cell
	placed := map[string]bool{}
	insertAfter := map[string][]*notebook.Cell{} // grade_id of predecessor ("" = start)
	prev := ""
	for _, sc := range source.Cells {
		sm, ok := MetaOf(sc)
		if !ok {
			continue
		}
		if _, present := subIdx[sm.GradeID]; !present && sm.Restored() {
			insertAfter[prev] = append(insertAfter[prev], restoredCell(sc))
		}
		prev = sm.GradeID
	}
	result = append(result, insertAfter[""]...)
	for _, c := range out.Cells {
		m, ok := MetaOf(c)
		if ok {
			if j, known := srcIDs[m.GradeID]; known {
				sc := source.Cells[j]
				if sm, _ := MetaOf(sc); sm.Restored() {
					c = restoredCell(sc)
				}
				placed[m.GradeID] = true
			}
		}
		result = append(result, c)
		if ok && placed[m.GradeID] {
			result = append(result, insertAfter[m.GradeID]...)
			delete(insertAfter, m.GradeID)
		}
	}
	// Predecessors that are themselves missing: chain to the end in order.
	for _, sc := range source.Cells {
		if sm, ok := MetaOf(sc); ok {
			result = append(result, insertAfter[sm.GradeID]...)
			delete(insertAfter, sm.GradeID)
		}
	}
	out.Cells = result

	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	for _, k := range []string{"kernelspec", "language_info"} {
		if v, ok := source.Metadata[k]; ok {
			out.Metadata[k] = v
		}
	}
	return out, changes, nil
}

// restoredCell is a fresh copy of a source cell with no outputs.
func restoredCell(sc *notebook.Cell) *notebook.Cell {
	c := *sc
	c.Metadata = copyMap(sc.Metadata)
	if c.CellType == "code" {
		c.Outputs = []*notebook.Output{}
		c.ExecutionCount = nil
	}
	return &c
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = copyMap(sub)
		}
		out[k] = v
	}
	return out
}

func indexOfID(nb *notebook.Notebook, id string) int {
	for i, c := range nb.Cells {
		if m, ok := MetaOf(c); ok && m.GradeID == id {
			return i
		}
	}
	return -1
}

// normalise ignores trailing spaces and blank lines, which editors change.
func normalise(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
