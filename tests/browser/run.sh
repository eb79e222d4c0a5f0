#!/usr/bin/env bash
# Browser test (issue 4): Debian's Jupyter Notebook server on 127.0.0.1 (a
# random port, token auth) with the goproc kernelspec installed in a private
# prefix, and headless Chromium driven by playwright-core: open the notebook,
# Cell ▸ Run All, check that every line the cells print (children's lines
# included) is visible in the page, save a screenshot under .ci/out/.
#
#   tests/browser/run.sh [NOTEBOOK.ipynb]
#
# Default notebook: notebooks/assignment.ipynb, else tests/browser/children.ipynb.
# Needs (Debian): jupyter-notebook chromium nodejs npm; Go to build goproc
# unless GOPROC_TEST_BINARY names a built one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${GOPROC_TEST_OUT:-$root/.ci/out}
mkdir -p "$out"

nb=${1:-}
if [ -z "$nb" ]; then
  if [ -f "$root/notebooks/assignment.ipynb" ]; then nb=$root/notebooks/assignment.ipynb; else nb=$here/children.ipynb; fi
fi
[ -f "$nb" ] || { echo "browser test: $nb: no such notebook" >&2; exit 2; }
for c in jupyter-notebook /usr/bin/chromium node npm curl; do
  command -v "$c" >/dev/null || { echo "browser test: $c is missing (apt-get install jupyter-notebook chromium nodejs npm curl)" >&2; exit 2; }
done

tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

bin=${GOPROC_TEST_BINARY:-}
if [ -z "$bin" ]; then
  bin=$tmp/goproc
  (cd "$root" && CGO_ENABLED=${CGO_ENABLED:-0} go build -o "$bin" .)
fi

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# A private Jupyter: its own kernelspec prefix, config, data and runtime dirs.
export JUPYTER_PATH=$tmp/share/jupyter JUPYTER_CONFIG_DIR=$tmp/config JUPYTER_DATA_DIR=$tmp/data
export JUPYTER_RUNTIME_DIR=$tmp/runtime IPYTHONDIR=$tmp/ipython
"$bin" install --prefix "$tmp" --name goproc >/dev/null

mkdir -p "$tmp/work"
name=$(basename "$nb")
cp "$nb" "$tmp/work/$name"
# What the page must show: the same notebook run headless by goproc.
"$bin" run "$tmp/work/$name" --out "$tmp/expected.ipynb" >/dev/null 2>"$tmp/goproc-run.log" || {
  echo "browser test: goproc run $name failed:" >&2; tail -5 "$tmp/goproc-run.log" >&2; exit 1; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(24))')
jupyter-notebook --no-browser --allow-root --ip=127.0.0.1 --port="$port" --port-retries=0 \
  --NotebookApp.token="$token" --notebook-dir="$tmp/work" >"$out/browser-jupyter.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/api/status?token=$token" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "browser test: jupyter-notebook exited; see $out/browser-jupyter.log" >&2; exit 1; }
  sleep 0.2
done

shot=$out/browser-${name%.ipynb}.png
BASE_URL="http://127.0.0.1:$port" TOKEN="$token" NOTEBOOK="$name" EXPECTED="$tmp/expected.ipynb" \
  SHOT="$shot" PROFILE="$tmp/chromium-profile" node "$here/notebook.test.mjs"
