package magic

import (
	"strconv"
	"strings"
	"testing"
)

// Cells that are Go only, among them lines that look like magics, stay
// untouched: Parse says so with nil.
func TestParseGoStaysGo(t *testing.T) {
	for _, code := range []string{
		"x := 1\nfmt.Println(x)",
		"x := !ok",
		"y := a % b",
		"fmt.Printf(\"%d%%\\n\", 5)",
		"s := `\n%d items\n!important\n`",
		"ok := a &&\n\t!b",
		"r := (a\n\t% b)",
		"fmt.Println(\n\t!ok,\n)",
		"func f() bool {\n\t!ok\n\treturn true\n}",
		"if x {\n    %time f()\n}",
		"/*\n%env\n!ls\n*/\nx := 1",
		"m := map[string]bool{\n\t\"a\": true,\n}[k] ||\n\t!found",
		"v := []int{\n1,\n}\nw := 3 %\n\t2",
	} {
		c, err := Parse(code)
		if err != nil || c != nil {
			t.Errorf("%q: got %+v, %v; want Go", code, c, err)
		}
	}
}

func TestParseParts(t *testing.T) {
	code := "import \"fmt\"\nx := 2\n!echo hi\n%env A=b\nfmt.Println(x % 2)\n  %time f(x)\nok := x > 1 &&\n\t!done\n%help"
	c, err := Parse(code)
	if err != nil || c == nil {
		t.Fatalf("Parse: %+v %v", c, err)
	}
	var got []string
	for _, p := range c.Parts {
		switch p.Kind {
		case Go:
			got = append(got, "go@"+strconv.Itoa(p.Line)+":"+strings.ReplaceAll(p.Src, "\n", "|"))
		case Shell:
			got = append(got, "sh@"+strconv.Itoa(p.Line)+":"+p.Args)
		case Magic:
			got = append(got, "%"+p.Name+"@"+strconv.Itoa(p.Line)+":"+p.Args)
		}
	}
	want := []string{
		"go@1:import \"fmt\"|x := 2",
		"sh@3:echo hi",
		"%env@4:A=b",
		"go@5:||||fmt.Println(x % 2)",
		"%time@6:f(x)",
		"go@7:||||||ok := x > 1 &&|\t!done",
		"%help@9:",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("parts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// %time's statement keeps its line and column.
	if src := c.Parts[4].Src; src != "\n\n\n\n\n        f(x)" {
		t.Errorf("%%time source %q", src)
	}
}

func TestParseCellMagic(t *testing.T) {
	c, err := Parse("\n%%time\nx := 1\n!true\nx")
	if err != nil || c == nil || c.CellMagic != "time" {
		t.Fatalf("Parse: %+v %v", c, err)
	}
	if len(c.Parts) != 3 || c.Parts[0].Src != "\n\nx := 1" || c.Parts[1].Kind != Shell || c.Parts[2].Src != "\n\n\n\nx" {
		t.Fatalf("parts %+v", c.Parts)
	}
	// A %% cell of Go only is still a magic cell.
	if c, _ := Parse("%%time\nfmt.Println(1 % 2)"); c == nil || len(c.Parts) != 1 || c.Parts[0].Kind != Go {
		t.Fatalf("%%%%time of Go: %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	for code, want := range map[string]string{
		"x := 1\n%%time\nf()":  "must be on the cell's first line",
		"%nosuch 1":            "`%nosuch` not found",
		"%%nosuch\nx":          "`%%nosuch` not found",
		"%%time extra\nx := 1": "takes nothing after it",
	} {
		c, err := Parse(code)
		if err == nil || !strings.Contains(err.Value, want) || err.Name != "UsageError" {
			t.Errorf("%q: got %+v, %+v; want an error with %q", code, c, err, want)
		}
	}
}

func TestParseAlias(t *testing.T) {
	c, err := Parse("%lsmagic")
	if err != nil || c == nil || c.Parts[0].Name != "help" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestFormatTime(t *testing.T) {
	for _, tc := range []struct {
		s    float64
		want string
	}{
		{0, "0 ns"},
		{2.5, "2.5 s"},
		{0.05, "50 ms"},
		{0.0123456, "12.3 ms"},
		{0.0005, "500 µs"},
		{0.000001234, "1.23 µs"},
		{3e-8, "30 ns"},
		{0.0009999996, "1 ms"},
		{0.00099949, "999 µs"},
		{59.99, "60 s"},
		{65, "1min 5s"},
		{3725.5, "1h 2min 5s"},
	} {
		if got := FormatTime(tc.s); got != tc.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		code   string
		cursor int
		want   string
		start  int
	}{
		{"%", 1, "%%time %env %go %help %lsmagic %time", 0},
		{"%e", 2, "%env", 0},
		{"x := 1\n  %ti", 12, "%time", 9},
		{"%%t", 3, "%%time", 0},
		{"é := 1\n%h", 9, "%help", 7},
		{"func f() {\n%e", 13, "-", 0},
		{"x := 1 %", 8, "-", 0},
		{"x := 1\n%%t", 10, "-", 0},
	} {
		m, start, end, ok := Complete(tc.code, tc.cursor)
		got := strings.Join(m, " ")
		if !ok {
			got = "-"
		}
		if got != tc.want || ok && (start != tc.start || end != tc.cursor) {
			t.Errorf("Complete(%q, %d) = %q %d..%d, want %q from %d", tc.code, tc.cursor, got, start, end, tc.want, tc.start)
		}
	}
}
