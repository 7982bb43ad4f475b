#!/bin/busybox sh
# PID 1 of the Linux router guest (contender 3): two virtio-net NICs, IPv4 forwarding.
# Kernel command line: vnet.lan_mac=MAC vnet.wan_mac=MAC [vnet.gro=on|off]
# The sides are found by MAC address, never by enumeration order; the LAN NIC is
# renamed eth0 (198.18.0.1/24) and the WAN NIC eth1 (198.19.0.1/24).

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Keep kernel messages off the console the harness parses (errors still show).
echo 3 >/proc/sys/kernel/printk

fail() {
  echo "router: FAILED: $*"
  # Leave a shell for inspection; the harness times out waiting for readiness.
  exec setsid cttyhack sh
}

while read -r mod args; do
  # shellcheck disable=SC2086 # module parameters are separate words
  insmod "/lib/modules/$mod" $args || fail "insmod $mod"
done </etc/modules.list

cmdline_arg() {
  # Word splitting is the point here: the command line is one line of words.
  # shellcheck disable=SC2013
  for w in $(cat /proc/cmdline); do
    case "$w" in "$1="*) echo "${w#*=}" ;; esac
  done
}
lan_mac=$(cmdline_arg vnet.lan_mac)
wan_mac=$(cmdline_arg vnet.wan_mac)
gro=$(cmdline_arg vnet.gro)
if [ -z "$lan_mac" ] || [ -z "$wan_mac" ]; then
  fail "vnet.lan_mac/vnet.wan_mac missing"
fi

if_by_mac() {
  for d in /sys/class/net/*; do
    [ "$(cat "$d/address")" = "$1" ] && { basename "$d"; return 0; }
  done
  return 1
}

# virtio-net probes asynchronously after insmod: wait (bounded, 10 s) for both.
i=0
while ! { if_by_mac "$lan_mac" >/dev/null && if_by_mac "$wan_mac" >/dev/null; }; do
  i=$((i + 1))
  [ "$i" -le 100 ] || fail "NICs $lan_mac/$wan_mac not found"
  sleep 0.1
done

# Rename through temporary names so eth0/eth1 may be swapped safely.
lan_if=$(if_by_mac "$lan_mac")
wan_if=$(if_by_mac "$wan_mac")
ip link set dev "$lan_if" name vlan_tmp || fail "rename $lan_if"
ip link set dev "$wan_if" name vwan_tmp || fail "rename $wan_if"
ip link set dev vlan_tmp name eth0 || fail "rename LAN to eth0"
ip link set dev vwan_tmp name eth1 || fail "rename WAN to eth1"

echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
ip link set lo up
ip addr add 198.18.0.1/24 dev eth0 || fail "address eth0"
ip addr add 198.19.0.1/24 dev eth1 || fail "address eth1"
ip link set eth0 up
ip link set eth1 up
echo 1 >/proc/sys/net/ipv4/ip_forward

if [ "$gro" = "off" ]; then
  ethtool -K eth0 gro off || fail "ethtool eth0 gro off"
  ethtool -K eth1 gro off || fail "ethtool eth1 gro off"
fi

echo "router: gro=$(ethtool -k eth0 | sed -n 's/^generic-receive-offload: //p')" \
  "tso=$(ethtool -k eth0 | sed -n 's/^tcp-segmentation-offload: //p')"
echo "router: ready"

export PS1='linux-router# '
export HOME=/ PATH=/bin:/sbin:/usr/bin:/usr/sbin
while true; do
  setsid cttyhack sh
done
