#!/bin/sh
# Fail if the freestanding router stack object needs any symbol other than the four
# memory functions the stack is allowed to use (docs/stack.md, "Portability").
# usage: check_freestanding.sh NM OBJECT
set -eu
nm_tool=$1
obj=$2
[ -s "$obj" ] || { echo "missing $obj"; exit 1; }
bad=0
count=0
for sym in $("$nm_tool" -u "$obj" | awk '{print $NF}'); do
    count=$((count + 1))
    case "$sym" in
    memcpy | memset | memmove | memcmp) ;;
    *) echo "unexpected undefined symbol: $sym"; bad=1 ;;
    esac
done
defined=$("$nm_tool" -g --defined-only "$obj" | grep -c ' T net_' || true)
# Zero public functions means nm read the wrong file.
if [ "$defined" -lt 10 ]; then
    echo "only $defined net_ functions defined: wrong object?"
    exit 1
fi
echo "$count library symbols needed, $defined net_ functions defined"
exit $bad
