#!/usr/bin/env bash
# vnet-rtos main job: boot the router in QEMU (TCG), route iperf3 traffic LAN -> WAN
# through it between two network namespaces, print the throughput and a health summary
# of the router, tear down.
#
#   ./scripts/run.sh [options]        (as root; a non-root user with sudo: sudo ./scripts/run.sh)
#     --guest firmware|linux  what routes: our firmware (default) or the Linux
#                             reference router (Debian kernel + busybox initramfs;
#                             on --board qemu-aarch64-virt the arm64 kernel, fetched
#                             once by apt-get download)
#     --image PATH            firmware ELF (default build-fw/apps/router/router.elf,
#                             built first when the firmware toolchain file exists)
#     --time SECONDS          iperf3 duration (default 10; 0 skips iperf3)
#     --udp                   UDP instead of TCP
#     --bitrate RATE          iperf3 -b (e.g. 200M); UDP default is iperf3's 1M
#     --streams N             parallel streams (default 1)
#     --reverse               WAN -> LAN instead
#     --offloads on|off       virtio-net checksum/segmentation offloads (default off; on:
#                             the firmware boots with offloads=on, GSO frames forwarded whole)
#     --machine q35|pc        QEMU machine (default q35 (ICH9); pc: i440FX/PIIX3)
#     --nic-prop KEY=VAL      a virtio-net-pci property for both NICs, repeatable
#                             (e.g. vectors=0 for INTx, rx_queue_size=1024, event_idx=off)
#     --board qemu-x86_64|qemu-aarch64-virt
#                             firmware board (default qemu-x86_64); qemu-aarch64-virt runs
#                             qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a53
#     --transport mmio|pci    qemu-aarch64-virt: NICs on virtio-mmio (default) or PCIe
#     --gic 2|3               qemu-aarch64-virt: GIC version (default 3). The firmware runs
#                             virtio-net-pci on MSI-X where the GIC offers MSI it drives:
#                             with 2 (GICv2m frame); with 3 on INTx (it does not drive the ITS)
#     --mmio-modern           qemu-aarch64-virt: virtio-mmio version 2 (default: QEMU
#                             7.2's legacy version 1)
#     --gro on|off            Linux guest only: GRO on its NICs (default on)
#     --keep                  leave the VM and namespaces up until Ctrl-C
#
# Needs root and a Debian 12 machine; installs the Debian packages it needs. Prints
# progress, then the iperf3 result and the router's health summary (its console command
# `stats`); every counter (`stats -k`) goes to a file whose path it prints.
# Every VM figure here is a QEMU TCG figure (no hardware virtualisation).
set -u -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
guest=firmware
image=""
secs=10
udp=0
bitrate=""
streams=1
reverse=0
offloads=off
machine=q35
nic_props=()
board=qemu-x86_64
transport=mmio
gic=3
mmio_modern=0
gro=on
keep=0

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
die() { echo "run.sh: $*" >&2; exit 2; }
need_arg() { # need_arg OPTION "$@": the option's value must follow
  if [ $# -lt 3 ] || [ -z "$3" ]; then die "$1 needs a value (see --help)"; fi
}
# One case per option; an option with a value checks it with need_arg and shifts once
# more. New options (e.g. a board) go here and into the usage text above.
while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    --guest) need_arg "$opt" "$@"; guest=$2; shift ;;
    --image) need_arg "$opt" "$@"; image=$2; shift ;;
    --time) need_arg "$opt" "$@"; secs=$2; shift ;;
    --udp) udp=1 ;;
    --bitrate) need_arg "$opt" "$@"; bitrate=$2; shift ;;
    --streams) need_arg "$opt" "$@"; streams=$2; shift ;;
    --reverse) reverse=1 ;;
    --offloads) need_arg "$opt" "$@"; offloads=$2; shift ;;
    --machine) need_arg "$opt" "$@"; machine=$2; shift ;;
    --nic-prop) need_arg "$opt" "$@"; nic_props+=("$2"); shift ;;
    --board) need_arg "$opt" "$@"; board=$2; shift ;;
    --transport) need_arg "$opt" "$@"; transport=$2; shift ;;
    --gic) need_arg "$opt" "$@"; gic=$2; shift ;;
    --mmio-modern) mmio_modern=1 ;;
    --gro) need_arg "$opt" "$@"; gro=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option: $opt (see --help)" ;;
  esac
  shift
done
case "$guest" in firmware|linux) ;; *) die "--guest firmware|linux" ;; esac
case "$offloads" in on|off) ;; *) die "--offloads on|off" ;; esac
case "$machine" in q35|pc) ;; *) die "--machine q35|pc" ;; esac
case "$board" in qemu-x86_64|qemu-aarch64-virt) ;; *) die "--board qemu-x86_64|qemu-aarch64-virt" ;; esac
case "$transport" in mmio|pci) ;; *) die "--transport mmio|pci" ;; esac
case "$gic" in 2|3) ;; *) die "--gic 2|3" ;; esac
case "$gro" in on|off) ;; *) die "--gro on|off" ;; esac
for p in ${nic_props[@]+"${nic_props[@]}"}; do
  [[ "$p" =~ ^[A-Za-z0-9_-]+=[^,]+$ ]] || die "--nic-prop takes KEY=VALUE (no commas), got '$p'"
done
[[ "$secs" =~ ^[0-9]+$ ]] || die "--time takes whole seconds"
[[ "$streams" =~ ^[1-9][0-9]*$ ]] || die "--streams takes N >= 1"
if [ "$(id -u)" -ne 0 ]; then
  die "needs root (network namespaces, tap devices, apt-get); with sudo: sudo ./scripts/run.sh"
fi

# Progress of a background job: on a terminal, one line rewritten every second with the
# last "[ NN%]" of a build log or the seconds elapsed; elsewhere nothing. wait_job PID LABEL [LOG]
wait_job() {
  local pid=$1 label=$2 log=${3:-} t=0 pct rc=0
  if [ -t 1 ]; then
    while kill -0 "$pid" 2>/dev/null; do
      pct=""
      [ -n "$log" ] && pct=$(grep -o '^\[ *[0-9]*%\]' "$log" 2>/dev/null | tail -n 1)
      printf '\r   %s %s %ds ' "$label" "$pct" "$t"
      sleep 1
      t=$((t + 1))
    done
    printf '\r\033[K'
  fi
  wait "$pid" || rc=$?
  return "$rc"
}

# ---- Debian packages ------------------------------------------------------------
pkgs=(python3 qemu-system-x86 iperf3 iproute2 iputils-ping procps)
if [ "$guest" = linux ] && [ "$board" = qemu-aarch64-virt ]; then
  pkgs+=(binutils)  # readelf; the arm64 packages come by apt-get download (mkinitramfs.py)
elif [ "$guest" = linux ]; then
  pkgs+=(linux-image-amd64 busybox-static ethtool kmod)
fi
fw_toolchain="$top/cmake/toolchain-x86_64-elf.cmake"
fw_dir=build-fw
if [ "$board" = qemu-aarch64-virt ]; then
  fw_toolchain="$top/cmake/toolchain-aarch64-elf.cmake"
  fw_dir=build-fw-aarch64
  pkgs+=(qemu-system-arm)
  [ -z "$image" ] && pkgs+=(gcc-aarch64-linux-gnu)
fi
[ "$guest" = firmware ] && [ -z "$image" ] && [ -f "$fw_toolchain" ] && pkgs+=(build-essential cmake)
# shellcheck source=scripts/lib/apt-ensure.sh
. "$top/scripts/lib/apt-ensure.sh"
vnet_apt_ensure "${pkgs[@]}" || { echo "run.sh: apt-get install failed" >&2; exit 2; }

# ---- firmware image ---------------------------------------------------------------
# The harness boots the firmware with offloads=on when --offloads on (GSO frames whole).
up_args=(--guest "$guest" --offloads "$offloads" --machine "$machine" --board "$board")
if [ "$board" = qemu-aarch64-virt ]; then
  up_args+=(--transport "$transport" --gic "$gic")
  [ "$mmio_modern" -eq 1 ] && up_args+=(--mmio-modern)
fi
for p in ${nic_props[@]+"${nic_props[@]}"}; do up_args+=(--nic-prop "$p"); done
if [ "$guest" = firmware ]; then
  if [ -z "$image" ]; then
    image="$top/$fw_dir/apps/router/router.elf"
    if [ -f "$fw_toolchain" ]; then
      echo "== building the firmware for $board ($fw_dir/; log $fw_dir.build.log)"
      { cmake -S "$top" -B "$top/$fw_dir" -DVNET_TARGET="$board" \
          -DCMAKE_TOOLCHAIN_FILE="$fw_toolchain" >"$top/$fw_dir.configure.log" 2>&1 &&
        cmake --build "$top/$fw_dir" -j "$(nproc)" >"$top/$fw_dir.build.log" 2>&1; } &
      wait_job $! building "$top/$fw_dir.build.log" ||
        { tail -n 40 "$top/$fw_dir.configure.log" "$top/$fw_dir.build.log" 2>/dev/null
          echo "run.sh: firmware build failed" >&2; exit 1; }
    fi
  fi
  if [ ! -f "$image" ]; then
    echo "run.sh: no firmware image at $image (try --guest linux)" >&2
    exit 1
  fi
  up_args+=(--image "$image")
else
  up_args+=(--gro "$gro")
fi

# ---- boot, measure, tear down -----------------------------------------------------
# shellcheck source=lib/harness.sh source-path=SCRIPTDIR
. "$top/scripts/lib/harness.sh"
props=""
[ ${#nic_props[@]} -gt 0 ] && props=", NIC ${nic_props[*]}"
where=$machine
[ "$board" = qemu-aarch64-virt ] && where="aarch64 virt (gic-version=$gic), cortex-a53, virtio-$transport"
echo "== booting the $guest router (QEMU TCG, $where, 1 vCPU, offloads $offloads$props)"
t0=$(date +%s%N)
vh_up "${up_args[@]}" || { echo "run.sh: the router did not come up" >&2; exit 1; }
ms=$((($(date +%s%N) - t0) / 1000000))
printf '== router ready after %d.%01d s; LAN %s (netns %s) <-> router <-> WAN %s (netns %s)\n' \
  $((ms / 1000)) $((ms % 1000 / 100)) "$VNET_LAN_IP" "$VNET_LAN_NS" \
  "$VNET_WAN_IP" "$VNET_WAN_NS"
ping_line=$(vh_ping --count 3) || { echo "run.sh: no ping across the router: $ping_line" >&2; exit 1; }

rc=0
result=""
if [ "$secs" -gt 0 ]; then
  iperf_args=(--time "$secs" --streams "$streams")
  [ "$udp" -eq 1 ] && iperf_args+=(--udp)
  [ -n "$bitrate" ] && iperf_args+=(--bitrate "$bitrate")
  [ "$reverse" -eq 1 ] && iperf_args+=(--reverse)
  echo "== iperf3 ${iperf_args[*]}"
  iperf_out=$(mktemp)
  vh_iperf "${iperf_args[@]}" >"$iperf_out" &
  if wait_job $! "iperf3 (${secs} s)"; then
    result=$(grep -m 1 '^iperf3 ' "$iperf_out")
  else
    echo "run.sh: iperf3 failed" >&2
    rc=1
  fi
  rm -f "$iperf_out"
fi

# Every counter to a file in the session directory (kept after teardown).
counters="$VNET_STATE/counters.txt"
vh_stats --timeout 10 >"$counters" || { echo "run.sh: stats command failed" >&2; rc=1; }

echo
[ -n "$result" ] && echo "$result (QEMU TCG)"
echo "$ping_line"
if [ "$guest" = firmware ]; then
  # The router's own health summary: the console command `stats` (docs/router.md).
  vh_console_t 10 stats | tr -d '\r' || { echo "run.sh: stats failed" >&2; rc=1; }
fi
echo "every counter: $counters"
echo "console log:   $VNET_CONSOLE_LOG"

if [ "$keep" -eq 1 ]; then
  cat <<EOT
== the router stays up until Ctrl-C
   LAN shell:        ip netns exec $VNET_LAN_NS bash      (host $VNET_LAN_IP, router $VNET_ROUTER_LAN)
   WAN shell:        ip netns exec $VNET_WAN_NS bash      (host $VNET_WAN_IP, router $VNET_ROUTER_WAN)
   console output:   tail -f $VNET_CONSOLE_LOG
   console command:  $VH_CLI console $VNET_STATE 'COMMAND'
   type at console:  cat > $VNET_SERIAL_IN
   QMP:              $VH_CLI qmp $VNET_STATE query-status
EOT
  # Ctrl-C here is the normal way out: end with the run's own status.
  keep_stop=0
  trap 'keep_stop=1' INT
  while [ "$keep_stop" -eq 0 ] && kill -0 "$VNET_QEMU_PID" 2>/dev/null; do
    sleep 1 &
    wait $! || true
  done
  trap 'exit 130' INT
  [ "$keep_stop" -eq 1 ] || { echo "run.sh: QEMU exited" >&2; rc=1; }
fi
exit "$rc"
