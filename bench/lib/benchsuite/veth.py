"""Contender 4, the host ceiling: the LAN and WAN namespaces routed by a third
namespace over veth pairs, no VM at all.

Same addresses and routes as the VM topology (docs/harness.md), so the workloads run
unchanged; only the router differs. With offloads off (the default) every veth end has
TSO/GSO/GRO and checksum offload disabled, so frames are MTU-sized like the ones the
firmware forwards and the figure is the cost of the generator and the kernel path alone.
"""

import os
import re
import subprocess

from vnet_harness.util import HarnessError, log, pid_alive, run

PREFIX = "vbench-"  # namespaces: vbench-PID-{lan,wan,rtr}; veths: vbPID{l,w}{0,1}
NS_RE = re.compile(r"^vbench-(\d+)-(lan|wan|rtr)$")
# ethtool features switched together by offloads=False.
OFFLOAD_FEATURES = ("tso", "gso", "gro", "tx", "rx", "sg")


class VethRouter:
    """Three namespaces and two veth pairs; use as a context manager."""

    def __init__(self, offloads=False):
        pid = os.getpid()
        self.offloads = offloads
        self.lan_ns = f"{PREFIX}{pid}-lan"
        self.wan_ns = f"{PREFIX}{pid}-wan"
        self.rtr_ns = f"{PREFIX}{pid}-rtr"
        # Interface names stay within 15 characters for any PID up to 2^22.
        self.links = (
            (self.lan_ns, f"vb{pid}l0", "198.18.0.2/24", self.rtr_ns, f"vb{pid}l1",
             "198.18.0.1/24"),
            (self.wan_ns, f"vb{pid}w0", "198.19.0.2/24", self.rtr_ns, f"vb{pid}w1",
             "198.19.0.1/24"),
        )
        self.lan_ip = "198.18.0.2"
        self.wan_ip = "198.19.0.2"
        self.created = False

    def _all_ns(self):
        return (self.lan_ns, self.wan_ns, self.rtr_ns)

    def up(self):
        reap()
        self.created = True  # from here on, teardown removes whatever exists
        try:
            for ns in self._all_ns():
                run(["ip", "netns", "add", ns])
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
            for hns, hdev, hcidr, rns, rdev, rcidr in self.links:
                run(["ip", "link", "add", hdev, "netns", hns, "type", "veth", "peer", "name",
                     rdev, "netns", rns])
                for ns, dev, cidr in ((hns, hdev, hcidr), (rns, rdev, rcidr)):
                    run(["ip", "-n", ns, "addr", "add", cidr, "dev", dev])
                    run(["ip", "-n", ns, "link", "set", dev, "up"])
                    if not self.offloads:
                        feats = []
                        for f in OFFLOAD_FEATURES:
                            feats += [f, "off"]
                        run(["ip", "netns", "exec", ns, "ethtool", "-K", dev] + feats,
                            check=False)
                gw = rcidr.split("/")[0]
                run(["ip", "-n", hns, "route", "add", "default", "via", gw])
            run(["ip", "netns", "exec", self.rtr_ns, "sysctl", "-q", "-w",
                 "net.ipv4.ip_forward=1"])
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Idempotent: deleting a namespace destroys the veth ends inside it."""
        if not self.created:
            return []
        for ns in self._all_ns():
            if ns in _netns_list():
                run(["ip", "netns", "del", ns], check=False)
        left = [ns for ns in self._all_ns() if ns in _netns_list()]
        if left:
            log(f"veth ceiling: left behind {left}")
        return left

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()
        return False


def _netns_list():
    cp = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10,
                        check=False)
    return [ln.split()[0] for ln in cp.stdout.splitlines() if ln.strip()]


def reap():
    """Remove veth-ceiling namespaces whose owner process is gone (a SIGKILLed run)."""
    gone = []
    for ns in _netns_list():
        m = NS_RE.match(ns)
        if m and not pid_alive(int(m.group(1))):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10,
                           check=False)
            gone.append(ns)
    return gone


def leftovers():
    return [ns for ns in _netns_list() if ns.startswith(PREFIX + str(os.getpid()) + "-")]


def check_tools():
    for tool in ("ip", "ethtool", "iperf3"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True,
                          check=False).returncode != 0:
            raise HarnessError(f"{tool} not found")
