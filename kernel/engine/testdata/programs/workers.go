// Goroutines, channels and a WaitGroup.
package main

import (
	"fmt"
	"sort"
	"sync"
)

const numWorkers = 3

type result struct {
	job, square int
}

func worker(id int, jobs <-chan int, results chan<- result, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		results <- result{j, j * j}
	}
}

func main() {
	jobs := make(chan int, 10)
	results := make(chan result, 10)
	var wg sync.WaitGroup
	for w := 1; w <= numWorkers; w++ {
		wg.Add(1)
		go worker(w, jobs, results, &wg)
	}
	for j := 1; j <= 5; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	close(results)
	var got []result
	for r := range results {
		got = append(got, r)
	}
	sort.Slice(got, func(a, b int) bool { return got[a].job < got[b].job })
	fmt.Println(got)
}

// Output:
// [{1 1} {2 4} {3 9} {4 16} {5 25}]
