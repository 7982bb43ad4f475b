"""Two network namespaces joined to the guest's NICs by tap devices.

Order matters (QEMU-NOTES.md): the taps are created in the root namespace, QEMU
attaches to them, and only once a tap shows carrier is it moved into its
namespace. A tap moved before QEMU opens it makes QEMU create a new tap of the
same name in the root namespace, and the namespace's copy stays dead.

Addresses are from the benchmarking range 198.18.0.0/15 only.
"""

import ipaddress
import re

from .util import HarnessError, debug, run, wait_until

LAN_NET = "198.18.0.0/24"
WAN_NET = "198.19.0.0/24"


class Side:
    """One side of the router: namespace, tap and addresses."""

    def __init__(self, role, ns, tap, host_cidr, router_ip, guest_mac):
        self.role = role            # "lan" or "wan"
        self.ns = ns                # namespace holding the host end
        self.tap = tap              # tap device name (<= 15 chars)
        self.host_cidr = host_cidr  # address of the namespace's host, with prefix
        self.router_ip = router_ip  # the guest's address on this side
        self.guest_mac = guest_mac  # MAC of the guest NIC on this side

    @property
    def host_ip(self):
        return self.host_cidr.split("/")[0]

    def to_dict(self):
        return dict(role=self.role, ns=self.ns, tap=self.tap, host_cidr=self.host_cidr,
                    router_ip=self.router_ip, guest_mac=self.guest_mac)

    @classmethod
    def from_dict(cls, d):
        return cls(d["role"], d["ns"], d["tap"], d["host_cidr"], d["router_ip"],
                   d["guest_mac"])


def make_sides(run_id):
    """Names derived from run_id so that parallel or leftover runs never collide."""
    for cidr in ("198.18.0.2/24", "198.19.0.2/24"):
        # Refuse, by construction, any address outside the benchmarking range.
        assert ipaddress.ip_interface(cidr).ip in ipaddress.ip_network("198.18.0.0/15")
    tag = str(run_id)
    if len(tag) > 12:
        raise HarnessError(f"run id too long for interface names: {tag}")
    lan = Side("lan", f"vnet-{tag}-lan", f"vt{tag}l", "198.18.0.2/24", "198.18.0.1",
               "52:54:00:18:00:01")
    wan = Side("wan", f"vnet-{tag}-wan", f"vt{tag}w", "198.19.0.2/24", "198.19.0.1",
               "52:54:00:19:00:01")
    return lan, wan


def netns_list():
    cp = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in cp.stdout.splitlines() if line.strip()]


def link_exists(dev, ns=None):
    argv = ["ip", "-o", "link", "show", "dev", dev]
    if ns:
        argv = ["ip", "-n", ns] + argv[1:]
    return run(argv, check=False).returncode == 0


def link_flags(dev):
    cp = run(["ip", "-o", "link", "show", "dev", dev], check=False)
    m = re.search(r"<([^>]*)>", cp.stdout)
    return set(m.group(1).split(",")) if m else set()


def create_tap(side):
    # vnet_hdr: QEMU passes the virtio-net header through, which the offloads need.
    run(["ip", "tuntap", "add", "dev", side.tap, "mode", "tap", "vnet_hdr"])
    run(["ip", "link", "set", "dev", side.tap, "up"])


def create_ns(side):
    run(["ip", "netns", "add", side.ns])
    run(["ip", "-n", side.ns, "link", "set", "lo", "up"])


def wait_carrier(side, timeout, alive=None):
    """Wait for LOWER_UP on the tap: QEMU has attached its queue to it."""
    def ok():
        if alive is not None and not alive():
            raise HarnessError("QEMU exited before attaching to " + side.tap)
        return "LOWER_UP" in link_flags(side.tap)
    wait_until(ok, timeout, what=f"carrier on {side.tap}")


def move_and_configure(side):
    run(["ip", "link", "set", "dev", side.tap, "netns", side.ns])
    n = ["ip", "-n", side.ns]
    run(n + ["addr", "add", side.host_cidr, "dev", side.tap])
    run(n + ["link", "set", "dev", side.tap, "up"])
    run(n + ["route", "add", "default", "via", side.router_ip])
    debug(f"{side.role}: {side.tap} in {side.ns} as {side.host_cidr} via {side.router_ip}")


def teardown_side(side):
    """Best effort, idempotent: delete the namespace (destroys a tap inside it), then
    any tap still in the root namespace. Returns a list of what could not be removed."""
    problems = []
    if side.ns in netns_list():
        cp = run(["ip", "netns", "del", side.ns], check=False)
        if cp.returncode != 0:
            problems.append(f"netns {side.ns}: {cp.stderr.strip()}")
    if link_exists(side.tap):
        cp = run(["ip", "link", "del", "dev", side.tap], check=False)
        if cp.returncode != 0:
            problems.append(f"tap {side.tap}: {cp.stderr.strip()}")
    return problems


def side_leftovers(side):
    """What of this side still exists (for teardown checks)."""
    left = []
    if side.ns in netns_list():
        left.append("netns " + side.ns)
    if link_exists(side.tap):
        left.append("tap " + side.tap)
    return left
