"""goproc end to end, through jupyter_client: latency, execute, interrupts in both
modes, stdin, shutdown, restart, SIGTERM, and robustness against bad input.

Run by tests/e2e/run.sh (which installs the kernelspecs); needs the real binary
and engine.
"""
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

sys.path.insert(0, os.path.dirname(__file__))
from common import KERNEL, KERNEL_MSG, TIMEOUT, Kernel, alive, children, kill_all, wait_gone  # noqa: E402


def kernel_argv():
    """argv of the installed goproc kernelspec, without the connection file."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    return spec.argv


def first_kernel_info(argv_prefix, tmp):
    """Start the kernel process directly and time process start -> kernel_info_reply."""
    cf = os.path.join(tmp, f"kernel-{uuid.uuid4().hex}.json")
    write_connection_file(cf, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
    with open(cf) as f:
        info = json.load(f)
    sess = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.RECONNECT_IVL, 1)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{info['shell_port']}")
    argv = [a.replace("{connection_file}", cf) for a in argv_prefix]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        sess.send(sock, "kernel_info_request", {})
        if not sock.poll(10_000):
            raise AssertionError("no kernel_info_reply within 10 s")
        idents, msg = sess.feed_identities(sock.recv_multipart())
        reply = sess.deserialize(msg)
        took = time.perf_counter() - t0
        assert reply["msg_type"] == "kernel_info_reply", reply["msg_type"]
        return took
    finally:
        sock.close()
        kids = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if not wait_gone(kids, 10):
            kill_all(kids)
        os.unlink(cf)


class StartupTests(unittest.TestCase):
    def test_kernel_info_latency(self):
        with tempfile.TemporaryDirectory() as tmp:
            times = sorted(first_kernel_info(kernel_argv(), tmp) for _ in range(5))
        print(f"\nprocess start -> first kernel_info_reply: min {times[0]*1e3:.1f} ms, "
              f"median {times[2]*1e3:.1f} ms", file=sys.stderr)
        # The bar is 20 ms on an idle machine; allow for a loaded CI host.
        self.assertLess(times[2], 0.5)


class ExecuteTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = Kernel()

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def setUp(self):
        self.k.flush()

    def test_round_trip(self):
        k = self.k
        content, outs = k.run('import "fmt"')
        self.assertEqual(content["status"], "ok", content)
        n = content["execution_count"]
        content, outs = k.run('fmt.Println("hello, world")')
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(content["execution_count"], n + 1)
        self.assertEqual(k.stdout(outs), "hello, world\n")
        self.assertEqual(outs[0], ("execute_input", {"code": 'fmt.Println("hello, world")', "execution_count": n + 1}))
        content, outs = k.run("6 * 7")
        self.assertIn(("execute_result", {"data": {"text/plain": "42"}, "execution_count": n + 2, "metadata": {}}), outs)

    def test_error(self):
        content, outs = self.k.run('panic("boom")')
        self.assertEqual(content["status"], "error")
        self.assertIn("boom", content["evalue"])
        self.assertIsInstance(content["traceback"], list)
        errs = [c for t, c in outs if t == "error"]
        self.assertEqual(len(errs), 1)
        self.assertEqual(errs[0]["ename"], content["ename"])

    def test_silent_and_store_history(self):
        k = self.k
        before = k.run("1")[0]["execution_count"]
        content, outs = k.run("2", silent=True)
        self.assertEqual(content["execution_count"], before)
        self.assertEqual(outs, [])
        content, outs = k.run("3", store_history=False)
        self.assertEqual(content["execution_count"], before)
        self.assertEqual(k.run("4")[0]["execution_count"], before + 1)

    def test_user_expressions(self):
        k = self.k
        k.run("ue := 21")
        content, _ = k.run("ue++", user_expressions={"double": "ue * 2"})
        self.assertEqual(content["status"], "ok")
        self.assertIn("double", content["user_expressions"])

    def test_stop_on_error_aborts_queued(self):
        k = self.k
        # The failing cell runs long enough for the next two to be queued
        # behind it (a cell that fails in a millisecond can be answered
        # before this client has sent them, and then they are not queued).
        ids = [k.kc.execute('import "time"\ntime.Sleep(200 * time.Millisecond)\npanic("first")'),
               k.kc.execute("1"), k.kc.execute("2")]
        statuses = [k.wait_reply(i)["content"]["status"] for i in ids]
        self.assertEqual(statuses, ["error", "aborted", "aborted"])
        self.assertEqual(k.run("3")[0]["status"], "ok")
        ids = [k.kc.execute('panic("second")', stop_on_error=False), k.kc.execute("1")]
        statuses = [k.wait_reply(i)["content"]["status"] for i in ids]
        self.assertEqual(statuses, ["error", "ok"])

    def test_stdin(self):
        k = self.k
        k.run('import "fmt"')
        msg_id = k.kc.execute('var name string\nfmt.Scanln(&name)\nfmt.Println("hello", name)', allow_stdin=True)
        req = k.kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(req["msg_type"], "input_request")
        self.assertEqual(req["parent_header"]["msg_id"], msg_id)
        k.kc.input("gopher")
        self.assertEqual(k.wait_reply(msg_id)["content"]["status"], "ok")
        text = "".join(m["content"]["text"] for m in k.wait_idle(msg_id) if m["msg_type"] == "stream")
        self.assertIn("hello gopher", text)
        # Without allow_stdin the read fails instead of hanging.
        content, _ = k.run("var other string\nfmt.Scanln(&other)\nother", allow_stdin=False, timeout=10)
        self.assertIsNotNone(content)

    def test_stdin_prompt_is_the_printed_question(self):
        # Go has no input("your name? "): a cell prints the question, then
        # reads. The unfinished line is the input_request's prompt, as
        # ipykernel sends input()'s, so the front end shows question and
        # answer on one line; it is not also in the stream.
        k = self.k
        k.run('import (\n"bufio"\n"fmt"\n"os"\n)\nvar stdin = bufio.NewReader(os.Stdin)')
        for i in range(3):
            code = (f'fmt.Println("round {i}")\nfmt.Print("your name? ")\n'
                    'name, _ := stdin.ReadString(\'\\n\')\nfmt.Print("hello ", name)')
            msg_id = k.kc.execute(code, allow_stdin=True)
            req = k.kc.get_stdin_msg(timeout=TIMEOUT)
            self.assertEqual(req["content"]["prompt"], "your name? ")
            k.kc.input("gopher")
            self.assertEqual(k.wait_reply(msg_id)["content"]["status"], "ok")
            text = "".join(m["content"]["text"] for m in k.wait_idle(msg_id) if m["msg_type"] == "stream")
            self.assertEqual(text, f"round {i}\nhello gopher\n")

    def test_heartbeat_and_comms(self):
        k = self.k
        self.assertTrue(k.kc.hb_channel.is_beating())
        k.kc.comm_info()
        rep = k.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(rep["content"], {"status": "ok", "comms": {}})
        msg = k.kc.session.msg("comm_open", {"comm_id": "c-1", "target_name": "jupyter.widget", "data": {}})
        k.kc.shell_channel.send(msg)
        iopub = k.wait_idle(msg["header"]["msg_id"])
        closes = [m for m in iopub if m["msg_type"] == "comm_close"]
        self.assertEqual([m["content"]["comm_id"] for m in closes], ["c-1"])

    def test_big_output_is_chunked(self):
        k = self.k
        k.run('import "fmt"')
        k.run('import "strings"')
        t0 = time.perf_counter()
        content, outs = k.run('line := strings.Repeat("x", 99)\nfor i := 0; i < 100000; i++ { fmt.Println(line) }', timeout=120)
        took = time.perf_counter() - t0
        self.assertEqual(content["status"], "ok", content)
        texts = [c["text"] for t, c in outs if t == "stream"]
        self.assertEqual(sum(map(len, texts)), 100 * 100000)
        self.assertLessEqual(max(map(len, texts)), 64 * 1024)
        print(f"\n10 MB of output: {len(texts)} stream messages in {took:.2f} s", file=sys.stderr)


class InterruptTests(unittest.TestCase):
    def interrupt(self, name):
        k = Kernel(name)
        try:
            k.run("kept := 5")
            msg_id = k.kc.execute("for {}")
            time.sleep(0.5)
            t0 = time.perf_counter()
            k.km.interrupt_kernel()
            reply = k.wait_reply(msg_id, timeout=15)
            took = time.perf_counter() - t0
            self.assertEqual(reply["content"]["status"], "error")
            print(f"\n{name}: interrupt -> execute_reply {took*1e3:.0f} ms", file=sys.stderr)
            content, outs = k.run("kept")
            self.assertEqual(content["status"], "ok", content)
            self.assertIn(("execute_result", {"data": {"text/plain": "5"}, "execution_count": content["execution_count"], "metadata": {}}), outs)
        finally:
            k.close()

    def test_signal_mode(self):
        self.interrupt(KERNEL)

    def test_message_mode(self):
        self.interrupt(KERNEL_MSG)

    def test_repeated_sigint_does_not_kill(self):
        k = Kernel()
        try:
            for _ in range(3):
                os.killpg(k.pid, signal.SIGINT)
                time.sleep(0.05)
            msg_id = k.kc.execute("for {}")
            time.sleep(0.3)
            os.killpg(k.pid, signal.SIGINT)
            os.killpg(k.pid, signal.SIGINT)
            self.assertEqual(k.wait_reply(msg_id, timeout=15)["content"]["status"], "error")
            self.assertTrue(alive(k.pid))
            k.alive_check(self)
        finally:
            k.close()


class LifecycleTests(unittest.TestCase):
    def test_shutdown_exits_cleanly(self):
        k = Kernel()
        try:
            kids = children(k.pid)
            t0 = time.perf_counter()
            k.kc.stop_channels()
            k.km.shutdown_kernel(now=False)
            took = time.perf_counter() - t0
            self.assertEqual(k.proc.returncode, 0, "kernel did not exit by itself")
            self.assertTrue(wait_gone(kids), "engine processes survived shutdown")
            print(f"\nshutdown: {took*1e3:.0f} ms", file=sys.stderr)
        finally:
            k.close()

    def test_restart(self):
        k = Kernel()
        try:
            k.run("before := 1")
            old = k.pid
            t0 = time.perf_counter()
            k.km.restart_kernel(now=False)
            k.proc = k.km.provisioner.process
            k.kc.wait_for_ready(timeout=60)
            took = time.perf_counter() - t0
            self.assertNotEqual(k.pid, old)
            self.assertFalse(alive(old))
            content, _ = k.run("before")
            self.assertEqual(content["status"], "error")  # state is gone
            k.alive_check(self)
            print(f"\nrestart -> ready: {took*1e3:.0f} ms", file=sys.stderr)
        finally:
            k.close()

    def test_restart_and_shutdown_are_not_errors(self):
        # Restarting and shutting down are normal events: the kernel logs no
        # error or warning for them (JupyterLab's restarts logged "no peer with
        # that routing identity", its shutdowns broken pipes), and the
        # shutdown_reply it publishes on IOPub as it exits has the
        # shutdown_request as parent, as ipykernel's has.
        from jupyter_client.manager import KernelManager

        with tempfile.TemporaryFile("w+") as log:
            km = KernelManager(kernel_name=KERNEL)
            km.start_kernel(stderr=log)
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=60)
                kc.execute_interactive("x := 1", timeout=TIMEOUT)
                km.restart_kernel(now=False)
                kc.wait_for_ready(timeout=60)
                self.assertEqual(kc.execute_interactive("y := 2", timeout=TIMEOUT)["content"]["status"], "ok")
                proc = km.provisioner.process
                msg_id = kc.shutdown()
                deadline = time.monotonic() + TIMEOUT
                while True:
                    m = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
                    if m["msg_type"] == "shutdown_reply":
                        break
                self.assertEqual(m["parent_header"].get("msg_id"), msg_id)
                self.assertEqual(proc.wait(10), 0)
            finally:
                kc.stop_channels()
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            log.seek(0)
            text = log.read()
        problems = [l for l in text.splitlines() if "level=ERROR" in l or "level=WARN" in l]
        self.assertEqual(problems, [], text)

    def test_sigterm(self):
        k = Kernel()
        try:
            kids = children(k.pid)
            self.assertTrue(kids, "no engine process?")
            os.kill(k.pid, signal.SIGTERM)
            self.assertEqual(k.proc.wait(10), 0)
            self.assertTrue(wait_gone(kids), "engine processes survived SIGTERM")
        finally:
            k.close()


class RobustnessTests(unittest.TestCase):
    """Bad messages are logged and dropped; the kernel keeps working."""

    @classmethod
    def setUpClass(cls):
        cls.k = Kernel()
        info = cls.k.km.get_connection_info()
        cls.key = info["key"]
        cls.session = Session(key=cls.key, signature_scheme=info["signature_scheme"])
        cls.ctx = zmq.Context()
        cls.shell = cls.ctx.socket(zmq.DEALER)
        cls.shell.setsockopt(zmq.LINGER, 0)
        cls.shell.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
        cls.control = cls.ctx.socket(zmq.DEALER)
        cls.control.setsockopt(zmq.LINGER, 0)
        cls.control.connect(f"{info['transport']}://{info['ip']}:{info['control_port']}")

    @classmethod
    def tearDownClass(cls):
        cls.shell.close()
        cls.control.close()
        cls.ctx.term()
        cls.k.close()

    def setUp(self):
        self.k.flush()

    def tearDown(self):
        self.k.alive_check(self)
        # Nothing we sent on our own socket may have been answered except
        # where a test expects it.
        self.assertFalse(self.shell.poll(100), "unexpected reply on shell")

    def frames(self, msg_type, content, header=None):
        msg = self.session.msg(msg_type, content)
        if header is not None:
            msg["header"] = header
        parts = [self.session.pack(p) for p in (msg["header"], {}, {}, content)]
        return msg, parts

    def signed(self, parts):
        return [b"<IDS|MSG>", self.session.sign(parts)] + parts

    def test_forged_signature(self):
        msg, parts = self.frames("execute_request", {"code": "forged := 1", "silent": False})
        self.shell.send_multipart([b"<IDS|MSG>", b"0" * 64] + parts)
        self.shell.send_multipart([b"<IDS|MSG>", b""] + parts)
        time.sleep(0.2)
        content, _ = self.k.run("forged")
        self.assertEqual(content["status"], "error", "a forged message was executed")

    def test_truncated_and_garbage_frames(self):
        _, parts = self.frames("execute_request", {"code": "1"})
        signed = self.signed(parts)
        for frames in (signed[:3], signed[:5], [b"garbage"], [b"\xff" * 100], [b"<IDS|MSG>"], [b""]):
            self.shell.send_multipart(frames)
            self.control.send_multipart(frames)
        time.sleep(0.2)

    def test_malformed_json(self):
        _, parts = self.frames("execute_request", {"code": "1"})
        for bad in (b'{"code": ', b"[]", b"\xff\xfe", b"null-ish"):
            p = parts[:3] + [bad]
            self.shell.send_multipart(self.signed(p))
        hdr = {"msg_id": uuid.uuid4().hex, "username": "u", "session": "s", "date": "", "version": "5.3"}
        _, p = self.frames("execute_request", {"code": "1"}, header=hdr)  # no msg_type
        self.shell.send_multipart(self.signed(p))
        time.sleep(0.2)

    def test_wrong_content_types(self):
        msg, parts = self.frames("execute_request", {"code": 42, "silent": "yes"})
        self.shell.send_multipart(self.signed(parts))
        self.assertTrue(self.shell.poll(TIMEOUT * 1000))
        _, rep = self.session.feed_identities(self.shell.recv_multipart())
        rep = self.session.deserialize(rep)
        self.assertEqual(rep["content"]["status"], "error")

    def test_unknown_message_type(self):
        msg, parts = self.frames("definitely_not_a_request", {})
        self.shell.send_multipart(self.signed(parts))
        self.control.send_multipart(self.signed(parts))
        time.sleep(0.2)

    def test_one_megabyte_cell(self):
        code = 'big := "' + "a" * (1 << 20) + '"\nlen(big)'
        content, outs = self.k.run(code, timeout=60)
        self.assertEqual(content["status"], "ok", content.get("evalue"))
        self.assertIn(str(1 << 20), [c["data"]["text/plain"] for t, c in outs if t == "execute_result"])

    def test_pipelined_cells(self):
        k = self.k
        t0 = time.perf_counter()
        ids = [k.kc.execute(f"{i} + 1") for i in range(100)]
        counts = []
        for i in ids:
            rep = k.wait_reply(i)
            self.assertEqual(rep["content"]["status"], "ok")
            counts.append(rep["content"]["execution_count"])
        self.assertEqual(counts, list(range(counts[0], counts[0] + 100)))
        print(f"\n100 pipelined cells: {(time.perf_counter() - t0)*1e3:.0f} ms", file=sys.stderr)
        k.flush()


if __name__ == "__main__":
    unittest.main(verbosity=2)
