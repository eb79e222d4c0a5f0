#!/usr/bin/env bash
# End-to-end tests of the goproc kernel through real Jupyter clients
# (jupyter_client, jupyter_kernel_test) with Debian's /usr/bin/python3.
#   tests/e2e/run.sh [unittest args, e.g. test_protocol.InterruptTests]
# Uses $GOPROC_TEST_BINARY if set, else builds the binary. Installs two
# kernelspecs (signal and message interrupt modes) into a temporary prefix.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${GOPROC_PYTHON:-/usr/bin/python3}

tmp=$(mktemp -d /tmp/goproc-e2e.XXXXXX)
cleanup() {
  # Kernels the tests started are shut down by the tests; this catches
  # anything left behind by a crashed test run: only processes whose
  # command line names our temporary directory.
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    if tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$tmp/bin/goproc"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

bin=${GOPROC_TEST_BINARY:-}
if [ -z "$bin" ]; then
  bin="$tmp/bin/goproc"
  (cd "$root" && CGO_ENABLED=${CGO_ENABLED:-0} go build -o "$bin" .)
else
  # Copy so that leftover processes are recognisable by path.
  mkdir -p "$tmp/bin" && cp "$bin" "$tmp/bin/goproc" && bin="$tmp/bin/goproc"
fi

"$bin" install --prefix "$tmp/prefix" --name goproc-e2e >/dev/null
"$bin" install --prefix "$tmp/prefix" --name goproc-e2e-msg --interrupt-mode message \
  --display-name "Go (goproc, message interrupts)" >/dev/null

export JUPYTER_PATH="$tmp/prefix/share/jupyter"
export JUPYTER_RUNTIME_DIR="$tmp/runtime"
export JUPYTER_CONFIG_DIR="$tmp/config"
export JUPYTER_PLATFORM_DIRS=1
export PYDEVD_DISABLE_FILE_VALIDATION=1
export GOPROC_KERNEL=goproc-e2e GOPROC_KERNEL_MSG=goproc-e2e-msg
mkdir -p "$JUPYTER_RUNTIME_DIR"

cd "$here"
if [ $# -eq 0 ]; then
  set -- test_protocol test_conformance test_multiprocessing test_magics test_modules
fi
"$py" -X frozen_modules=off -m unittest -v "$@"
