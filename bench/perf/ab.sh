#!/usr/bin/env bash
# A/B throughput of firmware images under the same conditions, interleaved:
#   sudo bench/perf/ab.sh [--time S] [--rounds N] [--streams N] [--udp --bitrate R] \
#        NAME=IMAGE.elf NAME=IMAGE.elf ... [NAME=linux:gro=on|off]
#   --length N: iperf3 -l; UDP -l 18 gives 64-byte Ethernet frames (60 + 4 FCS)
#   --offloads on: device offloads on and the firmware told so (the bench's fw-offl)
# Each round boots every image once (in turn, one QEMU at a time), runs one iperf3 of
# --time seconds LAN -> WAN and prints one line per image: throughput plus the guest's
# per-frame counters from `stats -k` and (profile.py) the per-stage guest cycles of the
# iperf3 interval (interrupts, kicks, wake-ups, ISR cycles and p99
# bucket). Interleaving spreads host load drift over all images; take medians.
# Every figure is a QEMU TCG figure. Root (namespaces, taps); tears down on every exit.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=5
rounds=3
streams=1
udp=0
bitrate=""
length=""
offl=off
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
    *=*) imgs+=("$1"); shift ;;
    *) echo "ab.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#imgs[@]} -gt 0 ] || { echo "ab.sh: give NAME=IMAGE pairs" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "ab.sh: run as root" >&2; exit 2; }

for r in $(seq 1 "$rounds"); do
  for pair in "${imgs[@]}"; do
    name=${pair%%=*}
    img=${pair#*=}
    # One subshell per boot: the harness's traps tear its VM and namespaces down on exit.
    (
      # shellcheck source=../../scripts/lib/harness.sh
      . "$top/scripts/lib/harness.sh"
      case "$img" in
        linux:gro=*) up=(--guest linux --offloads off --gro "${img#linux:gro=}") ;;
        *) up=(--image "$img" --offloads "$offl")
           [ "$offl" = on ] && up+=(--append offloads=on) ;;
      esac
      vh_up "${up[@]}" >/dev/null || { echo "$name round $r: no boot"; exit 1; }
      vh_ping --count 2 >/dev/null || { echo "$name round $r: no ping"; exit 1; }
      args=(--time "$secs" --streams "$streams")
      [ "$udp" -eq 1 ] && args+=(--udp)
      [ -n "$bitrate" ] && args+=(--bitrate "$bitrate")
      [ -n "$length" ] && args+=(--length "$length")
      fw=0
      [ "${up[0]}" = --image ] && fw=1
      snap=$(mktemp -d)
      [ "$fw" -eq 1 ] && vh_stats --timeout 10 >"$snap/before" 2>/dev/null
      out=$(vh_iperf "${args[@]}" 2>&1)
      st=""
      if [ "$fw" -eq 1 ]; then
        st=$(vh_stats --timeout 10 2>/dev/null)
        printf '%s\n' "$st" >"$snap/after"
        python3 "$top/bench/perf/profile.py" "$name" "$r" "$snap/before" "$snap/after" \
          "$(printf '%s\n' "$out" | grep -Eo 'bits_per_second=[0-9]+' | cut -d= -f2)" |
          sed 's/^/  /'
      fi
      rm -rf "$snap"
      rate=$(printf '%s\n' "$out" | grep -Eo 'bits_per_second=[0-9]+' | tail -1 | cut -d= -f2)
      # UDP: the rate column is forwarded frames/s (server-received), not iperf3's
      # sender-side bits/s, which says nothing about the router.
      if [ "$udp" -eq 1 ]; then
        rate=$(printf '%s\n' "$out" | grep -Eo 'forwarded_pps=[0-9]+' | tail -1 | cut -d= -f2)
      fi
      printf '%s\n' "$st" | python3 "$top/bench/perf/summarise.py" "$name" "$r" "$rate"
      printf '%s\n' "$out" | grep -E '^iperf3 ' | sed "s/^/    $name r$r: /"
    )
  done
done
