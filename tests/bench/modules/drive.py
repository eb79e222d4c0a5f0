#!/usr/bin/env python3
"""Starts one Jupyter kernel, runs cells, times each one, kills the kernel.

Usage: drive.py JOB.json   (run with Debian's /usr/bin/python3, which has
jupyter_client). Prints one JSON object on stdout.

JOB: {"name": str, "argv": [... "{connection_file}" ...],
      "interrupt_mode": "signal" | "message", "env": {NAME: value},
      "log": path for the kernel's stdout and stderr,
      "cwd": the kernel's working directory (the notebook's directory),
      "startup_timeout": s,
      "cells": [{"id": str, "code": str, "timeout": s, "repeat": n}]}

A cell's time is wall time from sending its execute_request to the kernel's
idle status for it on iopub. The kernelspec is written into a private
JUPYTER_PATH, the connection file into a private runtime dir, and the kernel
listens on 127.0.0.1. After the cells (or the first failure or timeout) the
kernel, its process group and every process it started are killed.

Output: {"name", "ok", "error", "startup_ms", "cells": [{"id", "status":
"ok" | "error" | "timeout", "ms": [...], "stdout", "stderr", "error"}]}.
"""
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import time


def proc_stat(pid):
    """(parent pid, start time) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        fields = st[st.rindex(")") + 2:].split()
        return int(fields[1]), fields[19]
    except (OSError, ValueError, IndexError):
        return None


def descendants(pid):
    """{(pid, start time)} of every live descendant of pid (from /proc)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s:
                children.setdefault(s[0], []).append((int(d), s[1]))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c[0])
    return out


def run_cell(kc, code, timeout):
    """Executes code once; returns (status, seconds, stdout, stderr, error)."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code, store_history=True, allow_stdin=False)
    deadline = t0 + timeout
    out, err, error, status = [], [], "", "ok"
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return "timeout", time.perf_counter() - t0, "".join(out), "".join(err), f"no idle after {timeout:g} s"
        try:
            m = kc.get_iopub_msg(timeout=left)
        except queue.Empty:
            continue
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        t, c = m["msg_type"], m["content"]
        if t == "status" and c.get("execution_state") == "idle":
            elapsed = time.perf_counter() - t0
            break
        if t == "stream":
            (out if c.get("name") == "stdout" else err).append(c.get("text", ""))
        elif t in ("execute_result", "display_data"):
            data = c.get("data", {})
            out.append(data.get("text/plain", "") or data.get("text/markdown", "") or data.get("text/html", ""))
        elif t == "error":
            status = "error"
            error = f"{c.get('ename', '')}: {c.get('evalue', '')}".strip(": ")
            tb = "\n".join(c.get("traceback", []))
            if tb and tb not in error:
                err.append(tb)
    # The reply's status counts too (a kernel may send no error message).
    try:
        reply = kc.get_shell_msg(timeout=max(1.0, deadline - time.perf_counter()))
        while reply.get("parent_header", {}).get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=max(1.0, deadline - time.perf_counter()))
        rc = reply["content"]
        if rc.get("status") != "ok":
            status = "error"
            if not error:
                error = f"{rc.get('ename', '')}: {rc.get('evalue', '')}".strip(": ") or rc.get("status", "")
    except queue.Empty:
        pass
    return status, elapsed, "".join(out), "".join(err), error


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    result = {"name": job.get("name", ""), "ok": False, "error": None, "startup_ms": None, "cells": []}
    tmp = tempfile.mkdtemp(prefix="modbench-jupyter-")
    spec_name = "modbench-" + "".join(ch if ch.isalnum() else "-" for ch in job.get("name", "k")).lower()
    spec_dir = os.path.join(tmp, "kernels", spec_name)
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump({"argv": job["argv"], "display_name": spec_name, "language": "go",
                   "interrupt_mode": job.get("interrupt_mode", "signal")}, f)
    os.environ["JUPYTER_PATH"] = tmp
    os.environ["JUPYTER_DATA_DIR"] = os.path.join(tmp, "data")
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(tmp, "runtime")
    os.environ["JUPYTER_CONFIG_DIR"] = os.path.join(tmp, "config")
    os.environ["JUPYTER_PLATFORM_DIRS"] = "0"
    env = dict(os.environ)
    env.update(job.get("env", {}))

    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=spec_name)
    km.ip = "127.0.0.1"
    km.transport = "tcp"
    kc = None
    pid = None
    kids = set()
    log = open(job.get("log") or os.devnull, "ab")
    try:
        t0 = time.perf_counter()
        try:
            km.start_kernel(env=env, stdout=log, stderr=log, cwd=job.get("cwd") or os.getcwd())
            pid = km.provisioner.process.pid
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=job.get("startup_timeout", 60))
        except Exception as e:  # noqa: BLE001 -- reported, not raised
            result["error"] = f"kernel did not start: {type(e).__name__}: {e}"
            return result
        result["startup_ms"] = (time.perf_counter() - t0) * 1e3
        for cell in job["cells"]:
            rec = {"id": cell["id"], "status": "ok", "ms": [], "stdout": "", "stderr": "", "error": ""}
            result["cells"].append(rec)
            for _ in range(cell.get("repeat", 1)):
                st, secs, out, err, error = run_cell(kc, cell["code"], cell.get("timeout", 60))
                if pid:
                    kids.update(descendants(pid))
                rec["ms"].append(secs * 1e3)
                rec["stdout"], rec["stderr"] = out, err
                if st != "ok":
                    rec["status"], rec["error"] = st, error
                    break
            if rec["status"] == "timeout" or (rec["status"] == "error" and cell.get("stop_on_error", True)):
                break
        result["ok"] = all(c["status"] == "ok" for c in result["cells"]) and len(result["cells"]) == len(job["cells"])
        return result
    finally:
        if pid:
            kids.update(descendants(pid))
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        try:
            if km.has_kernel:
                # A shutdown_request first, so a kernel can remove its temporary files.
                km.shutdown_wait_time = 3.0
                km.shutdown_kernel(now=False)
        except Exception:  # noqa: BLE001
            pass
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)  # the kernel started its own session
            except OSError:
                pass
        for k, start in kids:
            s = proc_stat(k)
            if s and s[1] == start:  # still the process seen as the kernel's descendant
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main()))
