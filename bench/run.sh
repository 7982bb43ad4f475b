#!/usr/bin/env bash
# vnet-rtos benchmark suite, one command (as root, Debian 12):
#
#   sudo ./bench/run.sh                  # full run: 3 repetitions, ~35 min
#   sudo ./bench/run.sh --quick          # smoke check: 1 repetition, short runs, ~6 min
#   sudo ./bench/run.sh --update-readme  # full run, then README.md's "## Results" section
#
# Other options go to bench/suite.py (--contenders fw,isr,linux,linux-nogro,linux-offl,veth
# --workloads tcp1,tcp4,tcp1_rev,bidir,udp1400,udp64 --repeat N --note TEXT; see
# `python3 bench/suite.py --help`). --no-build uses the existing firmware images.
#
# Installs the Debian packages it needs, builds the two firmware variants (the default
# NAPI-style driver in build-benchsuite-fw, the benchmark-only RX-in-ISR driver in
# build-benchsuite-isr), then runs every contender and workload and writes
# bench/results/latest.{md,png,json} (--quick: latest-quick.*) plus dated copies.
# Every load is bounded in time; namespaces, taps and QEMU are torn down on every exit.
# All VM figures are QEMU TCG figures.
set -u -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then echo "bench/run.sh: run as root (namespaces, taps)" >&2; exit 2; fi

# ---- Debian packages ------------------------------------------------------------------
pkgs=(python3 qemu-system-x86 iperf3 iproute2 iputils-ping procps ethtool kmod
      linux-image-amd64 busybox-static gnuplot-nox fonts-dejavu-core build-essential cmake)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    { echo "bench/run.sh: apt-get install failed" >&2; exit 2; }
fi

# ---- the two firmware variants ------------------------------------------------------------
# Same sources, same flags; only VNET_RX_IN_ISR differs (src/CMakeLists.txt). The old
# design is a benchmark-only build and must never ship.
fw_build() {  # DIR RX_IN_ISR
  local dir=$1 isr=$2
  echo "== building $(basename "$dir") (VNET_RX_IN_ISR=$isr)"
  { cmake -S "$top" -B "$dir" -DVNET_TARGET=qemu-x86_64 \
      -DCMAKE_TOOLCHAIN_FILE="$top/cmake/toolchain-x86_64-elf.cmake" \
      -DVNET_RX_IN_ISR="$isr" >"$dir.log" 2>&1 &&
    cmake --build "$dir" -j "$(nproc)" --target router >>"$dir.log" 2>&1; } ||
    { tail -n 30 "$dir.log"; echo "bench/run.sh: firmware build failed ($dir)" >&2; exit 1; }
}
fw="$top/build-benchsuite-fw"
isr="$top/build-benchsuite-isr"
if [ "$build" -eq 1 ]; then
  fw_build "$fw" OFF
  fw_build "$isr" ON
fi

# exec: the suite receives SIGINT/SIGTERM itself and unwinds every session it opened.
cd "$top" || exit 2
exec python3 "$top/bench/suite.py" --fw-image "$fw/apps/router/router.elf" \
  --isr-image "$isr/apps/router/router.elf" "${args[@]}"
