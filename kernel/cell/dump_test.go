package cell

import (
	"fmt"
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	src, err := os.ReadFile(os.Getenv("CELL"))
	if err != nil {
		t.Skip()
	}
	cs, err := Parse(string(src), Options{Instrument: os.Getenv("INSTR") != "", Seq: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		fmt.Printf("--- %v line %d declares %v types %v imports %v display %v\n%s", c.Kind, c.Line, c.Declares, c.Types, c.Imports, c.Display, c.Src)
	}
}
