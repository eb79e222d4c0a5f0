#!/usr/bin/env python3
"""Runs the module-import benchmark's kernels and prints its table.

Called by tests/bench/modules_bench.sh, which prepares everything and passes
it in the environment (see there). Each kernel runs in its own drive.py
process, one after the other. Nothing is asserted; the exit status is 0 even
when a kernel fails, which the table reports.
"""
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
E = os.environ
WORK = E.get("BENCH_WORK", "")
N_GOPROC = int(E.get("BENCH_TRIVIAL_GOPROC", "50"))
N_GONB = int(E.get("BENCH_TRIVIAL_GONB", "10"))
IMPORT_TIMEOUT = float(E.get("BENCH_IMPORT_TIMEOUT", "180"))

IMPORT = 'import "gonum.org/v1/gonum/floats"\n\n'
USE = "fmt.Println(floats.Sum([]float64{1, 2, 3}))"
# Figure 4's statements: cells in goproc, main's body in the compiled baseline.
FILL = "xs := floats.Span(make([]float64, 10_000_000), 0, 1)"
TIMED = """best := int64(-1)
var sum float64
for r := 0; r < 5; r++ {
	t0 := time.Now()
	sum = floats.Sum(xs)
	ns := time.Since(t0).Nanoseconds()
	if best < 0 || ns < best {
		best = ns
	}
}
fmt.Println("ns", best, "sum", sum)"""


def compiled_main():
    """The compiled baseline of figure 4: FILL and TIMED as main's body."""
    body = "\n".join("\t" + line if line else line for line in (FILL + "\n" + TIMED).splitlines())
    return ('package main\n\nimport (\n\t"fmt"\n\t"time"\n\n\t"gonum.org/v1/gonum/floats"\n)\n\n'
            "func main() {\n" + body + "\n}\n")


def kernel_env(gocache):
    return {"GOCACHE": gocache, "GOPROXY": E["BENCH_GOPROXY"], "GOTOOLCHAIN": "local",
            "TMPDIR": os.path.join(WORK, "tmp"), "PATH": E["BENCH_PATH"]}


def notebook_dir(name):
    """The kernel's working directory: goproc pins modules in a go.mod there."""
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    return d


def drive(job):
    path = os.path.join(WORK, job["name"] + ".json")
    job["log"] = os.path.join(WORK, job["name"] + ".log")
    with open(path, "w") as f:
        json.dump(job, f)
    p = subprocess.run([sys.executable, os.path.join(HERE, "drive.py"), path], capture_output=True, text=True)
    with open(os.path.join(WORK, job["name"] + ".result.json"), "w") as f:
        f.write(p.stdout)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"name": job["name"], "ok": False, "cells": [], "startup_ms": None,
                "error": f"drive.py exited {p.returncode}: {p.stderr.strip()[-400:]}"}


def goproc_jobs():
    argv = [E["GOPROC"], "kernel", "{connection_file}"]
    env = kernel_env(os.path.join(WORK, "gocache-goproc"))
    env["GOPROC_CACHE"] = os.path.join(WORK, "goproc-cache")  # empty before the cold kernel
    os.makedirs(env["GOPROC_CACHE"], exist_ok=True)
    base = {"argv": argv, "interrupt_mode": "signal", "env": env, "cwd": notebook_dir("notebook-goproc")}
    cold = dict(base, name="goproc-cold", cells=[
        {"id": "setup", "code": 'import (\n\t"fmt"\n\t"time"\n)\n\nvar _ = time.Now'},
        {"id": "warmup", "code": "fmt.Println(1)", "repeat": 5},
        {"id": "trivial", "code": "fmt.Println(1)", "repeat": N_GOPROC},
        {"id": "import", "code": IMPORT + USE, "timeout": IMPORT_TIMEOUT}])
    warm = dict(base, name="goproc-warm", cells=[
        {"id": "setup", "code": 'import (\n\t"fmt"\n\t"time"\n)\n\nvar _ = time.Now'},
        {"id": "warmup", "code": "fmt.Println(1)"},
        {"id": "import", "code": IMPORT + USE, "timeout": IMPORT_TIMEOUT},
        {"id": "fill", "code": FILL, "timeout": 120},
        {"id": "timed", "code": TIMED, "timeout": 120}])
    return cold, warm


def gonb_jobs():
    argv = [E["GONB"], "--kernel", "{connection_file}", "--raw_error"]
    env = kernel_env(os.path.join(WORK, "gocache-gonb"))
    base = {"argv": argv, "interrupt_mode": "message", "env": env, "cwd": notebook_dir("notebook-gonb")}
    # GoNB runs a cell's top-level statements after a `%%` line.
    trivial = "%%\nfmt.Println(1)"
    cold = dict(base, name="gonb-cold", cells=[
        {"id": "warmup", "code": trivial, "repeat": 2},
        {"id": "trivial", "code": trivial, "repeat": N_GONB},
        {"id": "import", "code": IMPORT + "%%\n" + USE, "timeout": IMPORT_TIMEOUT}])
    warm = dict(base, name="gonb-warm", cells=[
        {"id": "warmup", "code": trivial},
        {"id": "import", "code": IMPORT + "%%\n" + USE, "timeout": IMPORT_TIMEOUT},
        {"id": "version", "code": "!*grep gonum go.mod"}])
    return cold, warm


def cell(res, cid):
    for c in res.get("cells", []):
        if c["id"] == cid:
            return c
    return None


def first_line(s):
    s = (s or "").strip()
    s = s.splitlines()[0] if s else ""
    return s if len(s) <= 100 else s[:99] + "…"


def measure(res, cid, want=None, agg=statistics.median):
    """(value in ms, None) or (None, why it failed)."""
    if res.get("error"):
        return None, res["error"]
    c = cell(res, cid)
    if c is None:
        # An earlier cell stopped the job.
        bad = next((x for x in res.get("cells", []) if x["status"] != "ok"), None)
        return None, f"cell {bad['id']!r}: {first_line(bad['error'] or bad['stderr'])}" if bad else "not run"
    if c["status"] != "ok":
        return None, first_line(c["error"] or c["stderr"]) or c["status"]
    if want is not None and want not in c["stdout"]:
        return None, f"printed {first_line(c['stdout'] + c['stderr'])!r}, not {want!r}"
    return agg(c["ms"]), None


def timed_ns(res):
    v, why = measure(res, "timed")
    if why:
        return None, None, why
    m = re.search(r"ns (\d+) sum (\S+)", cell(res, "timed")["stdout"])
    if not m:
        return None, None, f"printed {first_line(cell(res, 'timed')['stdout'])!r}"
    return int(m.group(1)), m.group(2), None


def fmt_ms(v):
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    return f"{v:.1f} ms" if v >= 10 else f"{v:.2f} ms"


def main():
    rows = []
    gp_cold, gp_warm = goproc_jobs()
    if E.get("GOPROC"):
        gp = {j["name"]: drive(j) for j in (gp_cold, gp_warm)}
    else:
        gp = {j["name"]: {"name": j["name"], "ok": False, "cells": [], "startup_ms": None,
                          "error": E.get("GOPROC_ERR") or "no binary"} for j in (gp_cold, gp_warm)}
    gonb_ok = E.get("GONB") and os.path.exists(E["GONB"])
    gn = {}
    if gonb_ok:
        for j in gonb_jobs():
            gn[j["name"]] = drive(j)

    def row(fig, g, b, bad_g, bad_b, unit=fmt_ms, note=""):
        gs = unit(g) if g is not None else f"goproc: failed ({bad_g})"
        if not gonb_ok and b is None and bad_b is None:
            bs = "GoNB: not run"
        else:
            bs = unit(b) if b is not None else f"failed ({bad_b})"
        ratio = f"{g / b:.3g}" if g is not None and b else "-"
        rows.append((fig, gs, bs, ratio + note))

    nb_cold = gn.get("gonb-cold", {})
    nb_warm = gn.get("gonb-warm", {})
    g1, e1 = measure(gp["goproc-cold"], "trivial", "1")
    b1, f1 = measure(nb_cold, "trivial", "1") if gonb_ok else (None, None)
    row(f"1 trivial cell, median (goproc n={N_GOPROC}, GoNB n={N_GONB})", g1, b1, e1, f1)
    g2, e2 = measure(gp["goproc-cold"], "import", "6")
    b2, f2 = measure(nb_cold, "import", "6") if gonb_ok else (None, None)
    row("2 first import of gonum/floats (empty GOPROC_CACHE, gonum not yet compiled)", g2, b2, e2, f2)
    g3, e3 = measure(gp["goproc-warm"], "import", "6")
    b3, f3 = measure(nb_warm, "import", "6") if gonb_ok else (None, None)
    row("3 same import, fresh kernel, warm caches", g3, b3, e3, f3)
    g4, sum4, e4 = timed_ns(gp["goproc-warm"])
    b4 = int(E["COMPILED_NS"]) if E.get("COMPILED_NS") else None
    note = ""
    if g4 is not None and b4:
        note = f" (target <= 2: {'met' if g4 / b4 <= 2 else 'missed'})"
        if sum4 != E.get("COMPILED_SUM"):
            note += f" [sums differ: goproc {sum4}, compiled {E.get('COMPILED_SUM')}]"
    rows.append(("4 floats.Sum of 10^7 float64, best of 5 (baseline: compiled go run)",
                 f"{g4 / 1e6:.3f} ms" if g4 is not None else f"goproc: failed ({e4})",
                 f"{b4 / 1e6:.3f} ms" if b4 else f"failed ({E.get('COMPILED_ERR', 'not run')})",
                 (f"{g4 / b4:.3g}" if g4 is not None and b4 else "-") + note))

    head = ("figure", "goproc", "baseline (GoNB; 4: compiled)", "ratio goproc/baseline")
    w = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    print(" | ".join(h.ljust(w[i]) for i, h in enumerate(head)))
    print("-+-".join("-" * x for x in w))
    for r in rows:
        print(" | ".join(v.ljust(w[i]) for i, v in enumerate(r)))

    print()
    if not gonb_ok:
        print(f"GoNB: not run ({E.get('GONB_ERR') or 'not installed'}); figures 1-3 are goproc's alone.")
    for name, res in list(gp.items()) + list(gn.items()):
        s = f"{res['startup_ms']:.0f} ms" if res.get("startup_ms") else "-"
        print(f"{name}: kernel start to ready {s}" + ("" if res.get("ok") else "; failed"))
        logf = os.path.join(WORK, name + ".log")
        if res.get("error") and os.path.exists(logf):  # the kernel did not start
            with open(logf, errors="replace") as f:
                tail = f.read().splitlines()[-4:]
            for line in tail:
                print(f"    log: {line[:200]}")
    v = cell(nb_warm, "version") if gonb_ok else None
    if v and v["status"] == "ok":
        used = v["stdout"].strip().split()[-1] if v["stdout"].strip() else "?"
        print(f"gonum used by GoNB: {used}" + ("" if used == E.get("GONUM_VER") else
                                              f"  (differs from the compiled baseline's {E.get('GONUM_VER')})"))


if __name__ == "__main__":
    if sys.argv[1:] == ["--compiled-main"]:
        sys.stdout.write(compiled_main())
    else:
        main()
