package multiprocessing

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
)

// The worker side of a pool.

// poolBaseline is the goroutine count after the pool initializer ran; a task
// that leaves more running makes the worker unfit for reuse.
var poolBaseline int

func (s *server) poolInit(m *message) {
	fn, _, err := s.prepare(m)
	userSettings()
	if err == nil && fn.IsValid() {
		var args []reflect.Value
		args, err = decodeArgs(fn, m.Args)
		if err == nil {
			if p := callTarget(fn, args); p != nil {
				err = fmt.Errorf("initializer %s panicked: %s", m.Func, p.message())
			}
		}
	}
	self.Store(m.Identity)
	s.mu.Lock()
	s.allDirty = true // pool tasks may change any global
	s.mu.Unlock()
	poolBaseline = runtime.NumGoroutine()
	s.reply(&message{Op: opReady, Seq: m.Seq, Err: errString(err)})
}

// tasks runs a chunk of pool tasks.
func (s *server) tasks(m *message) {
	reply := &message{Op: opResult, Seq: m.Seq}
	results, enc, failed, err := s.runChunk(m)
	reply.Err, reply.Failed = errString(err), failed
	if err == nil && failed == nil {
		reply.Results, reply.Enc = results, enc
	}
	reply.Reusable = runtime.NumGoroutine() <= poolBaseline+1
	os.Stdout.Write(markerFrame(m.Seq))
	os.Stderr.Write(markerFrame(m.Seq))
	s.taskMu.Lock()
	delete(s.taskState, m.Seq)
	s.reply(reply)
	s.taskMu.Unlock()
	if reply.Enc != encJSON {
		putPayload(reply.Results)
	}
}

// pureFunc returns the compiled evaluator of the notebook function name if
// it is pure arithmetic (purefn.go), or nil; it is cached until the program
// grows.
func (s *server) pureFunc(name string, ft reflect.Type) any {
	s.mu.Lock()
	program := s.program
	s.mu.Unlock()
	if s.pure == nil || s.pureProgram != len(program) {
		s.pure, s.pureProgram = map[string]pureEntry{}, len(program)
	}
	e, ok := s.pure[name]
	if !ok || e.ft != ft {
		e = pureEntry{ft: ft, eval: compilePure(program, name, ft)}
		s.pure[name] = e
	}
	return e.eval
}

type pureEntry struct {
	ft   reflect.Type
	eval any
}

// decodeItems decodes a chunk's items as a slice of in.
func decodeItems(m *message, in reflect.Type) (reflect.Value, error) {
	if m.Enc != encJSON {
		items, err := decodeCompact(m.Enc, m.Items, in)
		putPayload(m.Items) // decoded (copied) or refused
		if err != nil {
			return reflect.Value{}, fmt.Errorf("decode items as %s: %w", in, err)
		}
		return items, nil
	}
	items := reflect.New(reflect.SliceOf(in))
	if err := unmarshalValue(m.Items, items.Elem()); err != nil {
		return reflect.Value{}, fmt.Errorf("decode items as %s: %w", in, err)
	}
	return items.Elem(), nil
}

// encodeResults encodes a chunk's results (a slice) for the parent.
func encodeResults(results reflect.Value) (json.RawMessage, string, error) {
	if enc := compactEncoding(results.Type().Elem()); enc != encJSON {
		return encodeCompact(enc, results), enc, nil
	}
	b, err := marshalValue(results)
	return b, encJSON, err
}

func (s *server) runChunk(m *message) (json.RawMessage, string, *taskFailure, error) {
	fn, _, err := s.prepare(&message{From: m.From, Chunks: m.Chunks, Globals: m.Globals, Func: m.Func})
	if err != nil {
		return nil, "", nil, err
	}
	ft := fn.Type()
	if fast, ok := fastChunks[ft]; ok && !m.Star {
		items, err := decodeItems(m, ft.In(0))
		if err != nil {
			return nil, "", nil, err
		}
		var results reflect.Value
		var failed *taskFailure
		frames := s.captureFrames(func() { results, failed, err = fast(fn, s.pureFunc(m.Func, ft), items) })
		if failed != nil {
			failed.Traceback = (&recovered{frames: frames}).frameText()
		}
		if err != nil || failed != nil {
			return nil, "", failed, err
		}
		b, enc, err := encodeResults(results)
		if err != nil {
			return nil, "", nil, fmt.Errorf("results of %s cannot be sent back: %w", m.Func, err)
		}
		return b, enc, nil, nil
	}
	var calls [][]reflect.Value
	if m.Star {
		var lists [][]typedValue
		if err := json.Unmarshal(m.Items, &lists); err != nil {
			return nil, "", nil, fmt.Errorf("decode items: %w", err)
		}
		calls = make([][]reflect.Value, len(lists))
		for i, l := range lists {
			args, err := argsFor(ft, l)
			if err != nil {
				return nil, "", nil, fmt.Errorf("item %d: %w", i, err)
			}
			calls[i] = args
		}
	} else {
		in := ft.In(0)
		if ft.IsVariadic() && ft.NumIn() == 1 {
			in = in.Elem()
		}
		if in.Kind() == reflect.Interface {
			var tvs []typedValue
			if err := json.Unmarshal(m.Items, &tvs); err != nil {
				return nil, "", nil, fmt.Errorf("decode items: %w", err)
			}
			calls = make([][]reflect.Value, len(tvs))
			for i, tv := range tvs {
				v, err := decodeInto(tv, in)
				if err != nil {
					return nil, "", nil, fmt.Errorf("decode item: %w", err)
				}
				calls[i] = []reflect.Value{v}
			}
		} else {
			items, err := decodeItems(m, in)
			if err != nil {
				return nil, "", nil, err
			}
			n := items.Len()
			calls = make([][]reflect.Value, n)
			flat := make([]reflect.Value, n)
			for i := range calls {
				flat[i] = items.Index(i)
				calls[i] = flat[i : i+1 : i+1]
			}
		}
	}
	var valueOut reflect.Type
	errIndex := -1
	if ft.NumOut() > 0 && ft.Out(0) != errorType {
		valueOut = ft.Out(0)
	}
	if ft.NumOut() > 0 && ft.Out(ft.NumOut()-1) == errorType {
		errIndex = ft.NumOut() - 1
	}
	var results reflect.Value
	var typed []typedValue
	if valueOut != nil && valueOut.Kind() != reflect.Interface {
		results = reflect.MakeSlice(reflect.SliceOf(valueOut), len(calls), len(calls))
	} else if valueOut != nil {
		typed = make([]typedValue, len(calls))
	}
	for i, args := range calls {
		var outs []reflect.Value
		var p *recovered
		frames := s.captureFrames(func() { outs, p = callTask(fn, args) })
		if p != nil {
			p.frames = frames
			return nil, "", &taskFailure{Index: i, Item: formatArgs(args), Message: p.message(), Traceback: p.frameText(), Panic: true}, nil
		}
		if errIndex >= 0 && !outs[errIndex].IsNil() {
			return nil, "", &taskFailure{Index: i, Item: formatArgs(args), Message: fmt.Sprint(outs[errIndex].Interface())}, nil
		}
		switch {
		case results.IsValid():
			results.Index(i).Set(outs[0])
		case typed != nil:
			tv, err := encodeTyped(outs[0].Interface())
			if err != nil {
				return nil, "", nil, fmt.Errorf("result for item %d (%s) cannot be sent back: %w", i, describeValue(outs[0].Interface()), err)
			}
			typed[i] = tv
		}
	}
	var b []byte
	enc := encJSON
	switch {
	case results.IsValid():
		b, enc, err = encodeResults(results)
	case typed != nil:
		b, err = json.Marshal(typed)
	default:
		b = []byte("null")
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("results of %s cannot be sent back: %w", m.Func, err)
	}
	return b, enc, nil, nil
}

func callTask(fn reflect.Value, args []reflect.Value) (outs []reflect.Value, p *recovered) {
	defer func() {
		if v := recover(); v != nil {
			p = &recovered{value: v}
		}
	}()
	return fn.Call(args), nil
}

func formatArgs(args []reflect.Value) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("%#v", a.Interface())
		if len(parts[i]) > 80 {
			parts[i] = parts[i][:77] + "..."
		}
	}
	return strings.Join(parts, ", ")
}
