"""Shared pieces of the router firmware's QEMU tests (tests/qemu/router/*.py).

Each test boots router.elf (path from --image, default build-fw/apps/router/router.elf)
between the harness's two namespaces, runs its traffic, and reads the firmware's
counters with `stats -k`. Checks and the time budget come from tests/qemu/lib/qemutest.py.
"""

import argparse
import ctypes
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from qemutest import REPO, harness, run_test  # noqa: E402,F401  (re-exported)

DEFAULT_IMAGE = os.path.join(REPO, "build-fw", "apps", "router", "router.elf")


def parse_args(description, extra=None):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--image", default=os.environ.get("VNET_ROUTER_IMAGE", DEFAULT_IMAGE),
                    help="router firmware ELF (default %(default)s)")
    ap.add_argument("--machine", default=os.environ.get("VNET_ROUTER_MACHINE", harness.DEFAULT_MACHINE),
                    help="QEMU machine type (default %(default)s)")
    ap.add_argument("--board", default=os.environ.get("VNET_ROUTER_BOARD", "qemu-x86_64"),
                    choices=("qemu-x86_64", "qemu-aarch64-virt"),
                    help="board the image was built for (default %(default)s)")
    ap.add_argument("--mmio-modern", action="store_true",
                    help="qemu-aarch64-virt: virtio-mmio version 2 instead of legacy")
    ap.add_argument("--transport", choices=("mmio", "pci"), default="mmio",
                    help="qemu-aarch64-virt: NICs on virtio-mmio (default) or virt's PCIe")
    ap.add_argument("--gic", choices=("2", "3"), default=None,
                    help="qemu-aarch64-virt: GIC version (default 3; 2: MSI-X through GICv2m)")
    ap.add_argument("--vectors", type=int, default=None,
                    help="virtio-net-pci MSI-X vectors (0 = INTx only)")
    ap.add_argument("--rx-queue-size", type=int, default=None,
                    help="virtio-net rx_queue_size of both NICs (QEMU: 256..1024)")
    ap.add_argument("--budget", type=int, default=None,
                    help="hard time limit of the whole test in seconds")
    if extra:
        extra(ap)
    return ap.parse_args()


def session(args, nic=None, boot_timeout=60):
    """A harness session running the router firmware (the harness's default offloads, off:
    the driver negotiates none, so QEMU must hand it complete, checksummed frames)."""
    nic = nic or harness.NicConfig(offloads=harness.DEFAULT_OFFLOADS, vectors=args.vectors,
                                   rx_queue_size=args.rx_queue_size)
    qcfg = harness.QemuConfig(None, machine=args.machine, nic=nic, board=args.board,
                              mmio_modern=args.mmio_modern, transport=args.transport,
                              gic=args.gic)
    return harness.Session(harness.guests.firmware(args.image, boot_timeout=boot_timeout), qcfg)


def offered_rx_queue_size(args):
    """The RX ring size the device offers the driver in this configuration: the
    rx_queue_size property (QEMU's default 256) on virtio-net-pci, but always QEMU's
    VIRTQUEUE_MAX_SIZE (1024) on virtio-mmio, whose QueueNumMax register does not look at
    the property. The driver takes what is offered (capped at 1024 by default)."""
    if args.board == "qemu-aarch64-virt" and args.transport == "mmio":
        return 1024
    return args.rx_queue_size or 256


def queue_state(s):
    """`queues` as {"lan.rxq.size": n, ...}: ring indices and sizes of both NICs."""
    out = {}
    for line in s.command("queues").splitlines():
        for word in line.split():
            k, eq, v = word.partition("=")
            if eq and v.isdigit() and "." in k:
                out[k] = int(v)
    return out


def quiet_namespaces(s):
    """IPv6 off in both namespaces: Linux's router solicitations and MLD reports would be
    extra frames (counted as eth_multicast drops) that make counter deltas noisy."""
    for side in (s.lan, s.wan):
        for key in ("net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"):
            subprocess.run(["ip", "netns", "exec", side.ns, "sysctl", "-qw", f"{key}=1"],
                           check=False, capture_output=True, timeout=10)


def idle_busy_pct(a, b):
    """The guest's busy share (%) between snapshots a and b from the idle task's own cycles
    (os.idle_cycles, kernel/port/os_cpu_idle.h): exact, every task and ISR included. None
    when the image does not export them."""
    ms = b.get("os.uptime_ms", 0) - a.get("os.uptime_ms", 0)
    hz = b.get("os.tsc_hz", 0)
    if ms <= 0 or not hz or "os.idle_cycles" not in b:
        return None
    idle = b["os.idle_cycles"] - a.get("os.idle_cycles", 0)
    return 100.0 * (1.0 - idle / (hz * ms / 1000.0))


def busy_pct(a, b):
    """Share (%) of the elapsed TSC between snapshots a and b that the LAN ISR and LAN RX
    task spent by their own cycle counters (an upper bound of their CPU time: the task's
    include its waits for TX space; the WAN side is left out)."""
    ms = b.get("os.uptime_ms", 0) - a.get("os.uptime_ms", 0)
    hz = b.get("os.tsc_hz", 0)
    if ms <= 0 or not hz:
        return 0
    cyc = sum(b.get(f"lan.{k}", 0) - a.get(f"lan.{k}", 0)
              for k in ("isr_cycles_total", "rx_task_cycles"))
    return round(100.0 * cyc / (hz * ms / 1000.0))


def stats(s, timeout=15.0):
    return s.stats(timeout=timeout)


def _accounted(st):
    d, a = accounting(st)
    return d == a


def quiet_stats(s, settle=1.0, tries=4, settled=_accounted):
    """Counters at a moment with nothing in flight: read until settled(snapshot) holds, by
    default until the frames the drivers delivered equal the frames the stack accounted
    for (a stray frame between the two reads of one snapshot makes them differ for a
    moment)."""
    st = None
    for _ in range(tries):
        time.sleep(settle)
        st = stats(s)
        if settled(st):
            return st
    return st


def ping_ttls(ns, dst, count=3):
    """Ping and return the TTLs of the echo replies (from ping's per-reply lines)."""
    cp = subprocess.run(["timeout", "20", "ip", "netns", "exec", ns, "ping", "-n", "-c",
                         str(count), "-i", "0.2", "-W", "2", dst],
                        capture_output=True, text=True, check=False, timeout=30)
    return [int(x.split("=")[1]) for x in cp.stdout.split() if x.startswith("ttl=")]


def delta(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


DROP_PREFIX = "stack.drop."


def drop_deltas(before, after):
    """Stack-wide drop reasons that changed: {reason: delta}."""
    out = {}
    for k, v in after.items():
        if k.startswith(DROP_PREFIX) and isinstance(v, int):
            d = v - before.get(k, 0)
            if d:
                out[k[len(DROP_PREFIX):]] = d
    return out


def accounting(st):
    """Frames the drivers delivered vs frames the stack accounted for (forwarded, consumed,
    or dropped with a reason). Equal when nothing is in flight."""
    delivered = st.get("lan.rx_packets", 0) + st.get("wan.rx_packets", 0)
    accounted = (st.get("stack.fwd_frames", 0) + st.get("stack.local_frames", 0) +
                 st.get("stack.rx_drops", 0))
    return delivered, accounted


def check_stacks(c, s, max_fraction=0.75):
    """`tasks`: every checked task stack stayed below max_fraction of its size."""
    rows = []
    for line in s.command("tasks").splitlines()[1:]:
        f = line.split()
        if len(f) >= 4 and f[0].isdigit():
            rows.append((f[1], int(f[-2]), int(f[-1])))
    c.check(any(r[0] == "rx_lan" for r in rows) and any(r[0] == "shell" for r in rows),
            "`tasks` lists the RX and shell tasks", str(rows))
    worst = max(rows, key=lambda r: r[1] / r[2]) if rows else ("-", 0, 1)
    c.check(all(u <= max_fraction * n for _, u, n in rows),
            f"every task stack below {int(max_fraction * 100)}% of its size (worst "
            f"{worst[0]}: {worst[1]} of {worst[2]} bytes)", str(rows))


def tap_tx_dropped(side):
    """Frames the host kernel dropped on the way into QEMU (tap queue full because QEMU
    did not read it: the device had no free RX buffers). Invisible to the guest."""
    cp = subprocess.run(["ip", "netns", "exec", side.ns, "cat",
                         f"/sys/class/net/{side.tap}/statistics/tx_dropped"],
                        capture_output=True, text=True, check=False, timeout=10)
    try:
        return int(cp.stdout.strip())
    except ValueError:
        return -1


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ns_mac(ns, dev):
    cp = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "dev", dev],
                        capture_output=True, text=True, check=True, timeout=10)
    return cp.stdout.split("link/ether", 1)[1].split()[0]


_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    # os.setns exists only from Python 3.12; Debian 12 ships 3.11.
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class InNamespace:
    """Run the calling thread inside a network namespace for the duration of a with block
    (setns on this thread only; sockets created inside stay bound to the namespace)."""

    def __init__(self, ns):
        self.ns = ns

    def __enter__(self):
        self.old = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        _setns(self.old)
        os.close(self.old)
        return False


class Background:
    """Run fn() in a thread and keep its result or exception."""

    def __init__(self, fn):
        self.result = None
        self.error = None
        self.t = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.t.start()

    def _run(self, fn):
        try:
            self.result = fn()
        except BaseException as e:  # pylint: disable=broad-except
            self.error = e

    def alive(self):
        return self.t.is_alive()

    def join(self, timeout):
        self.t.join(timeout)
        return not self.t.is_alive()


# ---- raw IPv4 frames (tests/qemu/router/bad_frames.py) --------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(addr):
    return socket.inet_aton(addr)


def ipv4_header(src, dst, payload_len, ttl=64, proto=17, df=False, ident=0x1234,
                version=4, ihl=5, total=None, good_csum=True):
    tot = 20 + payload_len if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tot, ident,
                    0x4000 if df else 0, ttl, proto, 0, ip4(src), ip4(dst))
    c = csum(h)
    if not good_csum:
        c ^= 0x5555
    return h[:10] + struct.pack("!H", c) + h[12:]


def udp(src, dst, sport, dport, data):
    ln = 8 + len(data)
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, ln)
    h = struct.pack("!HHHH", sport, dport, ln, 0)
    c = csum(pseudo + h + data) or 0xffff
    return struct.pack("!HHHH", sport, dport, ln, c) + data


def eth(dst_mac, src_mac, ethertype, payload):
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ethertype) + payload
