#!/bin/sh
# `stats -k` of the Linux router guest: one key=value line per counter, the same
# shape as the firmware's, so the harness parses both alike.
for i in eth0 eth1; do
  for f in /sys/class/net/"$i"/statistics/*; do
    echo "$i.${f##*/}=$(cat "$f")"
  done
done
awk '/^Ip: [0-9]/ { print "ip.forw_datagrams=" $7; print "ip.in_receives=" $4 }' /proc/net/snmp
# Where the router drops (bench "honesty" columns, bench/lib/benchsuite/counters.py):
# IP discards by the fields' names in the header line of /proc/net/snmp ...
awk '/^Ip: [A-Z]/ { for (i = 2; i <= NF; i++) name[i] = $i; next }
     /^Ip: [0-9]/ { for (i = 2; i <= NF; i++) {
         if (name[i] == "InDiscards") print "ip.in_discards=" $i
         if (name[i] == "OutDiscards") print "ip.out_discards=" $i
         if (name[i] == "OutNoRoutes") print "ip.out_no_routes=" $i
         if (name[i] == "InHdrErrors") print "ip.in_hdr_errors=" $i
         if (name[i] == "InAddrErrors") print "ip.in_addr_errors=" $i } }' /proc/net/snmp
# ... the softnet backlog (2nd column, hex, per CPU) ...
awk '{ d += ("0x" $2) + 0 } END { print "softnet.dropped=" d }' /proc/net/softnet_stat 2>/dev/null ||
  true
# ... and each interface's root qdisc ("Sent ... (dropped N, ...)"), when iproute2's tc
# is in the image (mkinitramfs.py adds it if the host has it).
if [ -x /sbin/tc ]; then
  for i in eth0 eth1; do
    /sbin/tc -s qdisc show dev "$i" 2>/dev/null |
      awk -v dev="$i" '/^qdisc / { root = / root / } root && /dropped/ {
        sub(/.*dropped /, ""); sub(/,.*/, ""); print "qdisc." dev ".dropped=" $0; exit }'
  done
fi
# Guest CPU time since boot, USER_HZ ticks: busy share = 1 - (idle + iowait) / all.
awk '/^cpu / { print "cpu.user=" $2; print "cpu.nice=" $3; print "cpu.system=" $4;
               print "cpu.idle=" $5; print "cpu.iowait=" $6; print "cpu.irq=" $7;
               print "cpu.softirq=" $8; print "cpu.steal=" $9 }' /proc/stat
