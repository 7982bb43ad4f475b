#!/usr/bin/env bash
# Check the RX handshake model (rx_handshake.pml) with Spin: exhaustively with the barrier
# (no error allowed), and without it (the checker must find the lost wakeup, or the model
# would be too weak to tell). Usage: run.sh [work-dir]
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
check() { # check DEFINES -> prints the error count
  rm -f pan pan.* ./*.trail
  spin -a "$@" "$here/rx_handshake.pml" >/dev/null
  cc -O2 -DSAFETY -o pan pan.c
  ./pan -m100000 -E 2>&1 | tee pan.out | sed -n 's/.*errors: \([0-9]*\).*/\1/p'
}
with=$(check -DBARRIER)
echo "with vnet_mb: errors $with"
grep -E "states, stored|depth reached" pan.out || true
without=$(check)
echo "without vnet_mb: errors $without (must be > 0)"
[ "$with" = 0 ] && [ "$without" != 0 ]
