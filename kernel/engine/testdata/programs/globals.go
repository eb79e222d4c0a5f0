// Package-level variables computed from earlier ones.
package main

import (
	"fmt"
	"strings"
)

var words = strings.Fields("the quick brown fox jumps over the lazy dog")

var counts = countWords(words)

var first = words[0:2]

var longest string = longestWord(words)

var matrix = [2][3]int{{1, 2, 3}, {4, 5, 6}}

var row [3]int = matrix[1]

var anything interface{} = counts["the"]

func countWords(ws []string) map[string]int {
	m := map[string]int{}
	for _, w := range ws {
		m[w]++
	}
	return m
}

func longestWord(ws []string) string {
	best := ""
	for _, w := range ws {
		if len(w) > len(best) {
			best = w
		}
	}
	return best
}

func main() {
	fmt.Println(len(words), counts["the"], first, longest, row, anything.(int))
}

// Output:
// 9 2 [the quick] quick [4 5 6] 2
