package multiprocessing_test

import (
	"testing"
)

func TestSharedObjects(t *testing.T) {
	decl(t, `func producer(q *multiprocessing.Queue, n int) {
	for i := 0; i < n; i++ { q.Put(i * i) }
	q.Put("done")
}
func consumer(q *multiprocessing.Queue, results *multiprocessing.Queue) {
	sum := 0
	for {
		v, err := q.Get()
		if err != nil { fmt.Println("consumer:", err); return }
		if s, ok := v.(string); ok && s == "done" { break }
		sum += v.(int)
	}
	results.Put(sum)
}
func increment(counter *multiprocessing.Value, n int) {
	for i := 0; i < n; i++ {
		counter.GetLock().Acquire()
		v, _ := counter.Get()
		counter.Set(v.(int) + 1)
		counter.GetLock().Release()
	}
}
func addAtomic(counter *multiprocessing.Value, arr *multiprocessing.Array, n int) {
	for i := 0; i < n; i++ { counter.Add(1); arr.Add(i % 3, 1) }
}
func echo(c *multiprocessing.Conn, ready *multiprocessing.Event) {
	ready.Set()
	for {
		v, err := c.Recv()
		if err != nil { return }
		if v == "stop" { c.Close(); return }
		c.Send(fmt.Sprintf("echo %v", v))
	}
}
func holdAndDie(l *multiprocessing.Lock) { l.Acquire(); os.Exit(3) }`)
	out, errs := capture(t, func() {
		run(t, `q, results := multiprocessing.NewQueue(), multiprocessing.NewQueue()
p := multiprocessing.NewProcess(producer, q, 100)
c := multiprocessing.NewProcess(consumer, q, results)
p.Start(); c.Start(); p.Join(); c.Join()
fmt.Println(results.GetTimeout(10 * time.Second))
shared := multiprocessing.NewValue(0)
var ps []*multiprocessing.Process
for i := 0; i < 4; i++ { ps = append(ps, multiprocessing.NewProcess(increment, shared, 50)) }
for _, p := range ps { p.Start() }
for _, p := range ps { p.Join() }
fmt.Println(shared.Get())
arr, _ := multiprocessing.NewArray([]int{0, 0, 0})
a1, a2 := multiprocessing.NewProcess(addAtomic, shared, arr, 30), multiprocessing.NewProcess(addAtomic, shared, arr, 30)
a1.Start(); a2.Start(); a1.Join(); a2.Join()
fmt.Println(shared.Get())
fmt.Println(arr.Slice())
here, there := multiprocessing.Pipe()
ready := multiprocessing.NewEvent()
e := multiprocessing.NewProcess(echo, there, ready)
e.Start()
fmt.Println(ready.WaitTimeout(5 * time.Second))
here.Send(1); fmt.Println(here.Recv())
here.Send("x"); fmt.Println(here.Recv())
here.Send("stop"); e.Join()
_, err := here.Recv()
fmt.Println("after close:", err != nil)
l := multiprocessing.NewLock()
d := multiprocessing.NewProcess(holdAndDie, l)
d.Start(); d.Join()
got, err := l.AcquireTimeout(time.Second)
fmt.Println("dead holder:", d.ExitCode(), got, err)
q.Put(3.5); q.Put([]string{"a"}); fmt.Println(q.Len(), q.Empty())
v1, _ := q.Get(); v2, _ := q.Get()
fmt.Printf("%T %T %v\n", v1, v2, q.Empty())
_, err = q.GetTimeout(10 * time.Millisecond)
fmt.Println(errors.Is(err, multiprocessing.ErrTimeout))`)
	})
	want := `328350 <nil>
200 <nil>
260 <nil>
[20 20 20] <nil>
true <nil>
echo 1 <nil>
echo x <nil>
after close: true
dead holder: 3 true <nil>
2 false
float64 []string true
true
`
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", out, want, errs)
	}
}
