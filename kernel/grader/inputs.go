package grader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode"
)

// maxSubmissionBytes caps what is read of one submission.
const maxSubmissionBytes = 32 << 20

type submission struct {
	Student string
	Path    string
	// Problem says why the submission cannot be graded (a bad file, a bad
	// name, two files for one student); it is reported for that student
	// alone.
	Problem string
}

// findSubmissions expands directories and names each submission's student:
// the file's name without .ipynb, or, when the file is named like the
// source (nbgrader's submitted/STUDENT/ASSIGNMENT/NAME.ipynb layout), the
// nearest directory that is not named like the assignment. A file that is
// not a regular file, a name that cannot name a student and two files for
// one student are problems of that student, reported, never an abort.
func findSubmissions(source string, args []string, outDir string) ([]submission, error) {
	var files []string
	// The grader's own output (feedback notebooks, the cache) is never a
	// submission, even when --out is inside a directory searched.
	skip := map[string]bool{}
	if abs, err := filepath.Abs(outDir); err == nil && outDir != "" {
		for _, d := range []string{"feedback", "cache", "work"} {
			skip[filepath.Join(abs, d)] = true
		}
	}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			// A dangling symlink given by name: the student's problem.
			if _, lerr := os.Lstat(a); lerr == nil {
				files = append(files, a)
				continue
			}
			return nil, fmt.Errorf("submission %s: %w", a, err)
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != a {
				return filepath.SkipDir
			}
			if d.IsDir() {
				if abs, err := filepath.Abs(p); err == nil && skip[abs] {
					return filepath.SkipDir
				}
			}
			if !d.IsDir() && strings.HasSuffix(p, ".ipynb") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("looking for submissions in %s: %w", a, err)
		}
	}
	srcName := strings.TrimSuffix(filepath.Base(source), ".ipynb")
	srcAbs, _ := filepath.Abs(source)
	byName := map[string][]int{}
	var subs []submission
	for _, f := range files {
		if abs, _ := filepath.Abs(f); abs == srcAbs {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".ipynb")
		dir := filepath.Dir(f)
		for name == srcName || name == "" {
			base := filepath.Base(dir)
			if base == "." || base == "/" || base == dir {
				break
			}
			name, dir = base, filepath.Dir(dir)
		}
		s := submission{Student: name, Path: f}
		if err := checkStudentName(name); err != nil {
			s.Student = "invalid-name-" + workName(name)
			s.Problem = fmt.Sprintf("the file %s cannot be graded: %v; rename it to STUDENT.ipynb", strconv.Quote(f), err)
		}
		byName[s.Student] = append(byName[s.Student], len(subs))
		subs = append(subs, s)
	}
	for name, idx := range byName {
		if len(idx) < 2 {
			continue
		}
		var paths []string
		for _, i := range idx {
			paths = append(paths, strconv.Quote(subs[i].Path))
		}
		for k, i := range idx {
			subs[i].Student = name
			if k > 0 {
				subs[i].Student = fmt.Sprintf("%s (file %d)", name, k+1)
			}
			subs[i].Problem = fmt.Sprintf("%d submissions for student %s: %s; keep one and grade again", len(idx), strconv.Quote(name), strings.Join(paths, ", "))
		}
	}
	if len(subs) == 0 {
		return nil, errors.New("no submissions found: give notebook files or directories holding them")
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Student < subs[j].Student })
	return subs, nil
}

// checkStudentName rejects names that cannot name a file of the grader's
// or a row of a gradebook.
func checkStudentName(name string) error {
	switch {
	case name == "" || strings.Trim(name, ".") == "":
		return errors.New("the student's name is empty or only dots")
	case strings.ContainsAny(name, `/\`):
		return errors.New("the student's name holds a path separator")
	case strings.HasPrefix(name, "."):
		return errors.New("the student's name starts with a dot")
	case len(name) > 200:
		return errors.New("the student's name is longer than 200 bytes")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || !unicode.IsPrint(r) && r != ' ' {
			return fmt.Errorf("the student's name holds the character %q", r)
		}
	}
	return nil
}

// readSubmission reads a submission that must be a regular file (not a
// symlink, a FIFO or a device) of at most maxSubmissionBytes.
func readSubmission(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, errors.New("the submission is a symbolic link; submit the notebook file itself")
		}
		return nil, fmt.Errorf("reading the submission: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the submission: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("the submission is not a regular file (%s); submit the notebook file itself", st.Mode().Type())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSubmissionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the submission: %w", err)
	}
	if len(b) > maxSubmissionBytes {
		return nil, fmt.Errorf("the submission is larger than %d MiB", maxSubmissionBytes>>20)
	}
	return b, nil
}
