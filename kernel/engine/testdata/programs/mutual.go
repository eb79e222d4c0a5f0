// Mutually recursive types and functions, each declared on its own.
package main

import "fmt"

type Tree struct {
	Value    int
	Children []*Node
}

type Node struct {
	Label string
	Sub   *Tree
}

func isEven(n int) bool {
	if n == 0 {
		return true
	}
	return isOdd(n - 1)
}

func isOdd(n int) bool {
	if n == 0 {
		return false
	}
	return isEven(n - 1)
}

func (t *Tree) Sum() int {
	s := t.Value
	for _, c := range t.Children {
		if c.Sub != nil {
			s += c.Sub.Sum()
		}
	}
	return s
}

func main() {
	t := &Tree{Value: 1, Children: []*Node{{Label: "a", Sub: &Tree{Value: 2}}, {Label: "b"}}}
	fmt.Println(t.Sum(), isEven(10), isOdd(10))
}

// Output:
// 3 true false
