#!/usr/bin/env bash
# A/B throughput of firmware images under the same conditions, interleaved:
#   sudo bench/perf/ab.sh [--time S] [--rounds N] [--streams N] [--udp --bitrate R] \
#        [--machine q35|pc] NAME=IMAGE.elf NAME=IMAGE.elf ... \
#        [NAME=linux:gro=on|off[:machine=q35|pc]] [linux:all]
#   NAME=IMAGE.elf@rx_queue_size=1024@...: virtio-net device properties for both NICs
#   --reverse: WAN -> LAN instead (iperf3 -R: the WAN host sends)
#   --length N: iperf3 -l; UDP -l 18 gives 64-byte Ethernet frames (60 + 4 FCS)
#   --offloads on: device offloads on and the firmware told so (the bench's fw-offl);
#   Linux images get offloads on too (the bench's linux-offl): like is compared with like
#   --limit NAME: the minimal forwarder's name for the ratios (default minfwd; the
#   zero-copy one is build-fw/bench/zcfwd/router-zcfwd.elf)
#   --board qemu-aarch64-virt [--transport mmio|pci] [--gic 2|3] [--mmio-modern]: every
#   image (firmware and Linux) on the aarch64 virt board; Linux is then Debian's arm64
#   kernel (fetched once with apt-get download), and linux:all means GRO on/off only
#   (machine types are an x86 matter)
#   --ping: a ping LAN host -> WAN host (10/s) during each iperf3 run, from 1.5 s in;
#   prints its avg/max RTT per run and the medians at the end (latency under load)
#   linux:all adds the Linux router's variants (GRO on/off x q35/pc; offloads as --offloads says) as
#   linux-gro-q35, linux-nogro-q35, linux-gro-pc, linux-nogro-pc, and GRO on with the
#   1,024-entry RX ring (linux-gro-q35-q1024, linux-gro-pc-q1024: faster for Linux's TCP)
# Each round boots every image once (in turn, one QEMU at a time), runs one iperf3 of
# --time seconds LAN -> WAN and prints one line per image: throughput, iperf3's
# retransmits, the router's drops by reason and the frames the host taps dropped before
# the guest (abrow.py; firmware and Linux alike), the host's CPU by thread class
# (hostcpu.py: QEMU vCPU vs I/O thread vs iperf3 vs host kernel, per forwarded frame), plus
# for firmware the guest's per-frame counters from `stats -k` and (profile.py) the
# per-stage guest cycles of the iperf3 interval (interrupts, kicks, wake-ups, ISR cycles
# and p99 bucket). At the end ab_summary.py prints each name's median with retransmits
# and drops, and its ratio to the best Linux variant (picked there, by median) and to the
# limit row. Interleaving spreads host load drift over all images; take medians.
# Every figure is a QEMU TCG figure.
# linux:all must come after --board when --board is given.
# Root (namespaces, taps); tears down on every exit.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=5
rounds=3
streams=1
udp=0
bitrate=""
length=""
offl=off
ping=0
reverse=0
machine=q35
limit=minfwd
board=qemu-x86_64
board_args=()
imgs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) secs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --udp) udp=1; shift ;;
    --bitrate) bitrate=$2; shift 2 ;;
    --length) length=$2; shift 2 ;;
    --offloads) offl=$2; shift 2 ;;
    --ping) ping=1; shift ;;
    --reverse) reverse=1; shift ;;
    --machine) machine=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --board) board=$2; board_args+=(--board "$2"); shift 2 ;;
    --transport) board_args+=(--transport "$2"); shift 2 ;;
    --gic) board_args+=(--gic "$2"); shift 2 ;;
    --mmio-modern) board_args+=(--mmio-modern); shift ;;
    linux:all)
      if [ "$board" != qemu-x86_64 ]; then
        imgs+=(linux-gro=linux:gro=on linux-nogro=linux:gro=off)
        shift; continue
      fi
      imgs+=(linux-gro-q35=linux:gro=on:machine=q35 linux-nogro-q35=linux:gro=off:machine=q35
             linux-gro-pc=linux:gro=on:machine=pc linux-nogro-pc=linux:gro=off:machine=pc
             linux-gro-q35-q1024=linux:gro=on:machine=q35@rx_queue_size=1024
             linux-gro-pc-q1024=linux:gro=on:machine=pc@rx_queue_size=1024)
      shift ;;
    *=*) imgs+=("$1"); shift ;;
    *) echo "ab.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#imgs[@]} -gt 0 ] || { echo "ab.sh: give NAME=IMAGE pairs" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "ab.sh: run as root" >&2; exit 2; }
# A Linux contender on x86_64 boots the host's Debian kernel with a busybox initramfs:
# install them once, as bench/run.sh does, instead of failing every Linux round on a
# fresh machine ("no kernel in /boot"). (The arm64 kernel is fetched by mkinitramfs.py.)
if [ "$board" = qemu-x86_64 ] && [[ " ${imgs[*]} " == *=linux:* ]]; then
  # shellcheck source=../../scripts/lib/apt-ensure.sh
  . "$top/scripts/lib/apt-ensure.sh"
  vnet_apt_ensure linux-image-amd64 busybox-static ethtool kmod || exit 2
fi
# Frames each host tap dropped towards QEMU (tx_dropped: the host's queue to the guest was
# full), as "LAN WAN"; a side that cannot be read prints "-".
tap_drops() {
  local side ns tap v vals=()
  for side in LAN WAN; do
    ns=VNET_${side}_NS tap=VNET_${side}_TAP
    v=$(ip netns exec "${!ns}" cat "/sys/class/net/${!tap}/statistics/tx_dropped" 2>/dev/null)
    vals+=("${v:--}")
  done
  echo "${vals[*]}"
}
# "lan=N,wan=M" from two tap_drops readings (empty value where one was unreadable).
tap_delta() {
  local a b
  read -ra a <<<"$1"
  read -ra b <<<"$2"
  local l="" w=""
  [[ ${a[0]:-} =~ ^[0-9]+$ && ${b[0]:-} =~ ^[0-9]+$ ]] && l=$((b[0] - a[0]))
  [[ ${a[1]:-} =~ ^[0-9]+$ && ${b[1]:-} =~ ^[0-9]+$ ]] && w=$((b[1] - a[1]))
  echo "lan=$l,wan=$w"
}
rows=$(mktemp)
trap 'rm -f "$rows" "$rows.ping"' EXIT

for r in $(seq 1 "$rounds"); do
  for pair in "${imgs[@]}"; do
    name=${pair%%=*}
    img=${pair#*=}
    # One subshell per boot: the harness's traps tear its VM and namespaces down on exit.
    (
      # shellcheck source=../../scripts/lib/harness.sh
      . "$top/scripts/lib/harness.sh"
      # IMAGE@K=V@K=V: virtio-net device properties for both NICs (e.g. rx_queue_size=1024).
      props=()
      IFS=@ read -ra props <<<"$img"
      img=${props[0]}
      kind=fw
      case "$img" in
        linux:gro=*)
          kind=linux
          spec=${img#linux:}
          gro=${spec#gro=}; gro=${gro%%:*}
          m=$machine
          case "$spec" in *:machine=*) m=${spec##*:machine=} ;; esac
          up=(--guest linux --offloads "$offl" --gro "$gro" --machine "$m") ;;
        *) up=(--image "$img" --offloads "$offl" --machine "$machine")
           [ "$offl" = on ] && up+=(--append offloads=on) ;;
      esac
      for p in "${props[@]:1}"; do up+=(--nic-prop "$p"); done
      up+=("${board_args[@]}")
      vh_up "${up[@]}" >/dev/null || { echo "$name round $r: no boot"; exit 1; }
      vh_ping --count 2 >/dev/null || { echo "$name round $r: no ping"; exit 1; }
      args=(--time "$secs" --streams "$streams")
      [ "$udp" -eq 1 ] && args+=(--udp)
      [ -n "$bitrate" ] && args+=(--bitrate "$bitrate")
      [ -n "$length" ] && args+=(--length "$length")
      [ "$reverse" -eq 1 ] && args+=(--reverse)
      snap=$(mktemp -d)
      vh_stats --timeout 10 >"$snap/before" 2>/dev/null
      # shellcheck disable=SC2153  # VNET_* come from vh_up
      tap0=$(tap_drops)
      pingpid=""
      if [ "$ping" -eq 1 ] && [ "$secs" -ge 4 ]; then
        # shellcheck disable=SC2153  # VNET_LAN_NS / VNET_WAN_IP come from vh_up
        { sleep 1.5; ip netns exec "$VNET_LAN_NS" ping -q -n -i 0.1 -W 1 \
            -c $(( (secs - 2) * 10 )) "$VNET_WAN_IP"; } >"$snap/ping" 2>&1 &
        pingpid=$!
      fi
      # Host CPU by thread class over the iperf3 run (hostcpu.py; /proc, no root needed).
      python3 "$top/bench/perf/hostcpu.py" sample "$VNET_QEMU_PID" "$secs" "$snap/host.json" &
      hostpid=$!
      out=$(vh_iperf "${args[@]}" 2>&1)
      wait "$hostpid" || true
      tap1=$(tap_drops)
      if [ -n "$pingpid" ]; then
        wait "$pingpid"
        pr=$(sed -n 's|^rtt [^=]*= \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\)/.*|\2 \3|p' "$snap/ping")
        loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$snap/ping")
        printf '%s\t%s\t%s\t%s\n' "$name" "$r" "${pr:-n/a n/a}" "${loss:-n/a}" >>"$rows.ping"
        echo "  $name r$r: ping under load avg/max ${pr:-n/a} ms, loss ${loss:-n/a}%"
      fi
      st=$(vh_stats --timeout 10 2>/dev/null)
      printf '%s\n' "$st" >"$snap/after"
      rate=$(printf '%s\n' "$out" | grep -Eo 'bits_per_second=[0-9]+' | tail -1 | cut -d= -f2)
      if [ "$kind" = fw ]; then
        python3 "$top/bench/perf/profile.py" "$name" "$r" "$snap/before" "$snap/after" \
          "$rate" | sed 's/^/  /'
      fi
      # UDP: the rate column is forwarded frames/s (server-received), not iperf3's
      # sender-side bits/s, which says nothing about the router.
      if [ "$udp" -eq 1 ]; then
        rate=$(printf '%s\n' "$out" | grep -Eo 'forwarded_pps=[0-9]+' | tail -1 | cut -d= -f2)
      fi
      rtx=$(printf '%s\n' "$out" | sed -n 's/.*retransmits \([0-9]*\).*/\1/p' | tail -1)
      python3 "$top/bench/perf/abrow.py" "$rows" "$name" "$r" "$kind" "$rate" "$rtx" \
        "$snap/before" "$snap/after" "$(tap_delta "$tap0" "$tap1")" "$snap/host.json"
      rm -rf "$snap"
      [ "$kind" = fw ] && printf '%s\n' "$st" | python3 "$top/bench/perf/summarise.py" "$name" "$r" "$rate"
      printf '%s\n' "$out" | grep -E '^iperf3 ' | sed "s/^/    $name r$r: /"
    )
  done
done
if [ "$ping" -eq 1 ] && [ -f "$rows.ping" ]; then
  python3 - "$rows.ping" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    name, _rnd, rtt, loss = line.rstrip("\n").split("\t")
    parts = rtt.split()
    if len(parts) == 2 and parts[0] != "n/a":
        runs.setdefault(name, []).append((float(parts[0]), float(parts[1]), loss))
print("ping under load (LAN host -> WAN host, 10/s during iperf3; medians, QEMU TCG):")
for name, v in runs.items():
    print(f"  {name:10s} avg {statistics.median(a for a, _, _ in v):.2f} ms  "
          f"max {statistics.median(m for _, m, _ in v):.2f} ms  "
          f"loss {','.join(l for _, _, l in v)} %  ({len(v)} runs)")
PY
fi
python3 "$top/bench/perf/ab_summary.py" "$rows" "$limit" "$([ "$udp" -eq 1 ] && echo udp || echo tcp)"
