// Closures, function values and recover.
package main

import "fmt"

func counter() func() int {
	n := 0
	return func() int {
		n++
		return n
	}
}

var ops = map[string]func(int, int) int{
	"add": func(a, b int) int { return a + b },
	"div": safeDiv,
}

func safeDiv(a, b int) (q int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Println("recovered:", r)
			q = 0
		}
	}()
	return a / b
}

func main() {
	c := counter()
	c()
	c()
	fmt.Println(c())
	fmt.Println(ops["add"](2, 3), ops["div"](7, 2), ops["div"](1, 0))
}

// Output:
// 3
// recovered: runtime error: integer divide by zero
// 5 3 0
