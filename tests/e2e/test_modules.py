"""Go modules in cells through the real kernel over jupyter_client: a cell
imports a module, the kernel resolves it with the Go toolchain, pins it in
the go.mod beside the notebook, builds an engine with it and moves the
notebook there (state kept); %go get changes the version; a module that
does not exist is a clear error and the next cell works; a restart keeps
the engine; goproc install --with makes a course kernel.

The modules come from a module proxy of the test's own (a directory,
GOPROXY=file://...), serving example.com/greet v1.0.0 and v1.1.0."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

from jupyter_client.kernelspec import KernelSpecManager

sys.path.insert(0, os.path.dirname(__file__))
from common import KERNEL, Kernel  # noqa: E402

BUILD_TIMEOUT = 600  # a first build compiles the module and links an engine


def write_proxy(root):
    """A module proxy in root with example.com/greet at two versions."""
    mod = os.path.join(root, "example.com", "greet", "@v")
    os.makedirs(mod)
    versions = ["v1.0.0", "v1.1.0"]
    for i, v in enumerate(versions):
        gomod = "module example.com/greet\n\ngo 1.21\n"
        src = ('package greet\n\nconst Version = "%s"\n\n'
               'func Hello(name string) string { return "hello " + name + " from " + Version }\n' % v)
        with zipfile.ZipFile(os.path.join(mod, v + ".zip"), "w") as z:
            z.writestr("example.com/greet@%s/go.mod" % v, gomod)
            z.writestr("example.com/greet@%s/greet.go" % v, src)
        with open(os.path.join(mod, v + ".mod"), "w") as f:
            f.write(gomod)
        with open(os.path.join(mod, v + ".info"), "w") as f:
            json.dump({"Version": v, "Time": "2026-0%d-01T00:00:00Z" % (i + 1)}, f)
    with open(os.path.join(mod, "list"), "w") as f:
        f.write("\n".join(versions) + "\n")


def stderr_of(outs):
    return "".join(c["text"] for t, c in outs if t == "stream" and c["name"] == "stderr")


class ModuleTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="goproc-e2e-modules-")
        proxy = os.path.join(cls.tmp, "proxy")
        write_proxy(proxy)
        upstream = subprocess.run(["go", "env", "GOPROXY"], capture_output=True, text=True).stdout.strip()
        cls.env = dict(os.environ, GOPROXY="file://%s,%s" % (proxy, upstream), GONOSUMDB="example.com",
                       GOPROC_CACHE=os.path.join(cls.tmp, "cache"))
        cls.nbdir = os.path.join(cls.tmp, "notebook")
        os.makedirs(cls.nbdir)
        cls.k = Kernel(KERNEL, cwd=cls.nbdir, env=cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.k.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.k.flush()

    def pins(self):
        with open(os.path.join(self.nbdir, "go.mod")) as f:
            return f.read()

    def test_1_import_builds_pins_and_keeps_state(self):
        content, _ = self.k.run('import "fmt"\ncount := 5')
        self.assertEqual(content["status"], "ok", content)
        content, outs = self.k.run('import "example.com/greet"\nfmt.Println(greet.Hello("lab"), count)',
                                   timeout=BUILD_TIMEOUT)
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.k.stdout(outs), "hello lab from v1.1.0 5\n")
        self.assertIn("building an engine with example.com/greet", stderr_of(outs))
        self.assertIn("example.com/greet v1.1.0", self.pins())

    def test_2_go_get_moves_the_pin_and_the_engine(self):
        content, outs = self.k.run("%go get example.com/greet@v1.0.0\nfmt.Println(greet.Version, count)",
                                   timeout=BUILD_TIMEOUT)
        self.assertEqual(content["status"], "ok", content)
        self.assertTrue(self.k.stdout(outs).endswith("v1.0.0 5\n"), outs)
        self.assertIn("example.com/greet v1.0.0", self.pins())

    def test_3_missing_module_is_a_clear_error(self):
        content, outs = self.k.run('import "example.com/nope/missing"\nmissing.Do()', timeout=BUILD_TIMEOUT)
        self.assertEqual(content["status"], "error")
        self.assertIn("cannot import example.com/nope/missing", content["evalue"])
        self.assertIn("Check the import path", content["evalue"])
        content, outs = self.k.run("count++\nfmt.Println(count, greet.Version)")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.k.stdout(outs), "6 v1.0.0\n")

    def test_4_restart_keeps_the_engine(self):
        self.k.km.restart_kernel(now=True)
        self.k.kc.wait_for_ready(timeout=60)
        self.k.flush()
        content, outs = self.k.run('import (\n\t"fmt"\n\t"example.com/greet"\n)\nfmt.Println(greet.Version)')
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.k.stdout(outs), "v1.0.0\n")
        self.assertNotIn("building", stderr_of(outs))

    def test_5_install_with_makes_a_course_kernel(self):
        goproc = KernelSpecManager().get_kernel_spec(KERNEL).argv[0]
        prefix = os.path.join(self.tmp, "prefix")
        r = subprocess.run([goproc, "install", "--prefix", prefix, "--name", "goproc-course",
                            "--with", "example.com/greet@v1.0.0"], env=self.env, capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        specdir = os.path.join(prefix, "share", "jupyter", "kernels", "goproc-course")
        with open(os.path.join(specdir, "kernel.json")) as f:
            argv = json.load(f)["argv"]
        self.assertEqual(argv[1:3], ["kernel", "--engine"])
        self.assertTrue(argv[3].startswith(specdir), argv)
        # A notebook with no pins of its own, and no way to build: the
        # course kernel's engine has the package already.
        empty = os.path.join(self.tmp, "course")
        os.makedirs(empty)
        env = dict(self.env, GOPROXY="off", GOPROC_CACHE=os.path.join(self.tmp, "course-cache"))
        k = Kernel("goproc-course", kernel_dirs=[os.path.join(prefix, "share", "jupyter", "kernels")], cwd=empty, env=env)
        try:
            content, outs = k.run('import (\n\t"fmt"\n\t"example.com/greet"\n)\nfmt.Println(greet.Hello("course"))')
            self.assertEqual(content["status"], "ok", content)
            self.assertEqual(k.stdout(outs), "hello course from v1.0.0\n")
            self.assertFalse(os.path.exists(os.path.join(empty, "go.mod")))
        finally:
            k.close()


if __name__ == "__main__":
    unittest.main()
