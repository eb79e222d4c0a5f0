package grader

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/goproc/goproc/kernel/nbexec"
	"github.com/goproc/goproc/kernel/notebook"
	"github.com/goproc/goproc/runtime/grade"
)

// Recorder keeps the file runtime/grade reads: what each cell with a
// grade_id printed so far. Any runner can use it so that test cells work
// outside the grader too (goproc run):
//
//	rec, _ := grader.NewRecorder("")
//	defer rec.Close()
//	engine.Start(ctx, engine.Options{Env: append(os.Environ(), rec.Env())})
//	nbexec.Run(ctx, eng, nb, nbexec.Options{OnCellDone: rec.CellDone})
type Recorder struct {
	path    string
	tempDir string

	mu  sync.Mutex
	rec grade.Record
	f   *os.File // the record, rewritten in place
	err error

	// mirror, when set, gets a copy of the record without the test cells
	// (whose sources hold hidden tests), for tests that run in the
	// student's own engine.
	mirror *os.File
	isTest func(gradeID string) bool

	// known, when set, are the grade_ids worth recording (the source's);
	// maxSource caps a recorded source (0: no cap).
	known     map[string]bool
	maxSource int
}

// NewRecorder creates an empty record in dir, or in a new temporary
// directory when dir is "" (removed by Close).
func NewRecorder(dir string) (*Recorder, error) {
	var tempDir string
	if dir == "" {
		d, err := os.MkdirTemp("", "goproc-grade-")
		if err != nil {
			return nil, fmt.Errorf("creating the record of cell outputs: %w", err)
		}
		dir, tempDir = d, d
	}
	p, err := filepath.Abs(filepath.Join(dir, "outputs.json"))
	if err == nil {
		var r *Recorder
		if r, err = newRecorderAt(p); err == nil {
			r.tempDir = tempDir
			return r, nil
		}
	}
	if tempDir != "" {
		os.RemoveAll(tempDir)
	}
	return nil, fmt.Errorf("creating the record of cell outputs: %w", err)
}

// newRecorderAt creates an empty record at path.
func newRecorderAt(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating the record of cell outputs: %w", err)
	}
	r := &Recorder{path: path, f: f, rec: grade.Record{Cells: map[string]grade.Cell{}}}
	if err := r.write(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// write replaces the record's contents. The file is rewritten in place, not
// replaced: a new file per cell costs the grader an inode each time. Cells
// read the record while they run and the record changes only between
// cells, so no cell sees it half written.
func (r *Recorder) write() error {
	if err := writeRecord(r.f, &r.rec); err != nil {
		return err
	}
	if r.mirror == nil {
		return nil
	}
	m := grade.Record{KernelPID: r.rec.KernelPID, Cells: map[string]grade.Cell{}}
	for id, c := range r.rec.Cells {
		if !r.isTest(id) {
			m.Cells[id] = c
		}
	}
	return writeRecord(r.mirror, &m)
}

func writeRecord(f *os.File, rec *grade.Record) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<" stays one byte, not six
	err := enc.Encode(rec)
	b := buf.Bytes()
	if err == nil {
		if _, err = f.WriteAt(b, 0); err == nil {
			err = f.Truncate(int64(len(b)))
		}
	}
	if err != nil {
		return fmt.Errorf("writing the record of cell outputs: %w", err)
	}
	return nil
}

// mirrorTo keeps a copy of the record, without the cells isTest names, at
// path.
func (r *Recorder) mirrorTo(path string, isTest func(gradeID string) bool) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating the record of cell outputs: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mirror, r.isTest = f, isTest
	return r.write()
}

// Path is the record's file.
func (r *Recorder) Path() string { return r.path }

// Env is the environment entry that points runtime/grade at the record;
// add it to the engine's environment.
func (r *Recorder) Env() string { return grade.EnvOutputs + "=" + r.path }

// CellDone records a finished cell (an nbexec.Options.OnCellDone).
func (r *Recorder) CellDone(rep nbexec.CellReport) {
	if rep.Status == nbexec.StatusSkipped {
		return
	}
	r.Record(rep.Cell, rep.DroppedBytes > 0)
}

// Record records what cell c printed; truncated marks output cut by a limit.
// Cells without a grade_id are not recorded.
func (r *Recorder) Record(c *notebook.Cell, truncated bool) {
	r.RecordProcesses(c, truncated, nil)
}

// RecordProcesses is Record with what the grader saw run while the cell
// ran (nil: not watched).
func (r *Recorder) RecordProcesses(c *notebook.Cell, truncated bool, procs *grade.Processes) {
	m, ok := MetaOf(c)
	if !ok || (r.known != nil && !r.known[m.GradeID]) {
		return // not one of the source's cells: nothing reads it
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	gc := recordOf(c, truncated)
	if r.maxSource > 0 && len(gc.Source) > r.maxSource {
		gc.Source = strings.ToValidUTF8(gc.Source[:r.maxSource], "")
	}
	gc.Processes = procs
	r.rec.Cells[m.GradeID] = gc
	if err := r.write(); err != nil && r.err == nil {
		r.err = err
	}
}

// Err returns the first error writing the record.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close closes the record, and removes it if NewRecorder made its
// directory.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.f.Close()
	if r.mirror != nil {
		r.mirror.Close()
	}
	if r.tempDir != "" {
		err = os.RemoveAll(r.tempDir)
	}
	return err
}
