#!/usr/bin/env bash
# Kernel benchmark (issue 2): goproc and ipykernel measured in the same job
# through jupyter_client, printed as JSON lines and a table of ratios
# (goproc / ipykernel; below 1 is faster). Nothing is asserted.
#   tests/bench/kernel_bench.sh [STARTS] [ROUNDTRIPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
starts=${1:-10}; n=${2:-300}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
bin=${GOPROC_TEST_BINARY:-}
if [ -z "$bin" ]; then bin=$work/goproc; go build -o "$bin" .; fi
"$bin" install --prefix "$work" >/dev/null
export JUPYTER_PATH=$work/share/jupyter:/usr/share/jupyter JUPYTER_RUNTIME_DIR=$work/runtime
py=/usr/bin/python3 base=../shared/baseline/kernel_bench.py
[ -f "$base" ] || base=/work/shared/baseline/kernel_bench.py
for k in goproc python3; do
  if [ $k = goproc ]; then code=1 loop='for {}' set='x := 41' get='x + 1'
  else code=1 loop='while True: pass' set='x = 41' get='x + 1'; fi
  KERNEL=$k CODE=$code $py "$base" "$starts" "$n" | sed "s/^{/{\"kernel\": \"$k\", /"
  KERNEL=$k LOOP=$loop SET=$set GET=$get $py tests/bench/kernel_extra.py 10 | sed "s/^{/{\"kernel\": \"$k\", /"
done > "$work/results.jsonl"
cat "$work/results.jsonl"
$py - "$work/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["kernel"], r["bench"]): r for r in rows}
print(f"\n{'benchmark':36} {'goproc p50':>11} {'ipykernel p50':>14} {'ratio':>6}   goproc p99 / extra")
for b in dict.fromkeys(r["bench"] for r in rows):
    g, p = by.get(("goproc", b)), by.get(("python3", b))
    if not g or not p:
        continue
    extra = {k: v for k, v in g.items() if k in ("p99", "state_kept", "restarts_ok")}
    print(f"{b:36} {g['p50']*1e3:9.2f}ms {p['p50']*1e3:12.2f}ms {g['p50']/p['p50']:6.2f}   {extra}")
PY
