package nbexec_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goproc/goproc/kernel/engine"
	"github.com/goproc/goproc/kernel/nbexec"
	"github.com/goproc/goproc/kernel/notebook"
)

// goproc is the binary the engine runs: $GOPROC_TEST_BINARY, or one built from the
// module in TestMain.
var goproc string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if goproc = binaryFromEnv(); goproc != "" {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "goproc-nbexec-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		goproc = filepath.Join(dir, "goproc")
		mod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go env GOMOD:", err)
			return 1
		}
		build := exec.Command("go", "build", "-o", goproc, ".")
		build.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building goproc: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

func codeCell(src string) *notebook.Cell {
	return &notebook.Cell{CellType: "code", Source: notebook.MultiString(src), Metadata: map[string]any{}}
}

// TestRealEngine runs cells through the real engine: printed text, displays
// with updates and clears, results, errors, and a timeout that interrupts a
// cell but keeps the notebook's state.
func TestRealEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	eng, err := engine.Start(ctx, engine.Options{Binary: goproc, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting the engine: %v", err)
	}
	defer eng.Close()

	nb := &notebook.Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: map[string]any{}, Cells: []*notebook.Cell{
		codeCell("import (\n\t\"fmt\"\n\t\"os\"\n\t\"time\"\n\t\"display\"\n)"),
		codeCell("x := 6\nfmt.Println(\"one\")\nfmt.Fprintln(os.Stderr, \"err\")\nfmt.Println(\"two\")\nx * 7"),
		codeCell("h := display.NewHandle()\nh.Show(display.HTML(\"<b>v1</b>\"))\nfmt.Println(\"between\")"),
		codeCell("h.Update(display.HTML(\"<b>v2</b>\"))\ndisplay.Show(display.Markdown(\"*gone*\"))\ndisplay.ClearOutput(true)\nfmt.Println(\"after clear\")"),
		codeCell("fmt.Println(\"start\")\ntime.Sleep(30 * time.Second)"),
		codeCell("x"),
		codeCell("panic(\"boom\")"),
		codeCell("fmt.Println(\"never\")"),
	}}
	var terminal strings.Builder
	rep, err := nbexec.Run(ctx, eng, nb, nbexec.Options{
		Timeout:     3 * time.Second,
		AllowErrors: false,
		OnOutput:    func(_ nbexec.CellInfo, ev nbexec.Event) { terminal.WriteString(nbexec.EventText(ev)) },
	})
	// The timeout stops the run at cell 5.
	if err == nil || !strings.Contains(err.Error(), "cell 5 did not finish within the 3s limit") {
		t.Fatalf("err = %v, want a timeout in cell 5", err)
	}
	if rep.Executed != 5 {
		t.Errorf("executed %d cells", rep.Executed)
	}
	c := nb.Cells
	text := func(o *notebook.Output) string { return nbexec.PlainText(o) }
	// stdout and stderr are separate pipes: their relative order is not
	// kept, but each stream's text is merged into one output.
	streams := map[string]string{}
	o := c[1].Outputs
	for i, out := range o {
		if out.OutputType == "stream" {
			streams[out.Name] += text(out)
			if i > 0 && o[i-1].OutputType == "stream" && o[i-1].Name == out.Name {
				t.Errorf("consecutive %s outputs were not merged: %s", out.Name, dump(o))
			}
		}
	}
	if last := o[len(o)-1]; streams["stdout"] != "one\ntwo\n" || streams["stderr"] != "err\n" ||
		last.OutputType != "execute_result" || last.Data["text/plain"] != "42" || *last.ExecutionCount != 2 {
		t.Errorf("cell 2 outputs: %s", dump(o))
	}
	if o := c[2].Outputs; len(o) != 2 || o[0].Data["text/html"] != "<b>v2</b>" || text(o[1]) != "between\n" {
		t.Errorf("cell 3 outputs (display updated from cell 4): %s", dump(o))
	}
	if o := c[3].Outputs; len(o) != 1 || text(o[0]) != "after clear\n" {
		t.Errorf("cell 4 outputs: %s", dump(o))
	}
	if o := c[4].Outputs; len(o) != 2 || text(o[0]) != "start\n" || o[1].EName != "CellTimeoutError" {
		t.Errorf("cell 5 outputs: %s", dump(o))
	}

	// The state survives the interrupt: run the rest with errors allowed.
	rest := &notebook.Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: map[string]any{}, Cells: c[5:]}
	if _, err := nbexec.Run(ctx, eng, rest, nbexec.Options{AllowErrors: true}); err != nil {
		t.Fatal(err)
	}
	if o := c[5].Outputs; len(o) != 1 || o[0].Data["text/plain"] != "6" {
		t.Errorf("x after the interrupt: %s", dump(o))
	}
	if o := c[6].Outputs; len(o) == 0 || o[len(o)-1].OutputType != "error" || !strings.Contains(o[len(o)-1].EValue, "boom") {
		t.Errorf("panic cell: %s", dump(o))
	}
	if o := c[7].Outputs; len(o) != 1 || text(o[0]) != "never\n" {
		t.Errorf("cell after an allowed error: %s", dump(o))
	}
}

func dump(outs []*notebook.Output) string {
	var s []string
	for _, o := range outs {
		s = append(s, fmt.Sprintf("%s %s %q", o.OutputType, o.Name, nbexec.PlainText(o)))
	}
	return "[" + strings.Join(s, "; ") + "]"
}

// binaryFromEnv is a prebuilt goproc named by $GOPROC_TEST_BINARY (as
// tests/run.sh sets it) or $GOPROC_BIN, or "".
func binaryFromEnv() string {
	if b := os.Getenv("GOPROC_TEST_BINARY"); b != "" {
		return b
	}
	return os.Getenv("GOPROC_BIN")
}
