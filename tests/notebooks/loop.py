#!/usr/bin/python3
"""The multiprocessing loop test through the headless runner: builds a
notebook of the Q3, Q5 and Q6 cells from tests/e2e/test_multiprocessing.py
repeated LOOPS times, runs it with `goproc run`, and checks every cell's
output with the same rules.

  loop.py GOPROC_BINARY [LOOPS]
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from test_multiprocessing import SETUP, Q3, Q5, Q6  # noqa: E402


def cell(src):
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}


def stdout(c):
    return "".join("".join(o["text"]) for o in c["outputs"] if o["output_type"] == "stream" and o["name"] == "stdout")


def check(kind, text):
    lines = text.splitlines()
    if kind == "q3":
        return (len(lines) == 2 and re.fullmatch(r"child: pid \d+, name MyProcess", lines[0])
                and lines[1] == "parent: done 0")
    if kind == "q5":
        return lines == ["[1 4 9 16 25] <nil>"]
    if len(lines) != 9 or lines[-1] != "all joined":
        return False
    seen = set()
    for l in lines[:-1]:
        m = re.fullmatch(r"(\d) (\d+)", l)
        if m and m.group(2) == m.group(1) * 3000:
            continue
        m = re.fullmatch(r"number (\d) from pid \d+", l)
        if not m:
            return False
        seen.add(m.group(1))
    return seen == {"1", "2", "3", "4"}


def main():
    binary, loops = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    kinds = ["q3", "q5", "q6"] * loops
    srcs = {"q3": Q3, "q5": Q5, "q6": Q6}
    nb = {"cells": [cell(SETUP)] + [cell(srcs[k]) for k in kinds], "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "goproc", "language": "go", "display_name": "Go (goproc)"}}}
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "loop.ipynb"), os.path.join(d, "loop.out.ipynb")
        json.dump(nb, open(src, "w"))
        r = subprocess.run([binary, "run", src, "--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"goproc run failed: {r.stderr[-2000:]}")
        cells = json.load(open(out))["cells"][1:]
    bad = [(i, k) for i, (k, c) in enumerate(zip(kinds, cells)) if not check(k, stdout(c))]
    for i, k in bad[:5]:
        print(f"FAIL cell {i + 2} ({k}): {stdout(cells[i])[:300]!r}")
    print(f"{len(kinds) - len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
