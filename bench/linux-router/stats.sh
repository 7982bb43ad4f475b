#!/bin/sh
# `stats -k` of the Linux router guest: one key=value line per counter, the same
# shape as the firmware's, so the harness parses both alike.
for i in eth0 eth1; do
  for f in /sys/class/net/"$i"/statistics/*; do
    echo "$i.${f##*/}=$(cat "$f")"
  done
done
awk '/^Ip: [0-9]/ { print "ip.forw_datagrams=" $7; print "ip.in_receives=" $4 }' /proc/net/snmp
