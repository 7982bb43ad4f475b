#!/bin/sh
# Fail if the freestanding kernel object needs any symbol other than the documented CPU port
# interface (kernel/ucos_ii.h, "CPU port interface").
# usage: check_freestanding.sh NM OBJECT
set -eu
nm_tool=$1
obj=$2
allowed="OSCtxSw OSIntCtxSw OSStartHighRdy OSTaskStkInit OS_CPU_SR_Save OS_CPU_SR_Restore
OSInitHookBegin OSInitHookEnd OSTaskCreateHook OSTaskDelHook OSTaskIdleHook OSTaskReturnHook
OSTaskStatHook OSTaskSwHook OSTCBInitHook OSTimeTickHook"
[ -s "$obj" ] || { echo "missing $obj"; exit 1; }
bad=0
count=0
for sym in $("$nm_tool" -u "$obj" | awk '{print $NF}'); do
    count=$((count + 1))
    case " $(echo $allowed) " in
    *" $sym "*) ;;
    *) echo "unexpected undefined symbol: $sym"; bad=1 ;;
    esac
done
# The kernel must at least call into the port; zero symbols means nm read the wrong file.
if [ "$count" -lt 5 ]; then
    echo "only $count undefined symbols: wrong object?"
    exit 1
fi
defined=$("$nm_tool" -g --defined-only "$obj" | grep -c ' T OS' || true)
echo "$count port symbols needed, $defined kernel functions defined"
exit $bad
