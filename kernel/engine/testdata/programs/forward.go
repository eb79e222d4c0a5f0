// Declarations that use later ones: functions, types, variables, constants.
package main

import "fmt"

func describe(s Shape) string {
	return fmt.Sprintf("%s with area %.1f (%s)", s.Name(), s.Area(), unit)
}

var shapes = []Shape{square(2), Circle{R: 1}}

var total = sumAreas(shapes)

const unit = prefix + "m²"

const prefix = "c"

type Shape interface {
	Name() string
	Area() float64
}

func (s Square) Name() string    { return "square" }
func (s Square) Area() float64   { return s.Side * s.Side }
func (c Circle) Name() string    { return "circle" }
func (c Circle) Area() float64   { return 3 * c.R * c.R }
func square(side float64) Square { return Square{Side: side} }

type Square struct{ Side float64 }

type Circle struct{ R float64 }

func sumAreas(ss []Shape) float64 {
	t := 0.0
	for _, s := range ss {
		t += s.Area()
	}
	return t
}

func main() {
	for _, s := range shapes {
		fmt.Println(describe(s))
	}
	fmt.Printf("total %.1f\n", total)
}

// Output:
// square with area 4.0 (cm²)
// circle with area 3.0 (cm²)
// total 7.0
