package engine

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goproc/goproc/kernel/cell"
	"github.com/goproc/goproc/kernel/language"
	"github.com/goproc/goproc/kernel/symbols"
)

var goKeywords = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface",
	"map", "package", "range", "return", "select", "struct", "switch", "type", "var",
}

var goBuiltins = []string{
	"append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len",
	"make", "max", "min", "new", "panic", "print", "println", "real", "recover",
	"bool", "byte", "complex64", "complex128", "error", "float32", "float64",
	"int", "int8", "int16", "int32", "int64", "rune", "string",
	"uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "any",
	"true", "false", "nil", "iota",
}

// packageSymbols returns the exported members of the package imported under
// name (by the notebook, or any standard-library package of that name).
func (in *Interpreter) packageSymbols(name string) (string, map[string]reflect.Value) {
	in.mu.Lock()
	var path string
	for key := range in.imports {
		n, p, _ := strings.Cut(key, " ")
		if n == name {
			path = p
		}
	}
	in.mu.Unlock()
	if path == "" {
		path = name
	}
	if full, ok := symbols.Aliases[path]; ok {
		path = full
	}
	if _, syms := in.std.table(path); syms != nil {
		return path, syms
	}
	base := path[strings.LastIndex(path, "/")+1:]
	if syms, ok := symbols.Symbols[path+"/"+base]; ok {
		return path, syms
	}
	return "", nil
}

// Complete implements complete_request.
func (in *Interpreter) Complete(code string, cursor int) language.CompleteResult {
	start, _, qualifier, prefix := cell.Token(code, cursor)
	var cands []string
	if qualifier != "" {
		if _, syms := in.packageSymbols(qualifier); syms != nil {
			for name := range syms {
				if !strings.HasPrefix(name, "_") {
					cands = append(cands, name)
				}
			}
		} else if v, ok := in.safeGlobals()[qualifier]; ok && v.IsValid() {
			t := v.Type()
			for i := 0; i < t.NumMethod(); i++ {
				cands = append(cands, t.Method(i).Name)
			}
			st := t
			if st.Kind() == reflect.Pointer {
				st = st.Elem()
			}
			if st.Kind() == reflect.Struct {
				for i := 0; i < st.NumField(); i++ {
					cands = append(cands, st.Field(i).Name)
				}
			}
		}
	} else {
		cands = append(cands, goKeywords...)
		cands = append(cands, goBuiltins...)
		for name := range in.safeGlobals() {
			cands = append(cands, name)
		}
		in.mu.Lock()
		for name := range in.decls {
			cands = append(cands, name)
		}
		for name := range in.types {
			cands = append(cands, name)
		}
		for key := range in.imports {
			n, _, _ := strings.Cut(key, " ")
			cands = append(cands, n)
		}
		in.mu.Unlock()
	}
	seen := map[string]bool{}
	matches := []string{}
	for _, c := range cands {
		if strings.HasPrefix(c, "__") || seen[c] || !strings.HasPrefix(c, prefix) {
			continue
		}
		seen[c] = true
		matches = append(matches, c)
	}
	sort.Strings(matches)
	return language.CompleteResult{
		Matches:     matches,
		CursorStart: start,
		CursorEnd:   cursor,
		Metadata:    map[string]any{},
	}
}

// Inspect implements inspect_request.
func (in *Interpreter) Inspect(code string, cursor, detail int) language.InspectResult {
	start, end, qualifier, _ := cell.Token(code, cursor)
	name := string([]rune(code)[start:end])
	notFound := language.InspectResult{Found: false, Data: language.MimeBundle{}, Metadata: map[string]any{}}
	if name == "" {
		return notFound
	}
	var text string
	if qualifier != "" {
		path, syms := in.packageSymbols(qualifier)
		v, ok := syms[name]
		if !ok {
			return notFound
		}
		text = describeSymbol(path, name, v)
		if doc := stdDoc(path, name); doc != "" {
			text += "\n\n" + doc
		}
	} else {
		in.mu.Lock()
		d, ok := in.decls[name]
		t, isType := in.types[name]
		in.mu.Unlock()
		switch {
		case ok:
			text = d.Source
			if d.Doc != "" {
				text = strings.TrimSpace(d.Doc) + "\n\n" + text
			}
		case isType:
			text = t
		default:
			v, ok := in.safeGlobals()[name]
			if !ok || !v.IsValid() {
				return notFound
			}
			text = fmt.Sprintf("var %s %s = %s", name, v.Type(), plainText(v.Interface()))
		}
	}
	return language.InspectResult{Found: true, Data: language.MimeBundle{"text/plain": text}, Metadata: map[string]any{}}
}

func describeSymbol(path, name string, v reflect.Value) string {
	base := path[strings.LastIndex(path, "/")+1:]
	switch {
	case v.Kind() == reflect.Func:
		sig := strings.TrimPrefix(v.Type().String(), "func")
		return fmt.Sprintf("func %s.%s%s", base, name, sig)
	case v.Kind() == reflect.Pointer && v.IsNil():
		return fmt.Sprintf("type %s.%s %s", base, name, v.Type().Elem().Kind())
	default:
		return fmt.Sprintf("%s.%s %s", base, name, v.Type())
	}
}

// IsComplete implements is_complete_request.
func (in *Interpreter) IsComplete(code string) language.IsCompleteResult {
	status, indent := cell.IsComplete(code)
	return language.IsCompleteResult{Status: status, Indent: indent}
}

// helpRequest recognises a cell that asks for help as IPython does: "?name"
// or "name?" (name may be qualified, e.g. strings.ToUpper). It returns the
// name and whether the cell is such a request.
func helpRequest(code string) (string, bool) {
	c := strings.TrimSpace(code)
	switch {
	case strings.HasPrefix(c, "?"):
		c = strings.TrimSpace(strings.TrimLeft(c, "?"))
	case strings.HasSuffix(c, "?"):
		c = strings.TrimSpace(strings.TrimRight(c, "?"))
	default:
		return "", false
	}
	if c == "" {
		return "", false
	}
	for _, r := range c {
		if r != '.' && r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return "", false
		}
	}
	return c, true
}

// Help answers a help request with a pager payload, as IPython's "?" does.
func (in *Interpreter) Help(name string) ([]map[string]any, *language.Error) {
	res := in.Inspect(name, utf8.RuneCountInString(name), 1)
	if !res.Found {
		return nil, &language.Error{Name: "NameError", Value: "no documentation found for " + name,
			Traceback: []string{"NameError: no documentation found for " + name + " (import its package first, or define it)"}}
	}
	return []map[string]any{{"source": "page", "data": res.Data, "start": 0}}, nil
}

// Expression evaluates one user expression for execute_reply.user_expressions.
func (in *Interpreter) Expression(ctx context.Context, expr string) map[string]any {
	in.mu.Lock()
	in.result = nil
	in.mu.Unlock()
	_, err := in.eval(ctx, ";\n"+supportName+".Display("+expr+")")
	if err != nil {
		msg := err.Error()
		if _, _, rest, ok := cell.MapError(msg); ok {
			msg = rest
		}
		return map[string]any{"status": "error", "ename": "CompileError", "evalue": msg, "traceback": []string{msg}}
	}
	in.mu.Lock()
	res := in.result
	in.result = nil
	in.mu.Unlock()
	if res == nil {
		res = language.MimeBundle{"text/plain": ""}
	}
	return map[string]any{"status": "ok", "data": res, "metadata": map[string]any{}}
}
