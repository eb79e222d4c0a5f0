package typecheck

import (
	"bytes"
	"fmt"
	"go/printer"
	"strconv"
)

// Source returns what the checker knows of the notebook as one cell of Go:
// the imports in force, then every declaration still current, in order.
// Restore on a new Checker gives it the same knowledge (a notebook moving
// onto another engine).
func (c *Checker) Source() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	imports := map[string]importRec{}
	var order []string
	for _, rec := range c.cells {
		for _, im := range rec.imports {
			if _, seen := imports[im.key()]; !seen {
				order = append(order, im.key())
			}
			imports[im.key()] = im
		}
	}
	var buf bytes.Buffer
	for _, k := range order {
		im := imports[k]
		fmt.Fprintf(&buf, "import %s %s\n", im.name, strconv.Quote(im.path))
	}
	for _, rec := range c.cells {
		for _, d := range rec.decls {
			buf.WriteString("\n")
			if err := printer.Fprint(&buf, c.fset, d.decl); err != nil {
				continue
			}
			buf.WriteString("\n")
		}
	}
	return buf.String()
}

// Restore checks src (another Checker's Source) and records it, as a cell
// that ran.
func (c *Checker) Restore(src string) {
	if src == "" {
		return
	}
	c.Commit(c.Check(src))
}
