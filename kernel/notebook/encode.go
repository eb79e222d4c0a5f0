package notebook

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MarshalJSON writes the fields nbformat 4 requires for the cell's type: a
// code cell always has execution_count (possibly null) and outputs (possibly
// empty), other cells have neither.
func (c Cell) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"cell_type": c.CellType,
		"metadata":  nonNil(c.Metadata),
		"source":    c.Source,
	}
	if c.ID != "" {
		m["id"] = c.ID
	}
	if c.Attachments != nil {
		m["attachments"] = c.Attachments
	}
	if c.CellType == "code" {
		m["execution_count"] = c.ExecutionCount
		outs := c.Outputs
		if outs == nil {
			outs = []*Output{}
		}
		m["outputs"] = outs
	}
	return marshal(m)
}

// MarshalJSON writes the fields nbformat 4 requires for the output's type,
// with text in MIME bundles split into lines as Jupyter writes them.
func (o Output) MarshalJSON() ([]byte, error) {
	m := map[string]any{"output_type": o.OutputType}
	switch o.OutputType {
	case "stream":
		m["name"] = o.Name
		text := MultiString("")
		if o.Text != nil {
			text = *o.Text
		}
		m["text"] = text
	case "display_data", "execute_result":
		m["data"] = splitBundle(o.Data)
		m["metadata"] = nonNil(o.Metadata)
		if o.OutputType == "execute_result" {
			m["execution_count"] = o.ExecutionCount
		}
	case "error":
		m["ename"] = o.EName
		m["evalue"] = o.EValue
		tb := o.Traceback
		if tb == nil {
			tb = []string{}
		}
		m["traceback"] = tb
	default:
		type plain Output
		return marshal(plain(o))
	}
	return marshal(m)
}

// UnmarshalJSON reads an output, joining text in MIME bundles that was split
// into lines, so Data["text/plain"] is a string.
func (o *Output) UnmarshalJSON(b []byte) error {
	type plain Output
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*o = Output(p)
	for k, v := range o.Data {
		if isJSONMime(k) {
			continue
		}
		if parts, ok := v.([]any); ok {
			var sb strings.Builder
			all := true
			for _, part := range parts {
				s, ok := part.(string)
				if !ok {
					all = false
					break
				}
				sb.WriteString(s)
			}
			if all {
				o.Data[k] = sb.String()
			}
		}
	}
	return nil
}

func isJSONMime(mime string) bool {
	return mime == "application/json" || (strings.HasPrefix(mime, "application/") && strings.HasSuffix(mime, "+json"))
}

// splitBundle splits text values into lists of lines, as nbformat does for
// text/* types, image/svg+xml and application/javascript.
func splitBundle(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for k, v := range data {
		if s, ok := v.(string); ok && (strings.HasPrefix(k, "text/") || k == "image/svg+xml" || k == "application/javascript") {
			out[k] = MultiString(s)
			continue
		}
		out[k] = v
	}
	return out
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Tags returns the cell's metadata.tags.
func (c *Cell) Tags() []string {
	raw, _ := c.Metadata["tags"].([]any)
	var tags []string
	for _, t := range raw {
		if s, ok := t.(string); ok {
			tags = append(tags, s)
		}
	}
	if t, ok := c.Metadata["tags"].([]string); ok {
		tags = append(tags, t...)
	}
	return tags
}

// HasTag reports whether the cell is tagged tag.
func (c *Cell) HasTag(tag string) bool {
	for _, t := range c.Tags() {
		if t == tag {
			return true
		}
	}
	return false
}

// Language returns the notebook's language, from metadata.kernelspec.language
// or else metadata.language_info.name; "" when neither is set.
func (nb *Notebook) Language() string {
	if ks, ok := nb.Metadata["kernelspec"].(map[string]any); ok {
		if l, ok := ks["language"].(string); ok && l != "" {
			return l
		}
	}
	if li, ok := nb.Metadata["language_info"].(map[string]any); ok {
		if l, ok := li["name"].(string); ok {
			return l
		}
	}
	return ""
}

// WriteFile saves the notebook to path atomically: it writes a temporary file
// in the same directory and renames it over path.
func (nb *Notebook) WriteFile(path string) error {
	b, err := nb.Marshal()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	_ = os.Chmod(f.Name(), mode)
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return nil
}

// EnsureIDs gives every cell without an id a fresh one when the notebook's
// format (4.5 and later) requires ids, as nbformat's normalize does.
func (nb *Notebook) EnsureIDs() {
	if nb.NBFormat < 4 || (nb.NBFormat == 4 && nb.NBFormatMinor < 5) {
		return
	}
	seen := map[string]bool{}
	for _, c := range nb.Cells {
		seen[c.ID] = true
	}
	for _, c := range nb.Cells {
		for c.ID == "" {
			var b [4]byte
			_, _ = rand.Read(b[:])
			if id := hex.EncodeToString(b[:]); !seen[id] {
				c.ID = id
				seen[id] = true
			}
		}
	}
}
