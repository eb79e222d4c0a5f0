package engine

import "reflect"

// GlobalValues shows runtime/multiprocessing the values of the notebook's
// globals: it terminates the idle pools of earlier cells that none of them
// reaches. (yaegi keeps a redeclared variable's old value, so the garbage
// collector alone never finds the pool of a cell run again.)
func (in *Interpreter) GlobalValues() map[string]reflect.Value { return in.safeGlobals() }
