#!/usr/bin/env bash
# goproc's whole test suite: static checks, Go tests (unit and end to end
# through the real binary), the Jupyter conformance and robustness tests
# with real clients, notebook runs with goproc and nbclient, and the browser
# tests (classic Notebook, JupyterLab 4). Prints one line per suite and a
# closing "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${GOPROC_TEST_OUT:-$root/.ci/out}
mkdir -p "$out"
export GOFLAGS=${GOFLAGS:--buildvcs=false}
# A static binary (no dynamic loader, no libc) starts every engine and child
# process ~2 ms of CPU sooner; it is how the README builds goproc.
export CGO_ENABLED=${CGO_ENABLED:-0}

passed=0; failed=0; failures=()
suite() { # name command...
  local name=$1; shift
  local log="$out/$name.log" start=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed+1)); echo "ok    $name ($((SECONDS-start))s)"
  else
    failed=$((failed+1)); failures+=("$name"); echo "FAIL  $name ($((SECONDS-start))s) — last lines of $log:"
    tail -n 40 "$log" | sed 's/^/      /'
  fi
}

# One binary for every suite that needs it.
bin="$out/bin/goproc"
mkdir -p "$out/bin"
go build -o "$bin" . || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
export GOPROC_TEST_BINARY=$bin

suite gofmt    bash -c 'test -z "$(gofmt -l $(git ls-files "*.go"))" || { gofmt -l $(git ls-files "*.go"); exit 1; }'
suite go-vet   go vet ./...
suite go-test  go test -count=1 -timeout 20m ./...
for s in tests/e2e/run.sh tests/notebooks/run.sh tests/browser/run.sh tests/jupyterlab/run.sh; do
  [ -f "$s" ] && suite "$(basename "$(dirname "$s")")" bash "$s"
done

echo
if ((failed)); then echo "failed suites: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
((failed == 0))
