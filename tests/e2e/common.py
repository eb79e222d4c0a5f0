"""Shared helpers for goproc's end-to-end tests (run with Debian's /usr/bin/python3).

run.sh installs two kernelspecs of the binary under test into a temporary
JUPYTER_PATH: GOPROC_KERNEL (interrupt_mode signal) and GOPROC_KERNEL_MSG
(interrupt_mode message).
"""
import os
import queue
import signal
import subprocess
import time

from jupyter_client.manager import KernelManager

KERNEL = os.environ.get("GOPROC_KERNEL", "goproc")
KERNEL_MSG = os.environ.get("GOPROC_KERNEL_MSG", "goproc-msg")
TIMEOUT = float(os.environ.get("GOPROC_E2E_TIMEOUT", "30"))


class Kernel:
    """One kernel process and a blocking client. Always close() it."""

    def __init__(self, name=KERNEL, kernel_dirs=None, **start_kw):
        """start_kw go to start_kernel (cwd, env); kernel_dirs, if given,
        are where the kernelspec is looked up."""
        kw = {}
        if kernel_dirs:
            from jupyter_client.kernelspec import KernelSpecManager
            kw["kernel_spec_manager"] = KernelSpecManager(kernel_dirs=kernel_dirs)
        self.km = KernelManager(kernel_name=name, **kw)
        self.km.start_kernel(**start_kw)
        self.proc = self.km.provisioner.process
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=60)
        except Exception:
            self.close()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def close(self):
        try:
            self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)

    def flush(self):
        # The client's get_*_msg are synchronous; the channels' own get_msg
        # is a coroutine in jupyter_client 7.
        for get in (self.kc.get_shell_msg, self.kc.get_iopub_msg, self.kc.get_stdin_msg):
            while True:
                try:
                    get(timeout=0.05)
                except queue.Empty:
                    break

    def run(self, code, timeout=TIMEOUT, **kw):
        """Execute code; return (reply content, [(msg_type, content)] without status)."""
        outs = []

        def hook(m):
            if m["msg_type"] != "status":
                outs.append((m["msg_type"], m["content"]))

        rep = self.kc.execute_interactive(code, timeout=timeout, output_hook=hook, **kw)
        return rep["content"], outs

    def stdout(self, outs):
        return "".join(c["text"] for t, c in outs if t == "stream" and c["name"] == "stdout")

    def alive_check(self, testcase):
        """kernel_info and a cell still work."""
        rep = self.kc.kernel_info(reply=True, timeout=TIMEOUT)
        testcase.assertEqual(rep["content"]["status"], "ok")
        content, outs = self.run("20 + 22")
        testcase.assertEqual(content["status"], "ok", content)
        results = [c["data"]["text/plain"] for t, c in outs if t == "execute_result"]
        testcase.assertEqual(results, ["42"])

    def wait_reply(self, msg_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            m = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            if m["parent_header"].get("msg_id") == msg_id:
                return m

    def wait_idle(self, msg_id, timeout=TIMEOUT):
        """Collect IOPub messages of msg_id until its idle status."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            m = self.kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            out.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                return out


def children(pid):
    """PIDs of the direct children of pid."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def wait_gone(pids, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def kill_all(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
