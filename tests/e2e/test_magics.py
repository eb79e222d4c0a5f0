"""Magics and shell lines through the real kernel over jupyter_client:
%%time, !echo and %env, their output in the cell's streams, in order."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from common import Kernel  # noqa: E402

TIMES = re.compile(r"CPU times: user \S+ \S+, sys: \S+ \S+, total: \S+ \S+\nWall time: \S+ \S+\n$")


class MagicTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kernel()

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def setUp(self):
        self.k.flush()

    def results(self, outs):
        return [c["data"]["text/plain"] for t, c in outs if t == "execute_result"]

    def test_cell_time(self):
        content, outs = self.k.run('%%time\nimport "fmt"\nfmt.Println("body")\n6 * 7')
        self.assertEqual(content["status"], "ok", content)
        out = self.k.stdout(outs)
        self.assertTrue(out.startswith("body\n"), out)
        self.assertRegex(out, TIMES)
        self.assertEqual(self.results(outs), ["42"])

    def test_shell_line_between_go_lines(self):
        content, outs = self.k.run('import "fmt"\nfmt.Println("before")\n!echo hi\nfmt.Println("after")')
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.k.stdout(outs), "before\nhi\nafter\n")

    def test_failing_command_does_not_fail_the_cell(self):
        content, outs = self.k.run("!exit 4")
        self.assertEqual(content["status"], "ok", content)
        err = "".join(c["text"] for t, c in outs if t == "stream" and c["name"] == "stderr")
        self.assertIn("non-zero exit status 4", err)

    def test_env(self):
        k = self.k
        content, outs = k.run("%env GOPROC_E2E_MAGIC=set here")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(k.stdout(outs), "env: GOPROC_E2E_MAGIC=set here\n")
        content, outs = k.run("%env")
        self.assertIn("GOPROC_E2E_MAGIC=set here\n", k.stdout(outs))
        content, outs = k.run('import "os"\nos.Getenv("GOPROC_E2E_MAGIC")')
        self.assertEqual(self.results(outs), ['"set here"'])
        content, outs = k.run("!echo $GOPROC_E2E_MAGIC")
        self.assertEqual(k.stdout(outs), "set here\n")

    def test_unknown_magic_is_an_error(self):
        content, outs = self.k.run("%nosuch")
        self.assertEqual(content["status"], "error")
        self.assertEqual(content["ename"], "UsageError")


if __name__ == "__main__":
    unittest.main()
