#!/usr/bin/env bash
# Importing Go modules in cells: goproc against GoNB (github.com/janpfeifer/gonb,
# a Go kernel that compiles every cell with the Go toolchain), in one job on
# this machine, both driven through jupyter_client on loopback
# (tests/bench/modules/drive.py). Prints a table; nothing is asserted.
#   1. a trivial cell (`fmt.Println(1)`), median of many, in a warmed kernel;
#   2. the first cell that imports gonum.org/v1/gonum/floats and calls it,
#      with an empty GOPROC_CACHE and a Go build cache that has not compiled
#      gonum yet (for GoNB: its goimports + go get + go build of that cell);
#   3. the same cell in a new kernel, caches warm (same GOPROC_CACHE, GOCACHE);
#   4. floats.Sum over 10^7 float64s, timed inside the cell (best of 5), in
#      goproc against the same code compiled (`go run`, same gonum version).
# Ratios are goproc / baseline, all measured in this run.
#
# Caches: both kernels get GOCACHE = their own copy of a seed build cache that
# holds the standard library and goproc's packages (from building this tree,
# with CGO_ENABLED=0 and with the default) but not gonum; the seed persists between runs in $GOPROC_BENCH_SEED (default
# ~/.cache/goproc-modules-bench/gocache-seed). Module downloads are excluded:
# gonum is downloaded first, and the kernels run with GOTOOLCHAIN=local and
# GOPROXY=file://$GOMODCACHE/cache/download,$(go env GOPROXY): modules already
# in the module cache resolve locally (gonum's latest is the one downloaded),
# others fall through to the usual proxy (then cached for the next run). Each
# kernel's working directory is its own notebook directory (goproc pins the
# notebook's modules in a go.mod there; the warm goproc kernel reuses it).
#
# Knobs: GOPROC (kernel binary; default: built from this tree), GONB_VERSION
# (default: the newest the module proxy lists, else v0.11.4), GONUM_VERSION
# (default latest), BENCH_TRIVIAL_GOPROC / BENCH_TRIVIAL_GONB (samples, 50 / 10),
# BENCH_IMPORT_TIMEOUT (s, 180), BENCH_KEEP=1 (keep the work dir and logs).
# If GoNB cannot be installed or started, the table says so and shows goproc's
# figures alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d -t goproc-modbench.XXXXXX)
if [ "${BENCH_KEEP:-}" = 1 ]; then
  trap 'echo "kept $work"' EXIT
else
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fi
mkdir -p "$work/bin" "$work/tmp"
py=/usr/bin/python3
$py -c 'import jupyter_client' 2>/dev/null || {
  echo "modules bench: Debian's python3-jupyter-client is missing (apt-get install python3-jupyter-client)" >&2; exit 2; }
log() { printf '%s\n' "$*" >&2; }
gomodcache=$(go env GOMODCACHE)
goproc_err=""
seed=${GOPROC_BENCH_SEED:-${XDG_CACHE_HOME:-$HOME/.cache}/goproc-modules-bench/gocache-seed}
mkdir -p "$seed"

# goproc, and the seed build cache (never given gonum).
if [ -z "${GOPROC:-}" ]; then
  log "building goproc (GOCACHE=$seed)"
  if out=$(GOCACHE=$seed CGO_ENABLED=0 go build -o "$work/goproc" . 2>&1); then
    GOPROC=$work/goproc
  else
    goproc_err="go build failed: $(printf '%s' "$out" | grep -v '^#' | head -n 1)"
    log "goproc: $goproc_err"
  fi
else
  log "goproc: $GOPROC; warming the seed build cache with this tree"
  GOCACHE=$seed CGO_ENABLED=0 go build -o /dev/null . 2>/dev/null || log "  (this tree does not build; seed has what it has)"
fi
# goproc's engine builds run with the toolchain's default CGO_ENABLED: warm
# the seed with this tree in that configuration too.
GOCACHE=$seed go build -o /dev/null . 2>/dev/null || log "  (this tree does not build with cgo; seed has what it has)"
mkdir -p "$work/hello"
(cd "$work/hello" && go mod init hello >/dev/null 2>&1 &&
  printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n' >main.go &&
  GOCACHE=$seed go build -o /dev/null .)

# GoNB and goimports (GoNB runs goimports on every cell; gopls is optional and
# left out). `go install gonb@version` fails when the proxy refuses the module's
# version list (its deprecation check), so it is built inside a temporary module.
gonb_err=""
gonb_ver=${GONB_VERSION:-}
if [ -z "$gonb_ver" ]; then
  gonb_ver=$( (cd "$work/tmp" && go list -m -versions github.com/janpfeifer/gonb 2>/dev/null) | awk '{print $NF}' || true)
  case "$gonb_ver" in v*) ;; *) gonb_ver=v0.11.4 ;; esac
fi
log "installing GoNB $gonb_ver and goimports into $work/bin"
mkdir -p "$work/gonb-install"
if ! out=$(cd "$work/gonb-install" && go mod init gonbinstall 2>&1 &&
    go get "github.com/janpfeifer/gonb@$gonb_ver" 2>&1 &&
    GOBIN=$work/bin go install github.com/janpfeifer/gonb 2>&1); then
  gonb_err="go install of GoNB $gonb_ver failed: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
elif ! out=$(GOBIN=$work/bin go install "golang.org/x/tools/cmd/goimports@${GOIMPORTS_VERSION:-latest}" 2>&1); then
  gonb_err="go install of goimports failed: $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
fi
goimports_ver=$(go version -m "$work/bin/goimports" 2>/dev/null | awk '$1=="mod"{print $3}' || true)
[ -n "$gonb_err" ] && { log "GoNB: $gonb_err"; rm -f "$work/bin/gonb"; }

# gonum, downloaded once; the compiled baseline of figure 4.
log "compiled baseline (gonum ${GONUM_VERSION:-latest})"
cmp=$work/compiled
mkdir -p "$cmp"
compiled_ns="" compiled_sum="" compiled_err="" gonum_ver=""
if ! out=$(cd "$cmp" && go mod init compiled 2>&1 && go get "gonum.org/v1/gonum@${GONUM_VERSION:-latest}" 2>&1); then
  compiled_err="go get gonum failed: $(printf '%s' "$out" | tail -n 1)"
else
  gonum_ver=$(cd "$cmp" && go list -m -f '{{.Version}}' gonum.org/v1/gonum)
  # Figure 4's statements, as goproc runs them in cells, as main's body.
  $py tests/bench/modules/bench.py --compiled-main >"$cmp/main.go"
  if out=$(cd "$cmp" && go run . 2>&1) &&
      [[ $out =~ ns\ ([0-9]+)\ sum\ ([^[:space:]]+) ]]; then
    compiled_ns=${BASH_REMATCH[1]} compiled_sum=${BASH_REMATCH[2]}
  else
    compiled_err="go run: $(printf '%s' "$out" | tail -n 1)"
  fi
fi

# Each kernel's build cache: a copy of the seed.
cp -a "$seed" "$work/gocache-goproc"
cp -a "$seed" "$work/gocache-gonb"

log "running kernels"
echo "goproc: ${goproc_err:+not available: $goproc_err }${GOPROC:-} ($(cd "$repo" && git rev-parse --short HEAD 2>/dev/null)$(cd "$repo" && git diff --quiet HEAD -- . 2>/dev/null || echo ', work tree modified'))"
echo "GoNB: ${gonb_err:+not available: }${gonb_err:-$gonb_ver, goimports $goimports_ver (gopls not installed)}"
echo "gonum: ${gonum_ver:-?}; $(go version)"
echo
BENCH_WORK=$work GOPROC=${GOPROC:-} GOPROC_ERR=$goproc_err GONB=$( [ -z "$gonb_err" ] && echo "$work/bin/gonb") GONB_ERR=$gonb_err \
  BENCH_GOPROXY=file://$gomodcache/cache/download,$(go env GOPROXY) GONUM_VER=$gonum_ver \
  BENCH_PATH=$work/bin:$(dirname "$(go env GOROOT)/bin/go"):$PATH \
  COMPILED_NS=$compiled_ns COMPILED_SUM=$compiled_sum COMPILED_ERR=$compiled_err \
  $py tests/bench/modules/bench.py
