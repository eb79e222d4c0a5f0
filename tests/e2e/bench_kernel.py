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
  roundtrip_kernel_info kernel_info_request -> reply through the same client (the floor)
  interrupt             busy loop running; interrupt_kernel() -> execute_reply
  restart               restart_kernel() -> kernel_info_reply from the new process
                        (jupyter_client polls the old process every 100 ms and its
                        clients reconnect after 100-200 ms, so this is mostly theirs)
  restart_kernel_side   shutdown_request{restart: true} on control -> the old process
                        has exited -> a new process from the kernelspec argv on the same
                        connection file -> its kernel_info_reply, with raw DEALER sockets
                        reconnecting every 1 ms (what the kernel itself costs); also
                        split into shutdown_reply, exit and start parts
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


class RawKernel:
    """A connection file, a session and a way to start the kernelspec's argv on it."""

    def __init__(self, kernel_name, tmp):
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
        self.cf = os.path.join(tmp, f"bench-{uuid.uuid4().hex}.json")
        write_connection_file(self.cf, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
        with open(self.cf) as f:
            self.info = json.load(f)
        self.sess = Session(key=self.info["key"].encode(), signature_scheme=self.info["signature_scheme"])
        self.argv = [a.replace("{connection_file}", self.cf) for a in spec.argv]
        self.env = dict(os.environ, **spec.env)

    def dealer(self, channel):
        """A DEALER socket that reconnects every millisecond."""
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.RECONNECT_IVL, 1)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 1)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{self.info[channel + '_port']}")
        return sock

    def start(self):
        return subprocess.Popen(self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)


def start_to_kernel_info(kernel_name, tmp):
    """Popen the kernelspec's argv; time until the first kernel_info_reply."""
    rk = RawKernel(kernel_name, tmp)
    sess, cf, sock = rk.sess, rk.cf, rk.dealer("shell")
    t0 = time.perf_counter()
    proc = rk.start()
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


def restart_kernel_side(kernel_name, tmp, n):
    """shutdown_request{restart: true} -> old process gone -> new process -> kernel_info_reply.

    Returns {"restart_kernel_side": [...], "shutdown_reply": [...], "shutdown_to_exit": [...],
    "exit_to_kernel_info": [...]} in seconds."""
    rk = RawKernel(kernel_name, tmp)
    sess, cf, start = rk.sess, rk.cf, rk.start
    shell, control = rk.dealer("shell"), rk.dealer("control")

    def reply_to(sock, msg_id, deadline, resend=None):
        # A request sent while the socket was reconnecting can be lost with
        # the old connection; resend it every 20 ms, and take the first
        # reply to any of the copies.
        ids = {msg_id}
        next_resend = time.perf_counter() + 0.02
        while True:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{kernel_name}: no reply within the deadline")
            if sock.poll(2):
                _, m = sess.feed_identities(sock.recv_multipart())
                m = sess.deserialize(m, content=False)
                if m["parent_header"].get("msg_id") in ids:
                    return
            elif resend is not None and time.perf_counter() > next_resend:
                ids.add(resend())
                next_resend = time.perf_counter() + 0.02

    def kernel_info():
        return sess.send(shell, "kernel_info_request", {})["header"]["msg_id"]

    out = {"restart_kernel_side": [], "shutdown_reply": [], "shutdown_to_exit": [], "exit_to_kernel_info": []}
    proc = start()
    try:
        reply_to(shell, kernel_info(), time.perf_counter() + 60, kernel_info)
        for _ in range(n):
            time.sleep(0.05)  # let the kernel settle (its engine starts after the first reply)
            t0 = time.perf_counter()
            mid = sess.send(control, "shutdown_request", {"restart": True})["header"]["msg_id"]
            reply_to(control, mid, t0 + 30)
            t1 = time.perf_counter()
            proc.wait(30)
            t2 = time.perf_counter()
            proc = start()
            reply_to(shell, kernel_info(), t2 + 60, kernel_info)
            t3 = time.perf_counter()
            out["restart_kernel_side"].append(t3 - t0)
            out["shutdown_reply"].append(t1 - t0)
            out["shutdown_to_exit"].append(t2 - t0)
            out["exit_to_kernel_info"].append(t3 - t2)
    finally:
        shell.close()
        control.close()
        stop_process(proc)
        os.unlink(cf)
    return out


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
    if args.restarts:
        for key, xs in restart_kernel_side(kernel_name, tmp, args.restarts).items():
            res[key] = summary(xs)

    t, km, kc = manager_start(kernel_name)
    try:
        kc.wait_for_ready(timeout=60)
        for _ in range(10):
            kc.execute_interactive(code["trivial"], timeout=30, output_hook=lambda m: None)
        # The client's own floor: a kernel_info round trip through the same
        # jupyter_client (no code runs).
        kis = []
        for _ in range(args.cells):
            t0 = time.perf_counter()
            wait_reply(kc, kc.kernel_info())
            kis.append(time.perf_counter() - t0)
        res["roundtrip_kernel_info"] = summary(kis)
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
