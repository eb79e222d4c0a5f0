#!/usr/bin/env bash
# Notebook benchmark (issue 4), in one job: wall time of
#   goproc run notebooks/assignment.ipynb               (embedded engine, no Jupyter)
#   jupyter nbconvert --execute, same notebook, goproc kernelspec
#   jupyter nbconvert --execute, the same exercises in Python, ipykernel
# RUNS times each; prints medians and ratios to goproc run. Nothing asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
bin=${GOPROC_TEST_BINARY:-}
if [ -z "$bin" ]; then bin=$work/goproc; CGO_ENABLED=${CGO_ENABLED:-0} go build -o "$bin" .; fi
"$bin" install --prefix "$work" >/dev/null
export JUPYTER_PATH=$work/share/jupyter:/usr/share/jupyter JUPYTER_RUNTIME_DIR=$work/runtime
time_it() { # label command...
  local label=$1; shift
  for _ in $(seq "$runs"); do
    local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    echo "$label $(echo "$t1 - $t0" | bc)"
  done
}
{
  time_it goproc_run "$bin" run notebooks/assignment.ipynb --out "$work/a.ipynb"
  time_it nbconvert_goproc jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=goproc \
    --output-dir "$work" --output a_nb notebooks/assignment.ipynb
  time_it nbconvert_ipykernel jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=python3 \
    --output-dir "$work" --output p_nb tests/bench/assignment_python.ipynb
} > "$work/times"
/usr/bin/python3 - "$work/times" <<'PY'
import json, statistics, sys
t = {}
for line in open(sys.argv[1]):
    k, v = line.split(); t.setdefault(k, []).append(float(v))
base = statistics.median(t["goproc_run"])
for k, v in t.items():
    print(json.dumps({"bench": k, "runs": len(v), "median_s": round(statistics.median(v), 3),
                      "min_s": round(min(v), 3), "ratio_to_goproc_run": round(statistics.median(v) / base, 2)}))
PY
