#!/usr/bin/env bash
# vnet-rtos main job: boot the router in QEMU (TCG), route iperf3 traffic LAN -> WAN
# through it between two network namespaces, print the throughput, tear down.
#
#   sudo ./scripts/run.sh [options]
#     --guest firmware|linux  what routes: our firmware (default) or the Linux
#                             reference router (Debian kernel + busybox initramfs)
#     --image PATH            firmware ELF (default build-fw/apps/router/router.elf,
#                             built first when the firmware toolchain file exists)
#     --time SECONDS          iperf3 duration (default 10; 0 skips iperf3)
#     --udp                   UDP instead of TCP
#     --bitrate RATE          iperf3 -b (e.g. 200M); UDP default is iperf3's 1M
#     --streams N             parallel streams (default 1)
#     --reverse               WAN -> LAN instead
#     --offloads on|off       virtio-net checksum/segmentation offloads (default off; on:
#                             the firmware boots with offloads=on, GSO frames forwarded whole)
#     --gro on|off            Linux guest only: GRO on its NICs (default on)
#     --keep                  leave the VM and namespaces up until Ctrl-C
#
# Needs root and a Debian 12 machine; installs the Debian packages it needs.
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
gro=on
keep=0

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
need_arg() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then echo "run.sh: $1 needs a value" >&2; exit 2; fi
}
while [ $# -gt 0 ]; do
  case "$1" in
    --guest) need_arg "$@"; guest=$2; shift ;;
    --image) need_arg "$@"; image=$2; shift ;;
    --time) need_arg "$@"; secs=$2; shift ;;
    --udp) udp=1 ;;
    --bitrate) need_arg "$@"; bitrate=$2; shift ;;
    --streams) need_arg "$@"; streams=$2; shift ;;
    --reverse) reverse=1 ;;
    --offloads) need_arg "$@"; offloads=$2; shift ;;
    --gro) need_arg "$@"; gro=$2; shift ;;
    --keep) keep=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$guest" in firmware|linux) ;; *) echo "run.sh: --guest firmware|linux" >&2; exit 2 ;; esac
case "$offloads" in on|off) ;; *) echo "run.sh: --offloads on|off" >&2; exit 2 ;; esac
case "$gro" in on|off) ;; *) echo "run.sh: --gro on|off" >&2; exit 2 ;; esac
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "run.sh: --time takes whole seconds" >&2; exit 2; }
[[ "$streams" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --streams takes N >= 1" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then echo "run.sh: run as root (namespaces, taps)" >&2; exit 2; fi

# ---- Debian packages ------------------------------------------------------------
pkgs=(python3 qemu-system-x86 iperf3 iproute2 iputils-ping procps)
[ "$guest" = linux ] && pkgs+=(linux-image-amd64 busybox-static ethtool kmod)
fw_toolchain="$top/cmake/toolchain-x86_64-elf.cmake"
[ "$guest" = firmware ] && [ -z "$image" ] && [ -f "$fw_toolchain" ] && pkgs+=(build-essential cmake)
# shellcheck source=scripts/lib/apt-ensure.sh
. "$top/scripts/lib/apt-ensure.sh"
vnet_apt_ensure "${pkgs[@]}" || { echo "run.sh: apt-get install failed" >&2; exit 2; }

# ---- firmware image ---------------------------------------------------------------
up_args=(--guest "$guest" --offloads "$offloads")
if [ "$guest" = firmware ]; then
  # NIC offloads on: the firmware negotiates them too and forwards GSO frames whole.
  [ "$offloads" = on ] && up_args+=(--append offloads=on)
  if [ -z "$image" ]; then
    image="$top/build-fw/apps/router/router.elf"
    if [ -f "$fw_toolchain" ]; then
      echo "== building the firmware (build-fw)"
      { cmake -S "$top" -B "$top/build-fw" -DVNET_TARGET=qemu-x86_64 \
          -DCMAKE_TOOLCHAIN_FILE="$fw_toolchain" >"$top/build-fw.configure.log" 2>&1 &&
        cmake --build "$top/build-fw" -j "$(nproc)" >"$top/build-fw.build.log" 2>&1; } ||
        { tail -n 40 "$top/build-fw.configure.log" "$top/build-fw.build.log" 2>/dev/null
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
echo "== booting the $guest router (QEMU TCG, 1 vCPU, offloads $offloads)"
t0=$(date +%s%N)
vh_up "${up_args[@]}" || { echo "run.sh: the router did not come up" >&2; exit 1; }
ms=$((($(date +%s%N) - t0) / 1000000))
printf '== router ready after %d.%01d s; LAN %s (%s) <-> router <-> WAN %s (%s)\n' \
  $((ms / 1000)) $((ms % 1000 / 100)) "$VNET_LAN_IP" "$VNET_LAN_NS" \
  "$VNET_WAN_IP" "$VNET_WAN_NS"
vh_ping --count 3 || { echo "run.sh: no ping across the router" >&2; exit 1; }

rc=0
if [ "$secs" -gt 0 ]; then
  iperf_args=(--time "$secs" --streams "$streams")
  [ "$udp" -eq 1 ] && iperf_args+=(--udp)
  [ -n "$bitrate" ] && iperf_args+=(--bitrate "$bitrate")
  [ "$reverse" -eq 1 ] && iperf_args+=(--reverse)
  echo "== iperf3 ${iperf_args[*]} (figures are QEMU TCG figures)"
  vh_iperf "${iperf_args[@]}" || { echo "run.sh: iperf3 failed" >&2; rc=1; }
fi
echo "== router stats"
vh_stats --timeout 10 || { echo "run.sh: stats command failed" >&2; rc=1; }

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
