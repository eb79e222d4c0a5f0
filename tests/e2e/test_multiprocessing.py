"""Multiprocessing through the real kernel over ZeroMQ, in a loop: Q3, Q5 and
Q6 run 100 times each (GOPROC_MP_LOOPS to change), and every output line is
checked: whole, on its own line, the child's line before the parent's."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from common import Kernel  # noqa: E402

LOOPS = int(os.environ.get("GOPROC_MP_LOOPS", "100"))

SETUP = '''import (
	"fmt"
	"os"
	"strings"
	"multiprocessing"
)

func describe() {
	fmt.Printf("child: pid %d, name %s\\n", os.Getpid(), multiprocessing.CurrentProcess().Name)
}

func square(n int) int { return n * n }

// long lines test wholeness: 3 KiB each, written by four children at once
func number(n int) {
	fmt.Printf("%d %s\\n", n, strings.Repeat(fmt.Sprint(n), 3000))
	fmt.Printf("number %d from pid %d\\n", n, os.Getpid())
}'''

Q3 = '''p := &multiprocessing.Process{Target: describe, Name: "MyProcess"}
p.Start()
p.Join()
fmt.Println("parent: done", p.ExitCode())'''

Q5 = '''pool := multiprocessing.NewPool(4)
squares, err := pool.Map(square, []int{1, 2, 3, 4, 5})
pool.Close()
fmt.Println(squares, err)'''

Q6 = '''var ps []*multiprocessing.Process
for i := 1; i <= 4; i++ {
	p := &multiprocessing.Process{Target: number, Args: []any{i}}
	p.Start()
	ps = append(ps, p)
}
for _, p := range ps { p.Join() }
fmt.Println("all joined")'''


class MultiprocessingLoopTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kernel()
        content, outs = cls.k.run(SETUP)
        assert content["status"] == "ok", (content, outs)

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def lines(self, code):
        content, outs = self.k.run(code, timeout=60)
        self.assertEqual(content["status"], "ok", content)
        errs = "".join(c["text"] for t, c in outs if t == "stream" and c["name"] == "stderr")
        self.assertEqual(errs, "", "unexpected stderr")
        text = self.k.stdout(outs)
        self.assertTrue(text.endswith("\n"), repr(text[-80:]))
        return text.splitlines()

    def test_q3_child_before_parent(self):
        pids = set()
        for i in range(LOOPS):
            lines = self.lines(Q3)
            self.assertEqual(len(lines), 2, (i, lines))
            m = re.fullmatch(r"child: pid (\d+), name MyProcess", lines[0])
            self.assertIsNotNone(m, (i, lines))
            self.assertEqual(lines[1], "parent: done 0", (i, lines))
            pids.add(m.group(1))
        self.assertEqual(len(pids), LOOPS, "every Process is a fresh OS process")

    def test_q5_pool_squares(self):
        for i in range(LOOPS):
            self.assertEqual(self.lines(Q5), ["[1 4 9 16 25] <nil>"], i)

    def test_q6_four_processes_whole_lines(self):
        for i in range(LOOPS):
            lines = self.lines(Q6)
            self.assertEqual(lines[-1], "all joined", i)
            body = lines[:-1]
            self.assertEqual(len(body), 8, (i, [l[:40] for l in body]))
            seen = set()
            for l in body:
                m = re.fullmatch(r"(\d) (\d+)", l) or re.fullmatch(r"number (\d) from pid \d+", l)
                self.assertIsNotNone(m, (i, l[:80]))
                if l.startswith("number"):
                    seen.add(m.group(1))
                else:
                    self.assertEqual(m.group(2), m.group(1) * 3000, (i, "a long line was split or mixed"))
            self.assertEqual(seen, {"1", "2", "3", "4"}, i)

    def test_timer_slack_reaches_engine_and_children(self):
        # The kernel sets a 1 ms timer slack (kernel/timerslack); the engine
        # it starts and every Process the engine starts inherit it.
        code = '''func slack() {
	b, _ := os.ReadFile("/proc/self/timerslack_ns")
	fmt.Printf("slack %d %s", os.Getpid(), b)
}
slack()
p := &multiprocessing.Process{Target: slack}
p.Start()
p.Join()'''
        lines = self.lines(code)
        self.assertEqual(len(lines), 2, lines)
        pids = set()
        for l in lines:
            m = re.fullmatch(r"slack (\d+) (\d+)", l)
            self.assertIsNotNone(m, lines)
            self.assertEqual(m.group(2), "1000000", lines)
            pids.add(m.group(1))
        self.assertEqual(len(pids), 2, lines)


if __name__ == "__main__":
    unittest.main(verbosity=2)
