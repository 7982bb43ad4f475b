#!/bin/sh
# Configure a clang libFuzzer build and run every harness (tests/fuzz/fuzz_*.c) for N
# seconds each (default 60). Corpora persist in tests/fuzz/corpus-<name>/ (git-ignored);
# crashes land in the build directory as crash-* and make this script exit non-zero.
#   tests/fuzz/run.sh [seconds] [build-dir]
set -eu
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${2:-$root/build-fuzz}

command -v clang >/dev/null || { echo "run.sh: clang is required (apt-get install clang)"; exit 2; }
CC=clang cmake -S "$root" -B "$build" -DVNET_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fail=0
for src in "$here"/fuzz_*.c; do
  name=$(basename "$src" .c)
  cmake --build "$build" --target "$name" -j2 >/dev/null
  bin=$(find "$build" -type f -name "$name" -perm -u+x | head -n 1)
  [ -n "$bin" ] || { echo "run.sh: $name did not build"; fail=1; continue; }
  corpus="$here/corpus-$name"
  mkdir -p "$corpus"
  echo "== $name: ${secs}s"
  if ! (cd "$build" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$corpus" 2>&1 | tail -n 25); then
    fail=1
  fi
  # libFuzzer exits non-zero on a crash; the pipe hides it, so look for artefacts too.
  if ls "$build"/crash-* "$build"/leak-* "$build"/timeout-* >/dev/null 2>&1; then
    echo "run.sh: $name left crash/leak/timeout artefacts in $build"
    fail=1
  fi
done
exit $fail
