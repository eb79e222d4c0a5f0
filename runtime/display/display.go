// Package display shows rich output (HTML, Markdown, images, JSON, LaTeX…)
// from Go notebook cells, the way IPython.display does for Python.
//
// Constructors such as HTML, Markdown and PNG build a Value and have no side
// effect. A Value that is a cell's last expression becomes the cell's result;
// anywhere else, pass it to Show:
//
//	import "display"
//
//	display.Show(display.Markdown("# Results"))
//	h := display.NewHandle()
//	h.Show(display.HTML("<b>working…</b>"))
//	h.Update(display.HTML("<b>done</b>"))
//	display.HTML("<i>this becomes the cell's result</i>")
//
// Show, Handle.Show, Handle.Update and ClearOutput each write one in-band
// frame (see kernel/outband) to os.Stdout in a single write, so they stay in
// order with printed text, and they work the same from child processes
// started by runtime/multiprocessing.
package display

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/outband"
)

// Value is something a notebook can display: a MIME bundle (MIME type to
// representation) and its metadata. Text types hold strings, JSON types any
// JSON value, binary types base64 strings, as in Jupyter's display_data.
type Value struct {
	Data     map[string]any
	Metadata map[string]any
}

// String returns the text/plain representation, so fmt.Println(v) prints
// something readable.
func (v Value) String() string {
	if s, ok := v.Data["text/plain"].(string); ok {
		return s
	}
	return "<display value>"
}

func value(mime string, rep any, plain string) Value {
	return Value{Data: map[string]any{mime: rep, "text/plain": plain}}
}

// HTML displays s as HTML. Its text/plain form, used in a terminal, is s with
// the tags stripped.
func HTML(s string) Value { return value("text/html", s, htmlText(s)) }

// Markdown displays s as Markdown (GitHub-flavoured in JupyterLab). Its
// text/plain form is s itself.
func Markdown(s string) Value { return value("text/markdown", s, s) }

// LaTeX displays s as LaTeX math, e.g. `$\sum_{i=1}^n i^2$`.
func LaTeX(s string) Value { return value("text/latex", s, s) }

// SVG displays an SVG document.
func SVG(s string) Value {
	return value("image/svg+xml", s, fmt.Sprintf("<SVG image, %d bytes>", len(s)))
}

// PNG displays PNG-encoded bytes.
func PNG(b []byte) Value {
	return value("image/png", base64.StdEncoding.EncodeToString(b), fmt.Sprintf("<PNG image, %d bytes>", len(b)))
}

// JPEG displays JPEG-encoded bytes.
func JPEG(b []byte) Value {
	return value("image/jpeg", base64.StdEncoding.EncodeToString(b), fmt.Sprintf("<JPEG image, %d bytes>", len(b)))
}

// Image displays img, encoded as PNG. An image that cannot be encoded shows
// as an error text.
func Image(img image.Image) Value {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Text(fmt.Sprintf("display.Image: cannot encode the image as PNG: %v", err))
	}
	b := img.Bounds()
	v := PNG(buf.Bytes())
	v.Data["text/plain"] = fmt.Sprintf("<%dx%d image>", b.Dx(), b.Dy())
	return v
}

// Plot displays a drawing that writes itself out as PNG, JPEG or SVG (the
// format is read from what it writes), such as a gonum/plot plot:
//
//	display.Plot(p.WriterTo(4*vg.Inch, 3*vg.Inch, "png"))
//
// It takes the error too, so that call reads as one line; an error, or
// output in no format it knows, shows as text.
func Plot(w io.WriterTo, err error) Value {
	if err != nil {
		return Text(fmt.Sprintf("display.Plot: %v", err))
	}
	if w == nil {
		return Text("display.Plot: nothing to draw (a nil writer)")
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return Text(fmt.Sprintf("display.Plot: drawing failed: %v", err))
	}
	b := buf.Bytes()
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG(b)
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return JPEG(b)
	case bytes.Contains(b[:min(len(b), 1024)], []byte("<svg")):
		return SVG(string(b))
	}
	return Text(fmt.Sprintf("display.Plot: the drawing is not PNG, JPEG or SVG (%d bytes); write it as one of those", len(b)))
}

// JSON displays v (anything encoding/json accepts) as an interactive JSON
// tree; its text/plain form is indented JSON. A value that cannot be encoded
// shows as an error text.
func JSON(v any) Value {
	b, err := json.Marshal(v)
	if err != nil {
		return Text(fmt.Sprintf("display.JSON: cannot encode %T as JSON: %v", v, err))
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return Text(fmt.Sprintf("display.JSON: %v", err))
	}
	var ind bytes.Buffer
	_ = json.Indent(&ind, b, "", "  ")
	return value("application/json", tree, ind.String())
}

// Text displays s as plain text, exactly as given (no quotes).
func Text(s string) Value { return Value{Data: map[string]any{"text/plain": s}} }

// Data displays a MIME bundle given as is, e.g.
// Data(map[string]any{"text/csv": "a,b\n1,2\n", "text/plain": "a b\n1 2"}).
// A text/plain entry is added if missing.
func Data(bundle map[string]any) Value {
	d := make(map[string]any, len(bundle)+1)
	for k, v := range bundle {
		d[k] = v
	}
	if _, ok := d["text/plain"]; !ok {
		d["text/plain"] = fmt.Sprintf("<display data: %s>", mimeList(d))
	}
	return Value{Data: d}
}

// WithMetadata returns v with metadata set, e.g.
// display.PNG(b).WithMetadata(map[string]any{"image/png": map[string]any{"width": 200}}).
func (v Value) WithMetadata(md map[string]any) Value {
	v.Metadata = md
	return v
}

// Show displays each value, in order, as its own output. Values that are not
// display values are rendered as Render does (an image.Image as a PNG,
// anything else as text).
func Show(values ...any) {
	for _, v := range values {
		write(displayFrame(v, "", false))
	}
}

// ClearOutput clears the cell's output. With wait, the output is cleared only
// when the next output arrives, which avoids flicker in animations.
func ClearOutput(wait bool) {
	payload := ""
	if wait {
		payload = "wait"
	}
	write(outband.Encode(outband.KindClear, []byte(payload)))
}

// Handle names one display so it can be updated in place.
type Handle struct {
	id string
}

var handleSeq atomic.Uint64

var (
	prefixOnce sync.Once
	prefix     string
)

// NewHandle returns a handle with a fresh display id, unique across the
// processes of a notebook.
func NewHandle() *Handle {
	prefixOnce.Do(func() {
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix = hex.EncodeToString(b[:])
	})
	return &Handle{id: fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), handleSeq.Add(1))}
}

// HandleOf returns the handle of an existing display id, e.g. one passed to a
// child process as a string.
func HandleOf(id string) *Handle { return &Handle{id: id} }

// ID returns the display id.
func (h *Handle) ID() string { return h.id }

// Show displays v as a new output tied to the handle's display id.
func (h *Handle) Show(v any) { write(displayFrame(v, h.id, false)) }

// Update replaces every output shown with the handle's display id by v,
// wherever it is in the notebook.
func (h *Handle) Update(v any) { write(displayFrame(v, h.id, true)) }

// Render returns the MIME bundle and metadata of v, as the cell's result
// shows it: a Value as its own bundle, an image.Image as image/png, anything
// else as text/plain. Text follows Go's %v, except that strings are quoted as
// Go source (%q) so that "" and " " are visible, as in a Go REPL: 6*7 shows
// 42, "hi" shows "hi", []int{1, 4, 9} shows [1 4 9].
func Render(v any) (data map[string]any, metadata map[string]any) {
	switch x := v.(type) {
	case Value:
		return bundleOf(x)
	case *Value:
		if x != nil {
			return bundleOf(*x)
		}
	case image.Image:
		if x != nil && !isNilPointer(x) {
			return bundleOf(Image(x))
		}
	case string:
		return map[string]any{"text/plain": fmt.Sprintf("%q", x)}, map[string]any{}
	}
	return map[string]any{"text/plain": textOf(v)}, map[string]any{}
}

func textOf(v any) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("<%T: cannot print: %v>", v, r)
		}
	}()
	return fmt.Sprintf("%v", v)
}

// isNilPointer reports a typed nil pointer, whose Bounds would panic.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func bundleOf(v Value) (map[string]any, map[string]any) {
	d := make(map[string]any, len(v.Data)+1)
	for k, x := range v.Data {
		d[k] = x
	}
	if _, ok := d["text/plain"]; !ok {
		d["text/plain"] = fmt.Sprintf("<display data: %s>", mimeList(d))
	}
	md := v.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return d, md
}

func displayFrame(v any, id string, update bool) []byte {
	data, md := Render(v)
	d := language.Display{Data: data, Metadata: md, DisplayID: id, Update: update}
	b, err := json.Marshal(d)
	if err != nil {
		// A Data bundle holding something JSON cannot encode.
		d = language.Display{
			Data:      language.MimeBundle{"text/plain": fmt.Sprintf("display: cannot encode the output as JSON: %v", err)},
			Metadata:  map[string]any{},
			DisplayID: id, Update: update,
		}
		b, _ = json.Marshal(d)
	}
	return outband.Encode(outband.KindDisplay, b)
}

// stdout is where frames go; tests replace it.
var stdout = func() io.Writer { return os.Stdout }

var writeMu sync.Mutex

func write(frame []byte) {
	writeMu.Lock()
	defer writeMu.Unlock()
	// One write keeps the frame whole in the pipe the kernel reads.
	_, _ = stdout().Write(frame)
}
