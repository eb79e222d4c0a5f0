#!/usr/bin/env bash
# Executes every notebook in notebooks/ three ways and checks the outputs:
# goproc run (the embedded engine, no Jupyter), Debian's nbclient through the
# installed kernelspec (jupyter nbconvert --execute), and jupyter_client cell
# by cell, twice. Needs GOPROC_TEST_BINARY or builds goproc.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=${GOPROC_TEST_BINARY:-}
if [ -z "$bin" ]; then bin=$work/goproc; CGO_ENABLED=${CGO_ENABLED:-0} go build -o "$bin" .; fi
export JUPYTER_PATH=$work/share/jupyter JUPYTER_DATA_DIR=$work/data JUPYTER_RUNTIME_DIR=$work/runtime
"$bin" install --prefix "$work" >/dev/null
notebooks=(notebooks/assignment.ipynb notebooks/sum_of_squares.ipynb)
py=/usr/bin/python3

echo "== goproc run"
for nb in "${notebooks[@]}"; do
  out=$work/$(basename "$nb" .ipynb).goproc.ipynb
  "$bin" run "$nb" --out "$out" --timeout 5m
  $py tests/notebooks/check.py check "$out"
done

echo "== nbclient (jupyter nbconvert --execute) through the kernelspec"
for nb in "${notebooks[@]}"; do
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=goproc \
    --ExecutePreprocessor.timeout=600 --output-dir "$work" --output "$(basename "$nb" .ipynb).nbclient" "$nb"
  $py tests/notebooks/check.py check "$work/$(basename "$nb" .ipynb).nbclient.ipynb"
done

echo "== gonum: modules in cells, through goproc run and the kernel (nbclient)"
gonum=tests/notebooks/gonum/gonum.ipynb
"$bin" run "$gonum" --out "$work/gonum.goproc.ipynb" --timeout 10m
$py tests/notebooks/check.py check "$work/gonum.goproc.ipynb"
jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=goproc \
  --ExecutePreprocessor.timeout=600 --output-dir "$work" --output gonum.nbclient "$gonum"
$py tests/notebooks/check.py check "$work/gonum.nbclient.ipynb"

echo "== jupyter_client, cell by cell, each cell twice"
$py tests/notebooks/check.py client goproc notebooks/assignment.ipynb

echo "== saved notebooks carry their outputs"
$py tests/notebooks/check.py check "${notebooks[@]}"

echo "== Q3, Q5, Q6 100 times each through goproc run"
$py tests/notebooks/loop.py "$bin" 100
