#!/usr/bin/env bash
# Where the guest's time goes, by function, under one load (bench only):
#   sudo bench/perf/sample.sh [--time S] [--udp --bitrate R --length N] [--streams N]
#        [--offloads on] IMAGE.elf
# IMAGE must be built with -DVNET_PROF_SAMPLES=N (e.g. 65536): the board then records the
# RIP each kernel tick (1 kHz) interrupted. Boots IMAGE once, starts the sampler, runs one
# iperf3 LAN -> WAN, stops it and prints the share of samples per function (inlined
# callers resolved with addr2line -i: the innermost function and the one it was inlined
# into). Code that runs with interrupts off (ISRs, critical sections) is never sampled;
# its time shows on the instruction after it re-enables them (for a critical section:
# charged to the caller of OS_CPU_SR_Restore), and idle shows as the idle task's hlt. A QEMU TCG figure, like everything here. Root; tears down on exit.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=8
args=()
img=""
up=(--offloads off)
while [ $# -gt 0 ]; do
  case "$1" in
    --time) secs=$2; shift 2 ;;
    --udp) args+=(--udp); shift ;;
    --bitrate|--length|--streams) args+=("$1" "$2"); shift 2 ;;
    --offloads)
      # As the bench's fw-offl contender: device offloads on, the firmware told so.
      [ "$2" = on ] && up=(--offloads on --append offloads=on)
      shift 2 ;;
    -*) echo "sample.sh: unknown argument $1" >&2; exit 2 ;;
    *) img=$1; shift ;;
  esac
done
[ -n "$img" ] && [ -f "$img" ] || { echo "sample.sh: give a firmware image" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "sample.sh: run as root" >&2; exit 2; }
out=$(mktemp)
(
  # shellcheck source=../../scripts/lib/harness.sh
  . "$top/scripts/lib/harness.sh"
  vh_up --image "$img" "${up[@]}" >/dev/null || { echo "sample.sh: no boot" >&2; exit 1; }
  vh_ping --count 2 >/dev/null || { echo "sample.sh: no ping" >&2; exit 1; }
  vh_console 'prof start' >/dev/null
  vh_iperf --time "$secs" "${args[@]}" | grep -E '^iperf3 ' >&2
  vh_console_t 60 'prof stop' >"$out"
  if [ -n "${SAMPLE_KEEP:-}" ]; then cp "$out" "$SAMPLE_KEEP"; fi
) || { rm -f "$out"; exit 1; }
python3 - "$img" "$out" <<'EOF'
import collections, subprocess, sys
img, path = sys.argv[1], sys.argv[2]
pairs = []
for line in open(path):
    if line.startswith("prof ") and "samples=" not in line:
        pairs += [w.split("/") for w in line.split()[1:]]
if not pairs:
    sys.exit("sample.sh: no samples (image built without VNET_PROF_SAMPLES?)")
cache = {}


def name(addr):
    """Innermost function at addr and, when inlined, the function it was inlined into."""
    if addr not in cache:
        o = subprocess.run(["addr2line", "-f", "-i", "-e", img, "0x" + addr],
                           capture_output=True, text=True, check=True).stdout.splitlines()
        fns = o[0::2] or ["??"]
        cache[addr] = fns[0] if len(fns) == 1 else f"{fns[0]} (in {fns[-1]})"
    return cache[addr]


def where(rip, top):
    # A critical section's end: the tick waited for interrupts to come back on. Charge
    # it to the caller of OS_CPU_SR_Restore (its return address is on top of the stack).
    n = name(rip)
    return f"crit. section ending in {name(f'{int(top, 16) - 1:x}')}" \
        if n == "OS_CPU_SR_Restore" else n


c = collections.Counter(where(r, t) for r, t in pairs)
n = len(pairs)
print(f"{n} samples (1 kHz tick, TCG)")
for fn, k in c.most_common(40):
    print(f"{100.0 * k / n:6.1f} %  {k:6d}  {fn}")
EOF
rc=$?
rm -f "$out"
exit $rc
