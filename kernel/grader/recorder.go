package grader

import (
	"fmt"
	"os"
	"path/filepath"
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
	err error
}

// NewRecorder creates an empty record in dir, or in a new temporary
// directory when dir is "" (removed by Close).
func NewRecorder(dir string) (*Recorder, error) {
	r := &Recorder{rec: grade.Record{Cells: map[string]grade.Cell{}}}
	if dir == "" {
		d, err := os.MkdirTemp("", "goproc-grade-")
		if err != nil {
			return nil, fmt.Errorf("creating the record of cell outputs: %w", err)
		}
		dir, r.tempDir = d, d
	}
	p, err := filepath.Abs(filepath.Join(dir, "outputs.json"))
	if err != nil {
		return nil, fmt.Errorf("creating the record of cell outputs: %w", err)
	}
	r.path = p
	if err := writeRecord(p, &r.rec); err != nil {
		return nil, err
	}
	return r, nil
}

// newRecorderAt creates an empty record at path.
func newRecorderAt(path string) (*Recorder, error) {
	r := &Recorder{path: path, rec: grade.Record{Cells: map[string]grade.Cell{}}}
	if err := writeRecord(path, &r.rec); err != nil {
		return nil, err
	}
	return r, nil
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
	m, ok := MetaOf(c)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rec.Cells[m.GradeID] = recordOf(c, truncated)
	if err := writeRecord(r.path, &r.rec); err != nil && r.err == nil {
		r.err = err
	}
}

// Err returns the first error writing the record.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close removes the record if NewRecorder made its directory.
func (r *Recorder) Close() error {
	if r.tempDir != "" {
		return os.RemoveAll(r.tempDir)
	}
	return nil
}
