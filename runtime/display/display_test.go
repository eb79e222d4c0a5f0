package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/outband"
)

type frame struct {
	kind    byte
	payload []byte
}

type collector struct {
	text   bytes.Buffer
	frames []frame
}

func (c *collector) Text(p []byte) { c.text.Write(p) }
func (c *collector) Frame(kind byte, payload []byte) {
	c.frames = append(c.frames, frame{kind, append([]byte(nil), payload...)})
}

// capture runs f with frames going to a buffer, and returns the writes made
// and the parsed frames.
func capture(t *testing.T, f func()) (writes int, c *collector) {
	t.Helper()
	var buf countingWriter
	old := stdout
	stdout = func() io.Writer { return &buf }
	defer func() { stdout = old }()
	f()
	c = &collector{}
	d := outband.Demux{H: c}
	d.Write(buf.Bytes())
	if d.Pending() {
		t.Fatal("a partial frame was left over")
	}
	return buf.n, c
}

type countingWriter struct {
	bytes.Buffer
	n int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.n++; return w.Buffer.Write(p) }

func decode(t *testing.T, f frame) language.Display {
	t.Helper()
	if f.kind != outband.KindDisplay {
		t.Fatalf("frame kind %q, want display", f.kind)
	}
	var d language.Display
	if err := json.Unmarshal(f.payload, &d); err != nil {
		t.Fatalf("frame payload is not a language.Display: %v", err)
	}
	return d
}

func TestShowWritesOneFramePerValue(t *testing.T) {
	writes, c := capture(t, func() {
		Show(HTML("<b>bold</b> &amp; more"), Markdown("# T"), 42)
	})
	if writes != 3 || len(c.frames) != 3 || c.text.Len() != 0 {
		t.Fatalf("writes=%d frames=%d text=%q, want 3 writes, 3 frames, no text", writes, len(c.frames), c.text.String())
	}
	d := decode(t, c.frames[0])
	if d.Data["text/html"] != "<b>bold</b> &amp; more" || d.Data["text/plain"] != "bold & more" {
		t.Errorf("HTML bundle = %v", d.Data)
	}
	if d.DisplayID != "" || d.Update {
		t.Errorf("plain Show has id %q update %v", d.DisplayID, d.Update)
	}
	if d := decode(t, c.frames[1]); d.Data["text/markdown"] != "# T" {
		t.Errorf("Markdown bundle = %v", d.Data)
	}
	if d := decode(t, c.frames[2]); d.Data["text/plain"] != "42" || len(d.Data) != 1 {
		t.Errorf("Show(42) bundle = %v", d.Data)
	}
}

func TestHandleShowUpdate(t *testing.T) {
	h := NewHandle()
	h2 := NewHandle()
	if h.ID() == "" || h.ID() == h2.ID() {
		t.Fatalf("handle ids %q %q must be distinct and non-empty", h.ID(), h2.ID())
	}
	_, c := capture(t, func() {
		h.Show(Text("working"))
		h.Update(Text("done"))
	})
	if len(c.frames) != 2 {
		t.Fatalf("got %d frames", len(c.frames))
	}
	a, b := decode(t, c.frames[0]), decode(t, c.frames[1])
	if a.DisplayID != h.ID() || a.Update || a.Data["text/plain"] != "working" {
		t.Errorf("show = %+v", a)
	}
	if b.DisplayID != h.ID() || !b.Update || b.Data["text/plain"] != "done" {
		t.Errorf("update = %+v", b)
	}
	if HandleOf(h.ID()).ID() != h.ID() {
		t.Error("HandleOf lost the id")
	}
}

func TestClearOutput(t *testing.T) {
	_, c := capture(t, func() {
		ClearOutput(true)
		ClearOutput(false)
	})
	if len(c.frames) != 2 || c.frames[0].kind != outband.KindClear || string(c.frames[0].payload) != "wait" ||
		c.frames[1].kind != outband.KindClear || string(c.frames[1].payload) != "" {
		t.Fatalf("frames = %+v", c.frames)
	}
}

func TestRenderText(t *testing.T) {
	var nilErr error
	cases := []struct {
		v    any
		want string
	}{
		{6 * 7, "42"},
		{"hi", `"hi"`},
		{"", `""`},
		{[]int{1, 4, 9, 16, 25}, "[1 4 9 16 25]"},
		{3.5, "3.5"},
		{true, "true"},
		{map[string]int{"b": 2, "a": 1}, "map[a:1 b:2]"},
		{struct{ X, Y int }{1, 2}, "{1 2}"},
		{nilErr, "<nil>"},
		{[]string{"a", "b"}, "[a b]"},
	}
	for _, c := range cases {
		data, md := Render(c.v)
		if data["text/plain"] != c.want || len(data) != 1 || md == nil {
			t.Errorf("Render(%#v) = %v, %v; want text/plain %q", c.v, data, md, c.want)
		}
	}
}

func TestRenderValues(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	data, _ := Render(img)
	raw, err := base64.StdEncoding.DecodeString(data["image/png"].(string))
	if err != nil {
		t.Fatalf("image/png is not base64: %v", err)
	}
	back, err := png.Decode(bytes.NewReader(raw))
	if err != nil || back.Bounds().Dx() != 3 || back.Bounds().Dy() != 2 {
		t.Fatalf("decoded PNG %v, %v", back, err)
	}
	if data["text/plain"] != "<3x2 image>" {
		t.Errorf("image text = %v", data["text/plain"])
	}

	var nilImg *image.RGBA
	if data, _ := Render(nilImg); data["text/plain"] != "<nil>" {
		t.Errorf("nil image rendered as %v", data)
	}

	data, _ = Render(JSON(map[string]any{"a": []int{1, 2}}))
	tree, ok := data["application/json"].(map[string]any)
	if !ok || len(tree["a"].([]any)) != 2 || !strings.Contains(data["text/plain"].(string), `"a": [`) {
		t.Errorf("JSON bundle = %v", data)
	}
	if data, _ := Render(JSON(func() {})); !strings.Contains(data["text/plain"].(string), "cannot encode") {
		t.Errorf("JSON of a func = %v", data)
	}

	for name, v := range map[string]Value{
		"image/svg+xml": SVG("<svg/>"), "text/latex": LaTeX("$x$"), "image/jpeg": JPEG([]byte{1, 2}),
		"image/png": PNG([]byte{1}), "text/markdown": Markdown("*a*"), "text/html": HTML("x"),
	} {
		data, _ := Render(v)
		if data[name] == nil || data["text/plain"] == nil {
			t.Errorf("%s bundle = %v", name, data)
		}
		if p := &v; true {
			if d2, _ := Render(p); d2[name] == nil {
				t.Errorf("Render(*Value) lost %s", name)
			}
		}
	}

	data, md := Render(Data(map[string]any{"text/csv": "a,b\n"}).WithMetadata(map[string]any{"k": 1}))
	if data["text/csv"] != "a,b\n" || data["text/plain"] != "<display data: text/csv>" || md["k"] != 1 {
		t.Errorf("Data bundle = %v %v", data, md)
	}
	if s := Markdown("x").String(); s != "x" {
		t.Errorf("String() = %q", s)
	}
}

func TestHTMLText(t *testing.T) {
	got := htmlText("<table><tr><th>n</th><th>t</th></tr><tr><td>1</td><td>2 &lt; 3</td></tr></table><script>x()</script><p>end</p>")
	want := "n\tt\n1\t2 < 3\n\nend"
	if got != want {
		t.Errorf("htmlText = %q, want %q", got, want)
	}
}

func TestUnencodableData(t *testing.T) {
	_, c := capture(t, func() { Show(Data(map[string]any{"x/y": make(chan int)})) })
	if d := decode(t, c.frames[0]); !strings.Contains(d.Data["text/plain"].(string), "cannot encode") {
		t.Errorf("got %v", d.Data)
	}
}
