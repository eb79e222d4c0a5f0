// Methods, embedding, Stringer, iota constants used before they are declared.
package main

import "fmt"

func (d Direction) String() string { return names[d] }

var names = map[Direction]string{North: "N", East: "E", South: "S", West: "W"}

type Direction int

const (
	North Direction = iota
	East
	South
	West
)

type Named struct{ Name string }

func (n Named) Hello() string { return "hello, " + n.Name }

type Robot struct {
	Named
	Facing Direction
}

func (r *Robot) Turn() { r.Facing = (r.Facing + 1) % 4 }

func main() {
	r := &Robot{Named{"r2"}, North}
	for i := 0; i < 5; i++ {
		fmt.Print(r.Facing, " ")
		r.Turn()
	}
	fmt.Println()
	fmt.Println(r.Hello())
}

// Output:
// N E S W N
// hello, r2
