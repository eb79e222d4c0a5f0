#!/usr/bin/python3
"""Checks executed goproc notebooks, and executes them through jupyter_client.

  check.py check NOTEBOOK.ipynb...          check already-executed notebooks
  check.py client KERNEL NOTEBOOK.ipynb...  run each notebook cell by cell through
                                            jupyter_client, re-run every code cell
                                            once more, and check both runs

The assertions: no error output; assignment Q3 has the child's line before the
parent's; Q5 prints [1 4 9 16 25]; Q6 prints four different numbers, each whole
on its own line; the scenario prints the exact total 333333328333333350000000.
"""
import json
import re
import sys

TOTAL = "333333328333333350000000"


def text_of(outputs):
    parts = []
    for o in outputs:
        if o["output_type"] == "stream":
            t = o["text"]
            parts.append("".join(t) if isinstance(t, list) else t)
        elif o["output_type"] in ("execute_result", "display_data"):
            t = o.get("data", {}).get("text/plain", "")
            parts.append(("".join(t) if isinstance(t, list) else t) + "\n")
    return "".join(parts)


def errors_of(outputs):
    return [o for o in outputs if o["output_type"] == "error"]


def check_cells(name, cells):
    """cells: list of (grade_id or None, source, outputs). Returns a list of problems."""
    problems = []
    by_id = {}
    everything = ""
    for gid, src, outs in cells:
        for e in errors_of(outs):
            problems.append(f"{name}: cell {gid or src[:40]!r} failed: {e.get('ename')}: {e.get('evalue')}")
        if gid:
            by_id[gid] = text_of(outs)
        everything += text_of(outs)
    if "q3_answer" in by_id:
        lines = by_id["q3_answer"].splitlines()
        child = [i for i, l in enumerate(lines) if re.search(r"pid \d+", l) and "child" in l.lower()]
        parent = [i for i, l in enumerate(lines) if l.lower().startswith("parent")]
        if not child or not parent or max(child) > min(parent):
            problems.append(f"{name}: Q3 wants the child's line before the parent's, got {lines!r}")
    if "q5_answer" in by_id:
        if "[1 4 9 16 25]" not in by_id["q5_answer"].splitlines():
            problems.append(f"{name}: Q5 wants a line [1 4 9 16 25], got {by_id['q5_answer']!r}")
    if "q6_answer" in by_id:
        lines = by_id["q6_answer"].splitlines()
        nums = [int(m.group(1)) for l in lines for m in [re.fullmatch(r"(\d+) from pid \d+", l)] if m]
        if sorted(nums) != [1, 2, 3, 4]:
            problems.append(f"{name}: Q6 wants four whole lines with 1..4, got {lines!r}")
    if "sum_of_squares" in name and TOTAL not in everything:
        problems.append(f"{name}: the exact total {TOTAL} is missing")
    if "sum_of_squares" in name or "gonum" in name:
        # The chart is drawn by gonum/plot, a module the kernel builds in.
        pngs = [o for _, _, outs in cells for o in outs
                if o.get("output_type") in ("display_data", "execute_result")
                and o.get("data", {}).get("image/png", "").startswith("iVBORw0KGgo")]
        if not pngs:
            problems.append(f"{name}: the gonum/plot chart (a PNG display) is missing")
    if "gonum" in name:
        for want in ("mean 5 max 9", "sum 4.95e+08", "compiled speed: true", "variances [0.5 1 1.6666666666666667] <nil>"):
            if want not in everything.splitlines():
                problems.append(f"{name}: no line {want!r}")
    return problems


def notebook_cells(nb):
    out = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        out.append((gid, src, c.get("outputs", [])))
    return out


def run_client(kernel, path):
    from jupyter_client.manager import start_new_kernel

    nb = json.load(open(path))
    km, kc = start_new_kernel(kernel_name=kernel)
    problems = []
    try:
        cells = notebook_cells(nb)
        for round_ in (1, 2):
            executed = []
            for gid, src, _ in cells:
                outputs = []

                def hook(msg):
                    t = msg["msg_type"]
                    if t in ("stream", "execute_result", "display_data", "error"):
                        o = dict(msg["content"])
                        o["output_type"] = t
                        outputs.append(o)

                reply = kc.execute_interactive(src, timeout=120, output_hook=hook)
                if reply["content"]["status"] != "ok" and not errors_of(outputs):
                    outputs.append({"output_type": "error", "ename": reply["content"].get("ename"), "evalue": reply["content"].get("evalue")})
                executed.append((gid, src, outputs))
            problems += check_cells(f"{path} (jupyter_client, round {round_})", executed)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return problems


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    problems = []
    if mode == "check":
        for p in args:
            problems += check_cells(p, notebook_cells(json.load(open(p))))
    elif mode == "client":
        kernel, paths = args[0], args[1:]
        for p in paths:
            problems += run_client(kernel, p)
    else:
        sys.exit(__doc__)
    for p in problems:
        print("FAIL", p)
    print(f"{len(problems)} problems in {len(args)} notebooks ({mode})")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
