package numcode

import (
	"go/ast"
	"go/token"
	"math"
	"strconv"
)

// kind is how compiled code treats a 64-bit value: as a signed integer
// (int, int64), an unsigned one (uint, uint64) or a float64. Values of all
// three are held in an int, a float64 as its bits: for integers + - * & | ^
// &^ << and == give the same bits either way, and the operations that
// differ (/ % >> < <= > >=) look at the kind.
type kind uint8

const (
	signed kind = iota
	unsigned
	float
	boolean // 0 or 1
)

// numTypes are the types compiled code computes with.
var numTypes = map[string]kind{"int": signed, "int64": signed, "uint": unsigned, "uint64": unsigned, "float64": float, "bool": boolean}

func bitsOf(f float64) int  { return int(math.Float64bits(f)) }
func floatOf(v int) float64 { return math.Float64frombits(uint64(v)) }

// constKind is the kind an untyped constant gets where the context gives
// none: float64 for a floating-point literal, int otherwise.
func constKind(e ast.Expr) kind {
	if lit, _, ok := literal(e); ok && lit.Kind == token.FLOAT {
		return float
	}
	if name, ok := mathName(e); ok {
		if _, isFloat := mathFloatConsts[name]; isFloat {
			return float
		}
	}
	return signed
}

// boolConstant returns the value of true or false (which a notebook's own
// declarations could hide, but not among the variables compiled code sees).
func boolConstant(e *ast.Ident) (bool, bool) {
	switch e.Name {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// floatLiteral returns the value of a numeric literal, possibly negated or
// in parentheses, as a float64 (a constant: never -0).
func floatLiteral(e ast.Expr) (float64, bool) {
	lit, neg, ok := literal(e)
	if !ok {
		return 0, false
	}
	var v float64
	switch lit.Kind {
	case token.INT:
		n, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil {
			return 0, false
		}
		v = float64(n)
	case token.FLOAT:
		f, err := strconv.ParseFloat(lit.Value, 64)
		if err != nil {
			return 0, false
		}
		v = f
	default:
		return 0, false
	}
	if neg && v != 0 {
		v = -v
	}
	return v, true
}

// literal returns the literal e is, in parentheses and under unary + and -
// (neg: an odd number of -).
func literal(e ast.Expr) (lit *ast.BasicLit, neg, ok bool) {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.UnaryExpr:
			if x.Op != token.SUB && x.Op != token.ADD {
				return nil, false, false
			}
			if x.Op == token.SUB {
				neg = !neg
			}
			e = x.X
		case *ast.BasicLit:
			return x, neg, true
		default:
			return nil, false, false
		}
	}
}

// typeKind returns the kind of the type e names, if it is one of numTypes.
func typeKind(e ast.Expr) (kind, bool) {
	id, ok := e.(*ast.Ident)
	if !ok {
		return 0, false
	}
	k, ok := numTypes[id.Name]
	return k, ok
}

var assignOps = map[token.Token]token.Token{
	token.ADD_ASSIGN: token.ADD, token.SUB_ASSIGN: token.SUB, token.MUL_ASSIGN: token.MUL,
	token.QUO_ASSIGN: token.QUO, token.REM_ASSIGN: token.REM, token.AND_ASSIGN: token.AND,
	token.OR_ASSIGN: token.OR, token.XOR_ASSIGN: token.XOR, token.SHL_ASSIGN: token.SHL,
	token.SHR_ASSIGN: token.SHR, token.AND_NOT_ASSIGN: token.AND_NOT,
}

// intOps are Go's operators on signed integers (shifts aside: see
// shiftOp); / and % by zero panic, as in Go.
var intOps = map[token.Token]func(a, b int) int{
	token.ADD:     func(a, b int) int { return a + b },
	token.SUB:     func(a, b int) int { return a - b },
	token.MUL:     func(a, b int) int { return a * b },
	token.QUO:     func(a, b int) int { return a / b },
	token.REM:     func(a, b int) int { return a % b },
	token.AND:     func(a, b int) int { return a & b },
	token.OR:      func(a, b int) int { return a | b },
	token.XOR:     func(a, b int) int { return a ^ b },
	token.AND_NOT: func(a, b int) int { return a &^ b },
}

// floatOps are Go's float64 operators, on bits.
var floatOps = map[token.Token]func(a, b int) int{
	token.ADD: func(a, b int) int { return bitsOf(floatOf(a) + floatOf(b)) },
	token.SUB: func(a, b int) int { return bitsOf(floatOf(a) - floatOf(b)) },
	token.MUL: func(a, b int) int { return bitsOf(floatOf(a) * floatOf(b)) },
	token.QUO: func(a, b int) int { return bitsOf(floatOf(a) / floatOf(b)) },
}

// floatComparisons are Go's comparisons of float64s, on bits.
var floatComparisons = map[token.Token]func(a, b int) bool{
	token.EQL: func(a, b int) bool { return floatOf(a) == floatOf(b) },
	token.NEQ: func(a, b int) bool { return floatOf(a) != floatOf(b) },
	token.LSS: func(a, b int) bool { return floatOf(a) < floatOf(b) },
	token.LEQ: func(a, b int) bool { return floatOf(a) <= floatOf(b) },
	token.GTR: func(a, b int) bool { return floatOf(a) > floatOf(b) },
	token.GEQ: func(a, b int) bool { return floatOf(a) >= floatOf(b) },
}

// uintOps are the operators whose result differs for unsigned operands
// (held in an int, as all values are): the others give the same bits.
var uintOps = map[token.Token]func(a, b int) int{
	token.QUO: func(a, b int) int { return int(uint64(a) / uint64(b)) },
	token.REM: func(a, b int) int { return int(uint64(a) % uint64(b)) },
}

// opFor returns the operator op on operands of kind k (not a shift).
func opFor(op token.Token, k kind) (func(a, b int) int, bool) {
	if f, ok := uintOps[op]; ok && k == unsigned {
		return f, true
	}
	f, ok := intOps[op]
	return f, ok
}

// shiftOp returns << or >> on a value of kind k, by a count that
// shiftCount has made non-negative.
func shiftOp(op token.Token, k kind) func(a, n int) int {
	switch {
	case op == token.SHL:
		return func(a, n int) int { return a << n }
	case k == unsigned:
		return func(a, n int) int { return int(uint64(a) >> n) }
	}
	return func(a, n int) int { return a >> n }
}

// IsConst reports whether e is a literal (possibly signed, in parentheses):
// arithmetic on constants is exact in Go, so compiled code leaves it alone.
func IsConst(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.SelectorExpr:
		return isMathConst(e)
	case *ast.ParenExpr:
		return IsConst(e.X)
	case *ast.UnaryExpr:
		return IsConst(e.X)
	}
	return false
}

// intLiteral returns the value of an int literal, possibly negated or in
// parentheses, that fits an int.
func intLiteral(e ast.Expr) (int, bool) {
	lit, neg, ok := literal(e)
	if !ok || lit.Kind != token.INT {
		return 0, false
	}
	v := lit.Value
	if neg {
		v = "-" + v
	}
	n, err := strconv.ParseInt(v, 0, 64)
	return int(n), err == nil
}

// conversion reports whether e converts one value to a type of numTypes,
// and returns that type's kind.
func conversion(e *ast.CallExpr) (kind, bool) {
	if len(e.Args) != 1 || e.Ellipsis.IsValid() {
		return 0, false
	}
	return typeKind(e.Fun)
}

// uintComparisons are the comparisons whose result differs for unsigned
// operands.
var uintComparisons = map[token.Token]func(a, b int) bool{
	token.LSS: func(a, b int) bool { return uint64(a) < uint64(b) },
	token.LEQ: func(a, b int) bool { return uint64(a) <= uint64(b) },
	token.GTR: func(a, b int) bool { return uint64(a) > uint64(b) },
	token.GEQ: func(a, b int) bool { return uint64(a) >= uint64(b) },
}

var intComparisons = map[token.Token]func(a, b int) bool{
	token.EQL: func(a, b int) bool { return a == b },
	token.NEQ: func(a, b int) bool { return a != b },
	token.LSS: func(a, b int) bool { return a < b },
	token.LEQ: func(a, b int) bool { return a <= b },
	token.GTR: func(a, b int) bool { return a > b },
	token.GEQ: func(a, b int) bool { return a >= b },
}

// Bits returns the value v, of one of the types of numTypes, as compiled
// code holds it, and the name of its type.
func Bits(v any) (int, string, bool) {
	switch v := v.(type) {
	case int:
		return v, "int", true
	case int64:
		return int(v), "int64", true
	case uint:
		return int(v), "uint", true
	case uint64:
		return int(v), "uint64", true
	case float64:
		return bitsOf(v), "float64", true
	case bool:
		if v {
			return 1, "bool", true
		}
		return 0, "bool", true
	}
	return 0, "", false
}

// Value returns the value of type typ (one of numTypes) that compiled code
// holds as bits.
func Value(bits int, typ string) any {
	switch typ {
	case "int64":
		return int64(bits)
	case "uint":
		return uint(bits)
	case "uint64":
		return uint64(bits)
	case "float64":
		return floatOf(bits)
	case "bool":
		return bits != 0
	}
	return bits
}
