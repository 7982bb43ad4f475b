#!/usr/bin/env bash
# Code and static data of the driver as a product compiles it: every source vnet.mk lists
# (driver core, transports, virtio-net, uC/OS-II port), compiled with the x86_64 firmware's
# freestanding flags against our kernel headers, then `size` per object. docs/porting.md
# quotes the output.
#
#   ./scripts/footprint.sh [-O2|-Os|-O3 ...]   (default: -O2 -Os; CC from the environment)
set -u -o pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- -O2 -Os
cc=${CC:-gcc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat >"$out/fp.mk" <<EOM
VNET_DIR := $top
include \$(VNET_DIR)/vnet.mk
INC := -I\$(VNET_DIR)/kernel -I\$(VNET_DIR)/kernel/port/x86_64 -I\$(VNET_DIR)/bsp/qemu-x86_64/cfg \
  -I\$(VNET_DIR)/examples/ucos2-minimal
FW := -std=c11 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
  -fno-stack-protector -ffunction-sections -fdata-sections -Wall -Wextra -Werror
objs = \$(patsubst \$(VNET_DIR)/%.c,\$(OUT)/%.o,\$(VNET_SRCS))
all: \$(objs)
\$(OUT)/%.o: \$(VNET_DIR)/%.c
	@mkdir -p \$(dir \$@)
	\$(CC) \$(FW) \$(OPT) \$(VNET_CFLAGS) \$(INC) -c -o \$@ \$<
EOM
for opt in "$@"; do
  make -s -f "$out/fp.mk" CC="$cc" OPT="$opt" OUT="$out/$opt" >/dev/null || exit 1
  echo "== $($cc --version | head -n 1), $opt (text includes read-only data)"
  (cd "$out/$opt" && find . -name '*.o' | sort | xargs size -t) |
    awk 'NR == 1 { print "  text    data     bss  object"; next }
         { sub(/^\.\//, "", $6); printf "%6d %7d %7d  %s\n", $1, $2, $3, $6 }'
done
