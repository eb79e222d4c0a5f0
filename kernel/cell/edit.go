package cell

import "sort"

// piece is part of the replacement text of an edit: literal text, or the
// cell span [from, to) rendered with the edits inside it (moved text).
type piece struct {
	text     string
	from, to int
	isSpan   bool
}

func txt(s string) piece      { return piece{text: s} }
func span(from, to int) piece { return piece{from: from, to: to, isSpan: true} }

// edit replaces the cell bytes [pos, end) with pieces. pos == end inserts.
// Edits whose range lies inside a replaced range are applied only when a span
// piece renders them.
type edit struct {
	pos, end int
	pieces   []piece
	seq      int
	display  bool // part of the display wrap, left out of NoDisplay
}

// editor collects edits to a cell and renders ranges of the cell with them,
// keeping a map from every output byte to the cell offset it came from.
type editor struct {
	cell  string
	edits []edit
}

func (e *editor) add(pos, end int, pieces ...piece) {
	e.edits = append(e.edits, edit{pos: pos, end: end, pieces: pieces, seq: len(e.edits)})
}

func (e *editor) insert(pos int, s string) { e.add(pos, pos, txt(s)) }

func (e *editor) replace(pos, end int, s string) { e.add(pos, end, txt(s)) }

// touches reports whether an edit so far changes or inserts into the cell
// range [pos, end).
func (e *editor) touches(pos, end int) bool {
	for _, ed := range e.edits {
		if ed.pos < end && ed.end > pos || ed.pos == ed.end && ed.pos > pos && ed.pos < end {
			return true
		}
	}
	return false
}

func (e *editor) sort() {
	sort.SliceStable(e.edits, func(i, j int) bool {
		a, b := e.edits[i], e.edits[j]
		if a.pos != b.pos {
			return a.pos < b.pos
		}
		// At the same offset, insertions go before replacements.
		ai, bi := a.pos == a.end, b.pos == b.end
		if ai != bi {
			return ai
		}
		return a.seq < b.seq
	})
}

// output accumulates rendered text and its source map.
type output struct {
	buf []byte
	m   []int
}

func (o *output) text(s string, anchor int) {
	o.buf = append(o.buf, s...)
	for range len(s) {
		o.m = append(o.m, anchor)
	}
}

// render writes the cell range [from, to) with the edits inside it; an
// insertion exactly at to is included when inclusive is set. plain leaves
// out the display wrap.
func (e *editor) render(o *output, from, to int, inclusive, plain bool) {
	pos := from
	first := sort.Search(len(e.edits), func(i int) bool { return e.edits[i].pos >= from })
	for i := first; i < len(e.edits); i++ {
		ed := &e.edits[i]
		if ed.pos < pos || (plain && ed.display) {
			continue
		}
		if ed.pos > to || (ed.pos == to && !(inclusive && ed.pos == ed.end)) {
			break
		}
		for ; pos < ed.pos; pos++ {
			o.buf = append(o.buf, e.cell[pos])
			o.m = append(o.m, pos)
		}
		for _, p := range ed.pieces {
			if p.isSpan {
				e.render(o, p.from, p.to, false, plain)
			} else {
				o.text(p.text, ed.pos)
			}
		}
		if ed.end > pos {
			pos = ed.end
		}
	}
	for ; pos < to; pos++ {
		o.buf = append(o.buf, e.cell[pos])
		o.m = append(o.m, pos)
	}
}
