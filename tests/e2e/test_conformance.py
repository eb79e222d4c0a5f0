"""The official Jupyter kernel conformance suite (jupyter_kernel_test) with Go
samples for every test it offers, against the installed goproc kernelspec."""
import os
import sys
import unittest

import jupyter_kernel_test

sys.path.insert(0, os.path.dirname(__file__))
from common import KERNEL  # noqa: E402


class GoprocKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'import "fmt"\nfmt.Println("hello, world")'
    code_stderr = 'import "os"\nimport "fmt"\nfmt.Fprintln(os.Stderr, "to stderr")'

    completion_samples = [
        {"text": 'import "strings"\nstrings.HasPre', "matches": {"HasPrefix"}},
        {"text": 'import "fmt"\nfmt.Sprintl', "matches": {"Sprintln"}},
    ]
    complete_code_samples = ["x := 1", 'fmt.Println("hi")', "func f() {}", "type T struct{ A int }"]
    incomplete_code_samples = ["func f() {", "for i := 0; i < 3; i++ {", "fmt.Println(", "x := []int{1,"]
    invalid_code_samples = ["x := )", "}", "x := 1 ]"]

    # "?name" pages help, as IPython's "?" does.
    code_page_something = "?fmt.Println"

    code_generate_error = 'panic("boom")'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"go" + "proc"', "result": '"goproc"'},
        {"code": "[]int{1, 2, 3}", "result": "[1 2 3]"},
    ]
    code_history_pattern = "1 +*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "strings.ToUpper"

    code_display_data = [
        {"code": 'import "display"\ndisplay.Show(display.HTML("<b>hi</b>"))', "mime": "text/html"},
        {"code": 'import "display"\ndisplay.Show(display.Markdown("# hi"))', "mime": "text/markdown"},
    ]
    code_clear_output = 'import "display"\ndisplay.ClearOutput(false)'


if __name__ == "__main__":
    unittest.main(verbosity=2)
