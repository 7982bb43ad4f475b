#!/usr/bin/env bash
# Host micro-benchmark of the RX path (not a test). Builds the driver, POSIX port and
# simulated device with -O2 and no sanitizers, for both designs (the NAPI-style default and
# the benchmark-only old design of bench/in-isr/, linked in place of
# src/net/virtio_net_rx_irq.c), prints rdtsc cycles per frame for the ISR path
# and the task path, and, when valgrind is installed, instructions per frame from callgrind.
#   bench/host/run.sh [rounds] [batch] [frame_len] [cb_bytes]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${VNET_BENCH_OUT:-$top/build/bench-host}
mkdir -p "$out"
rounds=${1:-2000}; batch=${2:-32}; flen=${3:-64}; cbb=${4:-34}
cc=${CC:-cc}
common=("$top"/src/common/*.c "$top"/src/virtio/*.c "$top"/os/posix/osal_posix.c
        "$top"/tests/sim/simdev.c "$top"/bench/host/bench_rx.c)
net=()
for f in "$top"/src/net/*.c; do
  [ "$(basename "$f")" = virtio_net_rx_irq.c ] || net+=("$f")
done
flags=(-std=c11 -O2 -g -pthread -D_POSIX_C_SOURCE=200809L -I"$top/include" -I"$top/os"
       -I"$top/os/posix" -I"$top/src" -I"$top/tests/sim")
"$cc" "${flags[@]}" "${common[@]}" "${net[@]}" "$top/src/net/virtio_net_rx_irq.c" \
  -o "$out/bench_rx_napi"
"$cc" "${flags[@]}" "${common[@]}" "${net[@]}" "$top/bench/in-isr/virtio_net_rx_irq_in_isr.c" \
  -o "$out/bench_rx_in_isr"

echo "== rdtsc (host CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
"$out/bench_rx_napi" "$rounds" "$batch" "$flen" "$cbb"
"$out/bench_rx_in_isr" "$rounds" "$batch" "$flen" "$cbb"

if command -v valgrind >/dev/null 2>&1; then
  echo "== callgrind instructions per frame (rounds 200)"
  for v in napi in_isr; do
    cg="$out/callgrind.$v.out"
    valgrind --tool=callgrind --callgrind-out-file="$cg" --collect-atstart=no \
      --toggle-collect=virtio_net_service_rx_ring --toggle-collect=virtio_net_rx_task \
      "$out/bench_rx_$v" 200 "$batch" "$flen" "$cbb" >/dev/null 2>&1
    frames=$((200 * batch))
    # Inclusive Ir of each toggled function (callgrind_annotate --inclusive=yes).
    callgrind_annotate --inclusive=yes "$cg" 2>/dev/null |
      awk -v f="$frames" -v v="$v" '
        /virtio_net_service_rx_ring/ && !s { gsub(",", "", $1); s = $1 }
        /virtio_net_rx_task/ && !t { gsub(",", "", $1); t = $1 }
        END { printf "design=%s isr_path_instr_per_frame=%.0f task_path_instr_per_frame=%.0f\n",
                     v, s / f, t / f }'
  done
  echo "(task path includes the handshake and semaphore wait of each round; rx_in_isr's"
  echo " ISR path includes the receive callback.)"
else
  echo "valgrind not installed: instruction counts skipped"
fi
