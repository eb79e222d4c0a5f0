"""Kernel benchmark: goproc against ipykernel, same machine, same run, same client.

Usage: /usr/bin/python3 tests/e2e/bench_kernel.py [--binary PATH] [--cells N] [--starts N]
       [--interrupts N] [--restarts N] [--kernel NAME] [--python-kernel NAME]

With --binary, the goproc kernelspec is installed into a temporary prefix first;
otherwise --kernel (default "goproc") must be installed. The Python kernel is
Debian's ipykernel ("python3").

Measures, for each kernel:
  start_to_kernel_info  process start (Popen of the kernelspec argv) -> first kernel_info_reply,
                        with a client already connecting (what the kernel itself costs)
  manager_start         KernelManager.start_kernel() -> kernel_info_reply (what a notebook sees;
                        the same measure as baseline/kernel_bench.py)
  roundtrip             trivial cell: send -> execute_reply, and send -> status idle
  interrupt             busy loop running; interrupt_kernel() -> execute_reply
  restart               restart_kernel() -> kernel_info_reply from the new process
Prints one JSON object: {"goproc": {...}, "python": {...}, "ratio_goproc_over_python": {...}}.
Ratios < 1 mean goproc is faster. Nothing here hard-codes expected figures.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

KINDS = {
    "goproc": {"trivial": "1", "busy": "for {}"},
    "python": {"trivial": "1", "busy": "while True: pass"},
}


def pct(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def summary(xs):
    return {"n": len(xs), "min_ms": round(min(xs) * 1e3, 3), "p50_ms": round(pct(xs, 50) * 1e3, 3),
            "p99_ms": round(pct(xs, 99) * 1e3, 3), "max_ms": round(max(xs) * 1e3, 3),
            "mean_ms": round(statistics.mean(xs) * 1e3, 3)}


def descendants(pid):
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.split()
    pairs = list(zip(map(int, out[0::2]), map(int, out[1::2])))
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        for c, pp in pairs:
            if pp == p:
                found.append(c)
                frontier.append(c)
    return found


def stop_process(proc):
    kids = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    for k in kids:
        while time.monotonic() < deadline:
            try:
                os.kill(k, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        else:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass


def start_to_kernel_info(kernel_name, tmp):
    """Popen the kernelspec's argv; time until the first kernel_info_reply."""
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    cf = os.path.join(tmp, f"bench-{uuid.uuid4().hex}.json")
    write_connection_file(cf, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
    with open(cf) as f:
        info = json.load(f)
    sess = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.RECONNECT_IVL, 1)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{info['shell_port']}")
    argv = [a.replace("{connection_file}", cf) for a in spec.argv]
    env = dict(os.environ, **spec.env)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        sess.send(sock, "kernel_info_request", {})
        if not sock.poll(60_000):
            raise RuntimeError(f"{kernel_name}: no kernel_info_reply within 60 s")
        sock.recv_multipart()
        return time.perf_counter() - t0
    finally:
        sock.close()
        stop_process(proc)
        os.unlink(cf)


def manager_start(kernel_name):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    reply = kc.kernel_info(reply=True, timeout=60)
    t = time.perf_counter() - t0
    assert reply["content"]["status"] == "ok"
    return t, km, kc


def wait_reply(kc, msg_id, timeout=60):
    while True:
        m = kc.get_shell_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") == msg_id:
            return m


def wait_idle(kc, msg_id, timeout=60):
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            return


def bench(kind, kernel_name, args, tmp):
    code = KINDS[kind]
    res = {"kernel": kernel_name}
    res["start_to_kernel_info"] = summary([start_to_kernel_info(kernel_name, tmp) for _ in range(args.starts)])
    ts = []
    for _ in range(max(1, args.starts // 2)):
        t, km, kc = manager_start(kernel_name)
        ts.append(t)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    res["manager_start"] = summary(ts)

    t, km, kc = manager_start(kernel_name)
    try:
        kc.wait_for_ready(timeout=60)
        for _ in range(10):
            kc.execute_interactive(code["trivial"], timeout=30, output_hook=lambda m: None)
        rep, idle = [], []
        for _ in range(args.cells):
            t0 = time.perf_counter()
            mid = kc.execute(code["trivial"])
            wait_reply(kc, mid)
            t1 = time.perf_counter()
            wait_idle(kc, mid)
            t2 = time.perf_counter()
            rep.append(t1 - t0)
            idle.append(t2 - t0)
        res["roundtrip_execute_reply"] = summary(rep)
        res["roundtrip_iopub_idle"] = summary(idle)

        ints = []
        for _ in range(args.interrupts):
            mid = kc.execute(code["busy"])
            time.sleep(0.3)
            t0 = time.perf_counter()
            km.interrupt_kernel()
            m = wait_reply(kc, mid, timeout=30)
            ints.append(time.perf_counter() - t0)
            assert m["content"]["status"] == "error", m["content"]
            wait_idle(kc, mid)
        res["interrupt_to_execute_reply"] = summary(ints)

        rs = []
        for _ in range(args.restarts):
            t0 = time.perf_counter()
            km.restart_kernel(now=False)
            reply = kc.kernel_info(reply=True, timeout=60)
            rs.append(time.perf_counter() - t0)
            assert reply["content"]["status"] == "ok"
        res["restart_to_kernel_info"] = summary(rs)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", help="goproc binary to install into a temporary kernelspec prefix")
    ap.add_argument("--kernel", default=os.environ.get("GOPROC_KERNEL", "goproc"))
    ap.add_argument("--python-kernel", default="python3")
    ap.add_argument("--cells", type=int, default=200)
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--interrupts", type=int, default=5)
    ap.add_argument("--restarts", type=int, default=10)
    args = ap.parse_args()
    if args.cells < 200:
        print("note: fewer than 200 cells makes p99 meaningless", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="goproc-bench.") as tmp:
        if args.binary:
            args.kernel = "goproc-bench"
            subprocess.run([args.binary, "install", "--prefix", os.path.join(tmp, "prefix"), "--name", args.kernel],
                           check=True, stdout=subprocess.DEVNULL)
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                filter(None, [os.path.join(tmp, "prefix", "share", "jupyter"), os.environ.get("JUPYTER_PATH")]))
        out = {"machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()}}
        out["goproc"] = bench("goproc", args.kernel, args, tmp)
        out["python"] = bench("python", args.python_kernel, args, tmp)
        out["machine"]["loadavg_after"] = os.getloadavg()

    ratios = {}
    for key, g in out["goproc"].items():
        p = out["python"].get(key)
        if isinstance(g, dict) and isinstance(p, dict):
            ratios[key] = {s: round(g[s] / p[s], 3) for s in ("p50_ms", "p99_ms") if p[s]}
    out["ratio_goproc_over_python"] = ratios
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
