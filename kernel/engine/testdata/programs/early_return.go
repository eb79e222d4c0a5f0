// main returns early.
package main

import (
	"errors"
	"fmt"
)

var ErrEmpty = errors.New("empty input")

func parse(s string) (int, error) {
	if s == "" {
		return 0, ErrEmpty
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad digit %q", r)
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

func main() {
	defer fmt.Println("done")
	for _, in := range []string{"42", "7x", ""} {
		n, err := parse(in)
		if errors.Is(err, ErrEmpty) {
			fmt.Println("stopping:", err)
			return
		}
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println("parsed", n)
	}
	fmt.Println("not reached")
}

// Output:
// parsed 42
// error: bad digit 'x'
// stopping: empty input
// done
