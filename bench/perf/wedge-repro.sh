#!/usr/bin/env bash
# Hunt for a NIC that stops forwarding under load (README "Known issues"):
#   sudo bench/perf/wedge-repro.sh [--rounds N] [--time S] [--image router.elf]
# Boots the firmware once and repeats, N rounds: 64-byte UDP flood LAN->WAN (iperf3 -b 0),
# TCP WAN->LAN 1 stream, TCP LAN->WAN 4 streams, each S seconds; after each load a ping
# from both sides must get through (five tries, 1 s apart). On the first failure it prints the router's `queues`
# (ring indices, RX hand-off flags, task states, LAPIC in-service/request bits), `stats -k`
# and `arp`, twice 2 s apart (does anything still move?), and exits 1. Every load is
# bounded; QEMU TCG; namespaces and taps are torn down on every exit path. Root.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
rounds=6
secs=8
image="$top/build/fw/apps/router/router.elf"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --time) secs=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    *) echo "wedge-repro.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "wedge-repro.sh: run as root" >&2; exit 2; }

# shellcheck source=../../scripts/lib/harness.sh
. "$top/scripts/lib/harness.sh"
vh_up --image "$image" --offloads off >/dev/null || { echo "no boot"; exit 1; }
vh_ping --count 2 >/dev/null || { echo "no ping after boot"; exit 1; }

dump() {
  for pass in 1 2; do
    echo "=== dump $pass ($1) ==="
    vh_console queues
    vh_console stats -k | grep -E '^(lan|wan)\.(rx_packets|tx_packets|interrupts|rx_task_wakeups|rx_queue_drops|rx_queue_count|tx_ring_full|bad_used|broken|spurious|recheck|task_serviced|rx_kicks|tx_kicks|isr_budget)|^stack\..*(drop|tx_busy)|^os\.' || true
    vh_console arp
    sleep 2
  done
}

check() {
  local what=$1 side try ok
  for side in lan wan; do
    ok=0
    # A few tries: right after a load the host may still be catching up (TCG).
    for try in 1 2 3 4 5; do
      if vh_ping --from "$side" --count 3 >/dev/null 2>&1; then ok=1; break; fi
      sleep 1
    done
    if [ "$ok" -eq 0 ]; then
      echo "WEDGE after $what: ping from $side fails"
      dump "$what"
      exit 1
    fi
  done
  echo "ok after $what"
}

for r in $(seq 1 "$rounds"); do
  vh_iperf --time "$secs" --udp --bitrate 0 --length 18 | head -1 || true
  check "round $r udp64 flood"
  vh_iperf --time "$secs" --reverse | head -1 || true
  check "round $r tcp WAN->LAN"
  vh_iperf --time "$secs" --streams 4 | head -1 || true
  check "round $r tcp 4 streams"
done
echo "no wedge in $rounds rounds"
