#!/bin/sh
# run_boot_test.sh - boot one firmware image in QEMU (TCG), wait for it to leave through
# isa-debug-exit, and check its exit status and serial output.
#
#   run_boot_test.sh --elf IMG --name NAME --timeout SECS --status N [--append STR]
#                    [--board qemu-x86_64|qemu-aarch64-virt] [--machine M]
#                    [--expect ERE]... [--reject ERE]... [-- extra qemu args...]
#
# --status is QEMU's exit status: (code << 1) | 1 for the code the guest wrote to port 0xf4
# (bsp_exit: 0 pass -> 1, 1 fail -> 3, 2 fault report -> 5); the aarch64 board leaves
# through semihosting SYS_EXIT with the same statuses. --board picks the QEMU binary and
# machine (x86_64: -M pc; aarch64: -M virt,gic-version=3 -cpu cortex-a53), --machine
# replaces the -M argument (e.g. virt,gic-version=2 or virt,virtualization=on). A hang hits --timeout and
# fails with status 124. Every --expect must match a line of the serial log (grep -E);
# no --reject may match. The log is kept as NAME.log in the current directory.
set -u

elf= name=boot timeout_s=30 want_status=1 append= board=qemu-x86_64 machine=
expects_file=$(mktemp) rejects_file=$(mktemp)
trap 'rm -f "$expects_file" "$rejects_file"' EXIT INT TERM

while [ $# -gt 0 ]; do
    case "$1" in
    --elf) elf=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --status) want_status=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --board) board=$2; shift 2 ;;
    --machine) machine=$2; shift 2 ;;
    --expect) printf '%s\n' "$2" >>"$expects_file"; shift 2 ;;
    --reject) printf '%s\n' "$2" >>"$rejects_file"; shift 2 ;;
    --) shift; break ;;
    *) echo "run_boot_test: unknown argument $1" >&2; exit 2 ;;
    esac
done

# @PORT_A@/@PORT_B@ in the QEMU arguments become a pair of UDP ports on 127.0.0.1 for
# back-to-back socket netdevs, derived from our PID so concurrent runs do not collide.
port_a=$((20000 + ($$ % 20000) * 2))
port_b=$((port_a + 1))
n=$#
while [ "$n" -gt 0 ]; do
    a=$(printf '%s' "$1" | sed "s/@PORT_A@/$port_a/g; s/@PORT_B@/$port_b/g")
    shift
    set -- "$@" "$a"
    n=$((n - 1))
done

case "$board" in
qemu-x86_64)
    qemu=${QEMU:-qemu-system-x86_64} pkg=qemu-system-x86
    # -M pc by default (the tests were written for it); --machine q35 for the ICH9 variants
    # (docs/board.md).
    set -- -M "${machine:-pc}" -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" ;;
qemu-aarch64-virt)
    qemu=${QEMU:-qemu-system-aarch64} pkg=qemu-system-arm
    set -- -M "${machine:-virt,gic-version=3}" -cpu "${VNET_AARCH64_CPU:-cortex-a53}" \
        -semihosting-config enable=on,target=native "$@" ;;
*) echo "run_boot_test: unknown board $board" >&2; exit 2 ;;
esac
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "FAIL: $qemu not found (install $pkg)" >&2
    exit 1
fi
if [ ! -f "$elf" ]; then
    echo "FAIL: image $elf not built" >&2
    exit 1
fi

log="$name.log"
rm -f "$log"
start=$(date +%s.%N)
# -nodefaults: no default NIC/VGA; the tests add what they need. TCG only (QEMU-NOTES.md).
timeout --kill-after=5 "$timeout_s" "$qemu" -accel tcg -m 128M -nodefaults \
    -no-user-config -display none -no-reboot -monitor none -serial "file:$log" \
    -kernel "$elf" -append "$append" "$@" \
    </dev/null
status=$?
end=$(date +%s.%N)
elapsed=$(echo "$start $end" | awk '{printf "%.2f", $2 - $1}')

fail=0
if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: QEMU exit status $status, expected $want_status (124 = timeout after ${timeout_s}s)"
    fail=1
fi
if [ ! -s "$log" ]; then
    echo "FAIL: no serial output"
    fail=1
else
    while IFS= read -r re; do
        if ! grep -Eq -- "$re" "$log"; then
            echo "FAIL: expected output not found: $re"
            fail=1
        fi
    done <"$expects_file"
    while IFS= read -r re; do
        if grep -Eq -- "$re" "$log"; then
            echo "FAIL: rejected output found: $re"
            fail=1
        fi
    done <"$rejects_file"
fi
echo "---- $name: serial log ($log), ${elapsed}s wall, TCG ----"
tr -d '\r' <"$log" | grep -Ev '^\s*$' | grep -v 'SeaBIOS\|Booting from\|^\x1b' || true
echo "---- $name: $( [ $fail -eq 0 ] && echo PASS || echo FAIL ) ----"
exit $fail
