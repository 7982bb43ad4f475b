#!/usr/bin/env bash
# vnet-rtos benchmark suite, one command (as root, Debian 12):
#
#   sudo ./bench/run.sh                  # full run: 3 repetitions, ~65 min
#   sudo ./bench/run.sh --quick          # smoke check: 1 repetition, short runs, ~6 min
#   sudo ./bench/run.sh --update-readme  # full run, then README.md's "## Results" section
#
# Other options go to bench/suite.py (--contenders fw,minfwd,zcfwd,zccopy,fw-offl,isr,linux,linux-nogro,
# linux-pc,linux-nogro-pc,linux-q1024,linux-pc-q1024,linux-offl,veth --workloads tcp1,tcp4,tcp1_rev,bidir,udp1400,udp64
# --repeat N --no-interleave --trace --note TEXT; see `python3 bench/suite.py --help`).
# --no-build uses the existing firmware images.
# --commit REV builds the firmware from that committed revision (a `git archive` snapshot
# in build-benchsuite-src/) instead of the working tree, so edits in progress elsewhere in
# the tree cannot leak into the images; the results then name REV.
#
# Installs the Debian packages it needs, builds the two firmware variants (the default
# NAPI-style driver in build-benchsuite-fw, with the minimal forwarders router-minfwd.elf
# (the driver without the stack), bench/zcfwd/router-zcfwd.elf (zero-copy, the limit row)
# and router-zcfwd-copy.elf (the same with the seed's one copy per frame) beside it,
# the benchmark-only RX-in-ISR driver in build-benchsuite-isr), then runs
# every contender and workload, interleaved in rounds, and writes
# bench/results/latest.{md,png,json} (--quick: latest-quick.*) plus dated copies.
# Every load is bounded in time; namespaces, taps and QEMU are torn down on every exit.
# All VM figures are QEMU TCG figures.
set -u -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=1
commit=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --commit)
      if [ $# -lt 2 ] || [ -z "$2" ]; then
        echo "bench/run.sh: --commit needs a revision" >&2
        exit 2
      fi
      commit=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ "$(id -u)" -ne 0 ]; then echo "bench/run.sh: run as root (namespaces, taps)" >&2; exit 2; fi

# ---- Debian packages ------------------------------------------------------------------
# iproute2 also gives the Linux router guest its tc (qdisc drop counters, stats.sh).
pkgs=(python3 qemu-system-x86 iperf3 iproute2 iputils-ping procps ethtool kmod
      linux-image-amd64 busybox-static gnuplot-nox fonts-dejavu-core build-essential cmake)
# shellcheck source=../scripts/lib/apt-ensure.sh
. "$top/scripts/lib/apt-ensure.sh"
vnet_apt_ensure "${pkgs[@]}" || { echo "bench/run.sh: apt-get install failed" >&2; exit 2; }

# ---- the two firmware variants ------------------------------------------------------------
# Same sources, same flags; only VNET_RX_IN_ISR differs (src/CMakeLists.txt). The old
# design is a benchmark-only build and must never ship.
src="$top"
if [ -n "$commit" ]; then
  rev=$(git -C "$top" rev-parse --verify "$commit^{commit}") ||
    { echo "bench/run.sh: unknown revision $commit" >&2; exit 2; }
  src="$top/build-benchsuite-src/$rev"
  if [ ! -f "$src/CMakeLists.txt" ]; then
    echo "== snapshot of $rev in build-benchsuite-src/"
    # Only the snapshot being built is kept.
    if ! { rm -rf "$top/build-benchsuite-src" && mkdir -p "$src" &&
      git -C "$top" archive "$rev" | tar -x -C "$src"; }; then
      echo "bench/run.sh: git archive failed" >&2
      exit 1
    fi
  fi
  args+=(--source-commit "$rev")
fi
fw_build() {  # DIR RX_IN_ISR
  local dir=$1 isr=$2
  # A build directory configured from another source tree (another snapshot) is stale.
  if [ -f "$dir/CMakeCache.txt" ] &&
    ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  # The old design has no task to leave work to: its ISR handles every frame it finds
  # (256 = the whole device ring), as the seed's did. The NAPI build takes the router's
  # default (a cache variable: -U drops a value left by an earlier configure).
  local budget=-UROUTER_ISR_BUDGET
  [ "$isr" = ON ] && budget=-DROUTER_ISR_BUDGET=256
  # The NAPI build also gives the minimal forwarder, the zero-copy one (the bench's limit
  # row) and its one-copy variant.
  local targets=(router)
  [ "$isr" = OFF ] && targets+=(router-minfwd router-zcfwd router-zcfwd-copy)
  echo "== building $(basename "$dir") (VNET_RX_IN_ISR=$isr) from ${commit:-the working tree}"
  { cmake -S "$src" -B "$dir" -DVNET_TARGET=qemu-x86_64 \
      -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchain-x86_64-elf.cmake" \
      -DVNET_RX_IN_ISR="$isr" "$budget" >"$dir.log" 2>&1 &&
    cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}" >>"$dir.log" 2>&1; } ||
    { tail -n 30 "$dir.log"; echo "bench/run.sh: firmware build failed ($dir)" >&2; exit 1; }
}
fw="$top/build-benchsuite-fw${commit:+-rev}"
isr="$top/build-benchsuite-isr${commit:+-rev}"
if [ "$build" -eq 1 ]; then
  fw_build "$fw" OFF
  fw_build "$isr" ON
fi

# exec: the suite receives SIGINT/SIGTERM itself and unwinds every session it opened.
cd "$top" || exit 2
exec python3 "$top/bench/suite.py" --fw-image "$fw/apps/router/router.elf" \
  --minfwd-image "$fw/apps/router/router-minfwd.elf" \
  --zcfwd-image "$fw/bench/zcfwd/router-zcfwd.elf" \
  --zccopy-image "$fw/bench/zcfwd/router-zcfwd-copy.elf" \
  --isr-image "$isr/apps/router/router.elf" "${args[@]}"
