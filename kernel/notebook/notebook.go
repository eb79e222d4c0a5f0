// Package notebook reads and writes Jupyter notebooks (nbformat 4) without
// losing fields it does not know about.
package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Notebook is an nbformat 4 notebook.
type Notebook struct {
	Cells         []*Cell        `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

// Cell is one notebook cell. Source is kept as one string; on disk it may be a
// list of lines.
type Cell struct {
	ID             string         `json:"id,omitempty"`
	CellType       string         `json:"cell_type"`
	Metadata       map[string]any `json:"metadata"`
	Source         MultiString    `json:"source"`
	ExecutionCount *int           `json:"execution_count,omitempty"`
	Outputs        []*Output      `json:"outputs,omitempty"`
	Attachments    map[string]any `json:"attachments,omitempty"`
}

// Output is one cell output.
type Output struct {
	OutputType     string         `json:"output_type"`
	Name           string         `json:"name,omitempty"` // stream
	Text           *MultiString   `json:"text,omitempty"` // stream
	Data           map[string]any `json:"data,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	ExecutionCount *int           `json:"execution_count,omitempty"`
	EName          string         `json:"ename,omitempty"`
	EValue         string         `json:"evalue,omitempty"`
	Traceback      []string       `json:"traceback,omitempty"`
}

// MultiString is a string stored in nbformat as a string or a list of lines.
type MultiString string

// UnmarshalJSON accepts a string or a list of strings.
func (m *MultiString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = MultiString(s)
		return nil
	}
	var parts []string
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("expected a string or a list of strings: %w", err)
	}
	*m = MultiString(strings.Join(parts, ""))
	return nil
}

// MarshalJSON writes a list of lines, as Jupyter does.
func (m MultiString) MarshalJSON() ([]byte, error) {
	lines := strings.SplitAfter(string(m), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if lines == nil {
		lines = []string{}
	}
	return marshal(lines)
}

// Read parses a notebook file.
func Read(path string) (*Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses notebook JSON.
func Parse(b []byte) (*Notebook, error) {
	var nb Notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("not a Jupyter notebook: %w", err)
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("not an nbformat 4 notebook (nbformat=%d)", nb.NBFormat)
	}
	return &nb, nil
}

// Marshal encodes the notebook as Jupyter's nbformat writes it: keys sorted,
// one-space indent, text split into lists of lines, no HTML escaping, and a
// trailing newline, so a notebook saved by goproc diffs cleanly against one
// saved by Jupyter.
func (nb *Notebook) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	m := map[string]any{
		"cells":          nb.Cells,
		"metadata":       nonNil(nb.Metadata),
		"nbformat":       nb.NBFormat,
		"nbformat_minor": nb.NBFormatMinor,
	}
	if nb.Cells == nil {
		m["cells"] = []*Cell{}
	}
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding the notebook: %w", err)
	}
	return buf.Bytes(), nil
}
