package grader

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/goproc/goproc/kernel/notebook"
)

// writeGradebook writes gradebook.json and gradebook.csv into dir.
func writeGradebook(dir string, gb *Gradebook) error {
	b, err := json.MarshalIndent(gb, "", " ")
	if err != nil {
		return fmt.Errorf("encoding the gradebook: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gradebook.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the gradebook: %w", err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, gb); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "gradebook.csv"), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the gradebook: %w", err)
	}
	return nil
}

// WriteCSV writes one row per student and graded cell.
func WriteCSV(w io.Writer, gb *Gradebook) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"student", "grade_id", "kind", "points", "max", "needs_manual_grade", "feedback"})
	for _, r := range gb.Students {
		for _, s := range r.Scores {
			manual := ""
			if s.NeedsManualGrade {
				manual = "yes"
			}
			cw.Write([]string{csvCell(r.Student), csvCell(s.GradeID), s.Kind, pyNum(s.Points), pyNum(s.Max), manual, csvCell(s.Feedback)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing the gradebook CSV: %w", err)
	}
	return nil
}

// ReadGradebook reads a gradebook.json.
func ReadGradebook(path string) (*Gradebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading a gradebook: %w", err)
	}
	var gb Gradebook
	if err := json.Unmarshal(b, &gb); err != nil {
		return nil, fmt.Errorf("gradebook %s: %w", path, err)
	}
	return &gb, nil
}

// Merge combines the gradebooks of shards (each shard's gradebook.json)
// into one written to dir. Students appear once; a later gradebook wins.
func Merge(dir string, paths []string) (*Gradebook, error) {
	var out *Gradebook
	byStudent := map[string]Result{}
	for _, p := range paths {
		gb, err := ReadGradebook(p)
		if err != nil {
			return nil, err
		}
		if out == nil {
			c := *gb
			out = &c
			out.Shard = ""
		} else if gb.Source != out.Source && filepath.Base(gb.Source) != filepath.Base(out.Source) {
			return nil, fmt.Errorf("%s grades %s, not %s: merge gradebooks of one assignment", p, gb.Source, out.Source)
		}
		if gb.WriteConfinement != out.WriteConfinement && !strings.Contains(out.WriteConfinement, "not") {
			out.WriteConfinement = gb.WriteConfinement
		}
		for _, r := range gb.Students {
			byStudent[r.Student] = r
		}
	}
	if out == nil {
		return nil, fmt.Errorf("nothing to merge: give the gradebook.json of each shard")
	}
	out.Students = out.Students[:0]
	for _, r := range byStudent {
		out.Students = append(out.Students, r)
	}
	sort.Slice(out.Students, func(i, j int) bool { return out.Students[i].Student < out.Students[j].Student })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	return out, writeGradebook(dir, out)
}

// annotate adds the grade of each graded cell to the executed notebook: a
// markdown cell after it saying what it scored and why, and the score in the
// cell's metadata (goproc_grade).
func annotate(nb *notebook.Notebook, r Result) {
	byID := map[string]Score{}
	for _, s := range r.Scores {
		byID[s.GradeID] = s
	}
	var cells []*notebook.Cell
	head := fmt.Sprintf("# Feedback for %s\n\n**Total: %s / %s**", r.Student, pyNum(r.Total), pyNum(r.Max))
	if len(r.Changes) > 0 {
		head += "\n\nCells that should not have been changed:\n"
		for _, c := range r.Changes {
			head += "\n- " + c.String()
		}
	}
	cells = append(cells, &notebook.Cell{CellType: "markdown", Metadata: map[string]any{"goproc_feedback": true}, Source: notebook.MultiString(head)})
	for _, c := range nb.Cells {
		cells = append(cells, c)
		m, ok := MetaOf(c)
		if !ok {
			continue
		}
		s, ok := byID[m.GradeID]
		if !ok {
			continue
		}
		c.Metadata["goproc_grade"] = map[string]any{"points": s.Points, "max": s.Max, "feedback": s.Feedback, "needs_manual_grade": s.NeedsManualGrade}
		mark := "✅"
		switch {
		case s.NeedsManualGrade:
			mark = "📝"
		case s.Points < s.Max:
			mark = "❌"
		}
		text := fmt.Sprintf("%s **%s: %s / %s** — %s", mark, s.GradeID, pyNum(s.Points), pyNum(s.Max), s.Feedback)
		cells = append(cells, &notebook.Cell{CellType: "markdown", Metadata: map[string]any{"goproc_feedback": true}, Source: notebook.MultiString(text)})
	}
	nb.Cells = cells
}

// Summary prints a table: one row per student, one column per graded cell.
func Summary(w io.Writer, gb *Gradebook) {
	var ids []string
	seen := map[string]bool{}
	for _, r := range gb.Students {
		for _, s := range r.Scores {
			if !seen[s.GradeID] {
				seen[s.GradeID] = true
				ids = append(ids, s.GradeID)
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "student\t")
	for _, id := range ids {
		fmt.Fprint(tw, id, "\t")
	}
	fmt.Fprint(tw, "total\t\n")
	for _, r := range gb.Students {
		fmt.Fprint(tw, termSafe(r.Student), "\t")
		byID := map[string]Score{}
		for _, s := range r.Scores {
			byID[s.GradeID] = s
		}
		for _, id := range ids {
			s, ok := byID[id]
			switch {
			case !ok:
				fmt.Fprint(tw, "-\t")
			case s.NeedsManualGrade:
				fmt.Fprint(tw, "?\t")
			default:
				fmt.Fprint(tw, pyNum(s.Points), "\t")
			}
		}
		fmt.Fprintf(tw, "%s/%s\t\n", pyNum(r.Total), pyNum(r.Max))
	}
	tw.Flush()
	for _, r := range gb.Students {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: not graded: %s\n", termSafe(r.Student), termSafe(r.Error))
		}
		for _, c := range r.Changes {
			fmt.Fprintf(w, "%s: %s\n", termSafe(r.Student), termSafe(c.String()))
		}
		if len(r.Reserved) > 0 {
			fmt.Fprintf(w, "%s: declares names the tests rely on (%s): those tests scored 0\n", termSafe(r.Student), termSafe(strings.Join(r.Reserved, ", ")))
		}
	}
	fmt.Fprintln(w, "? = waits for manual grading")
	fmt.Fprintln(w, "sandbox:", gb.Sandbox)
	fmt.Fprintln(w, "write confinement:", gb.WriteConfinement)
}

// csvCell neutralises a cell a spreadsheet would run as a formula (one
// that starts with = + - @, a tab or a carriage return), as OWASP advises:
// a leading apostrophe makes it text.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// termSafe escapes what a student controls (names, messages) before it
// reaches a terminal: control characters and escape sequences are shown
// quoted, not interpreted.
func termSafe(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
