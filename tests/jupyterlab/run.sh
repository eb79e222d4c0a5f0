#!/usr/bin/env bash
# JupyterLab 4 test (issue 18). Builds the JupyterLab front end from npm (the
# lock file here) the way JupyterLab's examples/app does, serves it with
# Debian's jupyterlab_server (LabServerApp on jupyter_server) on 127.0.0.1
# (a random port, token auth) with the goproc kernelspec in a private
# prefix, then:
#   - lab.test.mjs: headless Chromium (playwright-core) opens the notebooks
#     and uses them as students do (see there); screenshots to the out dir;
#   - services.test.mjs: drives a notebook through @jupyterlab/services over
#     the websocket protocol and checks message order and parent headers.
# Afterwards the kernels' log must have no error, and no process of the
# kernel binary may be left.
#
#   tests/jupyterlab/run.sh
#
# Needs (Debian): python3-jupyterlab-server python3-jupyter-server
# python3-nbformat chromium nodejs npm curl; Go to build goproc unless
# GOPROC_TEST_BINARY names a built one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${GOPROC_TEST_OUT:-$root/.ci/out}
mkdir -p "$out"
py=/usr/bin/python3

for c in /usr/bin/chromium node npm curl; do
  command -v "$c" >/dev/null || { echo "jupyterlab test: $c is missing (apt-get install chromium nodejs npm curl)" >&2; exit 2; }
done
"$py" -c 'import jupyterlab_server, jupyter_server' 2>/dev/null ||
  { echo "jupyterlab test: apt-get install python3-jupyterlab-server python3-jupyter-server" >&2; exit 2; }

tmp=$(mktemp -d /tmp/goproc-lab.XXXXXX)
server=
# The processes of the binary under test (a copy in $tmp, so that they are
# recognisable by path).
ours() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    { tr '\0' '\n' <"$f" | head -1 | grep -qxF -- "$tmp/bin/goproc"; } 2>/dev/null && echo "$pid"
  done
  return 0
}
stop_server() {
  [ -n "$server" ] || return 0
  kill -TERM "$server" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}
cleanup() {
  stop_server
  local pids; pids=$(ours)
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/bin"
if [ -n "${GOPROC_TEST_BINARY:-}" ]; then
  cp "$GOPROC_TEST_BINARY" "$tmp/bin/goproc"
else
  (cd "$root" && CGO_ENABLED=${CGO_ENABLED:-0} go build -o "$tmp/bin/goproc" .)
fi
bin=$tmp/bin/goproc

# The front end: npm ci from the lock file, then rspack. GOPROC_LAB_REUSE=1
# keeps a build already there (for working on the tests).
if [ "${GOPROC_LAB_REUSE:-}" = 1 ] && [ -f "$here/app/build/bundle.js" ]; then
  echo "reusing $here/app/build"
else
  t=$SECONDS
  (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
  echo "npm ci: $((SECONDS - t)) s"
  t=$SECONDS
  (cd "$here" && rm -rf app/build && npx rspack --config app/rspack.config.js >"$tmp/build.log" 2>&1) ||
    { tail -30 "$tmp/build.log" >&2; exit 1; }
  echo "build: $((SECONDS - t)) s"
fi

# A private Jupyter: its own kernelspec prefix, config, data and runtime dirs.
export JUPYTER_PATH=$tmp/share/jupyter JUPYTER_CONFIG_DIR=$tmp/config JUPYTER_DATA_DIR=$tmp/data
export JUPYTER_RUNTIME_DIR=$tmp/runtime IPYTHONDIR=$tmp/ipython GOPROC_LAB_STATE=$tmp/lab-state
export PYDEVD_DISABLE_FILE_VALIDATION=1
"$bin" install --prefix "$tmp" --name goproc >/dev/null

# The notebooks, and what each cell prints when goproc runs it headless.
mkdir -p "$tmp/work" "$tmp/expected"
notebooks=(assignment.ipynb sum_of_squares.ipynb)
for nb in "${notebooks[@]}"; do
  cp "$root/notebooks/$nb" "$tmp/work/$nb"
  cp "$root/notebooks/go.mod" "$root/notebooks/go.sum" "$tmp/work/" # the module pins
  (cd "$tmp/work" && "$bin" run "$nb" --out "$tmp/expected/$nb" >/dev/null 2>"$tmp/run-$nb.log") || {
    echo "jupyterlab test: goproc run $nb failed:" >&2; tail -5 "$tmp/run-$nb.log" >&2
    "$py" -c 'import json, sys
for c in json.load(open(sys.argv[1]))["cells"]:
    for o in c.get("outputs", []):
        if o["output_type"] == "error": print("\n".join(o["traceback"]), file=sys.stderr)' "$tmp/expected/$nb" || true
    exit 1; }
done
# A scratch notebook for the checks (lab.test.mjs knows its cells by index).
"$py" - "$tmp/work/checks.ipynb" <<'EOF'
import json, sys
cells = [
    'import (\n\t"bufio"\n\t"fmt"\n\t"os"\n\t"strings"\n\n\t"display"\n\t"multiprocessing"\n)\n\nx := 41\nfmt.Println("x is", x)',
    'for {\n}',
    'fmt.Println("after the interrupt x is", x)',
    '// Two workers that never finish.\nfunc spin(n int) int {\n\tfor n >= 0 {\n\t\tn = (n + 1) % 1000\n\t}\n\treturn n\n}\n\npool := multiprocessing.NewPool(2)\npool.Map(spin, []int{1, 2})',
    'fmt.Println("after the pool x is", x)',
    'fmt.Print("your name? ")\nname, _ := bufio.NewReader(os.Stdin).ReadString(\'\\n\')\nfmt.Println("hello,", strings.TrimSpace(name))',
    'display.Show(display.HTML(`<b id="goproc-html">bold from Go</b>`))',
    'panic("boom from the notebook")',
    'y := undefinedName + 1',
    '',
]
nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                 "source": s} for i, s in enumerate(cells)],
      "metadata": {"kernelspec": {"display_name": "Go (goproc)", "language": "go", "name": "goproc"},
                   "language_info": {"name": "go"}},
      "nbformat": 4, "nbformat_minor": 5}
json.dump(nb, open(sys.argv[1], "w"), indent=1)
EOF

port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$("$py" -c 'import secrets; print(secrets.token_hex(24))')
log=$out/jupyterlab-server.log
"$py" "$here/app/main.py" --ServerApp.ip=127.0.0.1 --ServerApp.port="$port" --ServerApp.port_retries=0 \
  --ServerApp.token="$token" --ServerApp.open_browser=False --ServerApp.allow_root=True \
  --ServerApp.root_dir="$tmp/work" >"$log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -fsS "http://127.0.0.1:$port/api/status?token=$token" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "jupyterlab test: the server exited; see $log" >&2; exit 1; }
  sleep 0.2
done

status=0
export BASE_URL="http://127.0.0.1:$port" TOKEN="$token" OUT="$out" GOPROC_BIN="$bin"
t=$SECONDS
NOTEBOOKS=${GOPROC_LAB_NOTEBOOKS-$(IFS=,; echo "${notebooks[*]}")} CHECKS=checks.ipynb EXPECTED="$tmp/expected" \
  PROFILE="$tmp/chromium-profile" node "$here/lab.test.mjs" || status=1
echo "lab.test.mjs: $((SECONDS - t)) s"
t=$SECONDS
NOTEBOOK=assignment.ipynb EXPECTED="$tmp/expected/assignment.ipynb" node "$here/services.test.mjs" || status=1
echo "services.test.mjs: $((SECONDS - t)) s"

# Stop the server (it shuts its kernels down), then: no kernel, engine or
# worker of ours may be left, and the kernels logged no error.
stop_server
sleep 0.5
left=$(ours)
if [ -n "$left" ]; then
  echo "jupyterlab test: processes left after the server stopped:" >&2
  for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline" >&2 2>/dev/null; echo >&2; done
  status=1
fi
if grep -E 'level=(ERROR|WARN)' "$log" >&2; then
  echo "jupyterlab test: the kernels logged errors (above; all of it in $log)" >&2
  status=1
fi
exit $status
