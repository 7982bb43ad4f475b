#!/bin/sh
# Fail if a freestanding relocatable object needs any symbol outside an allowed set
# (cmake/vnet_freestanding.cmake registers one test per library).
# usage: check_freestanding.sh NM OBJECT ALLOWED_ERE DEFINED_ERE MIN_DEFINED
set -eu
nm_tool=$1
obj=$2
allowed=$3
defined_re=$4
min_defined=$5
[ -s "$obj" ] || { echo "missing $obj"; exit 1; }
bad=0
count=0
for sym in $("$nm_tool" -u "$obj" | awk '{print $NF}'); do
    count=$((count + 1))
    if ! printf '%s\n' "$sym" | grep -Eq "$allowed"; then
        echo "unexpected undefined symbol: $sym"
        bad=1
    fi
done
defined=$("$nm_tool" -g --defined-only "$obj" | grep -Ec "$defined_re" || true)
# Too few matching definitions means nm read the wrong file (or the pattern is stale).
if [ "$defined" -lt "$min_defined" ]; then
    echo "only $defined definitions match '$defined_re' (want >= $min_defined): wrong object?"
    exit 1
fi
echo "$count external symbols needed, $defined matching functions defined"
exit $bad
