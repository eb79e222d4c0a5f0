"""Interrupt and restart latency through jupyter_client, for any kernelspec.

  KERNEL=goproc LOOP='for {}' SET='x := 41' GET='x + 1' /usr/bin/python3 kernel_extra.py [RUNS]

interrupt: a cell running LOOP is interrupted (KernelManager.interrupt_kernel,
as JupyterLab's stop button does); time from the interrupt to execute_reply,
and whether the kernel kept its state (GET shows 42).
restart: KernelManager.restart_kernel(now=True) until kernel_info_reply; how
many of RUNS restarts came back.
"""
import json, os, statistics, sys, time
from jupyter_client.manager import KernelManager


def summary(name, xs, **extra):
    xs = sorted(xs)
    d = {"bench": name, "n": len(xs), "min": round(xs[0], 6), "p50": round(statistics.median(xs), 6),
         "max": round(xs[-1], 6)}
    d.update(extra)
    print(json.dumps(d), flush=True)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    km = KernelManager(kernel_name=os.environ["KERNEL"])
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    kc.execute_interactive(os.environ["SET"], timeout=30, output_hook=lambda m: None)
    lat, kept = [], 0
    for _ in range(runs):
        mid = kc.execute(os.environ["LOOP"])
        time.sleep(0.3)
        t0 = time.perf_counter()
        km.interrupt_kernel()
        while True:
            m = kc.get_shell_msg(timeout=30)
            if m["parent_header"].get("msg_id") == mid:
                break
        lat.append(time.perf_counter() - t0)
        out = []
        kc.execute_interactive(os.environ["GET"], timeout=30,
                               output_hook=lambda m: out.append(m["content"].get("data", {}).get("text/plain")))
        kept += "42" in out
    summary("interrupt_to_execute_reply", lat, state_kept=f"{kept}/{runs}")
    rs, ok = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        km.restart_kernel(now=True)
        try:
            r = kc.kernel_info(reply=True, timeout=30)
            ok += r["content"]["status"] == "ok"
        except Exception:
            pass
        rs.append(time.perf_counter() - t0)
    summary("restart_to_kernel_info_reply", rs, restarts_ok=f"{ok}/{runs}")
    kc.stop_channels()
    km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
