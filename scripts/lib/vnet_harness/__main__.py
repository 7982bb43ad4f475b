"""Command-line interface of the harness (what scripts/lib/harness.sh calls).

  vnet-harness up [guest/NIC options] [--owner-pid PID]   boot; print NAME=VALUE lines
  vnet-harness down STATE                                 tear down (idempotent)
  vnet-harness check STATE                                exit 1 if anything is left
  vnet-harness console STATE [--timeout S] COMMAND...     run a guest shell command
  vnet-harness stats STATE                                the guest's `stats -k`
  vnet-harness wait STATE PATTERN [--timeout S]           wait for console text
  vnet-harness ping STATE [--from lan|wan] [--count N]
  vnet-harness iperf STATE [--time S] [--udp] [--bitrate B] [--streams N] [--reverse]
  vnet-harness xfer STATE --bytes N [--from lan|wan]      checked transfer (sha256)
  vnet-harness qmp STATE COMMAND [JSON-ARGS]
  vnet-harness reap                                       clean up after dead owners

STATE is the session directory printed by `up` as VNET_STATE.
Exit status: 0 success, 1 failure, 2 usage error.
"""

import argparse
import json
import os
import shlex
import sys

from . import guests, traffic
from .qemu import (DEFAULT_MACHINE, DEFAULT_MEMORY_MIB, DEFAULT_OFFLOADS, MACHINES, NicConfig,
                   QemuConfig)
from .session import Session, _Signals, reap
from .util import HarnessError, log, require_root


def onoff(v):
    if v in ("on", "1", "true", "yes"):
        return True
    if v in ("off", "0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected on/off, got {v!r}")


def add_up_args(p):
    p.add_argument("--guest", choices=("firmware", "linux"), default="firmware")
    p.add_argument("--image", help="firmware ELF (default build-fw/apps/router/router.elf)")
    p.add_argument("--gro", type=onoff, default=True, help="Linux guest: GRO on|off")
    p.add_argument("--append", default="", help="extra kernel command line")
    p.add_argument("--machine", default=DEFAULT_MACHINE,
                   help="QEMU machine type: " + "|".join(MACHINES) + " (default %(default)s)")
    p.add_argument("--offloads", type=onoff, default=DEFAULT_OFFLOADS,
                   help="virtio-net checksum/segmentation offloads on|off (default "
                   f"{'on' if DEFAULT_OFFLOADS else 'off'}, as scripts/run.sh); with the "
                   "firmware guest, on also boots it with offloads=on")
    p.add_argument("--mrg-rxbuf", type=onoff, default=None)
    p.add_argument("--vectors", type=int, default=None, help="MSI-X vectors (0: INTx)")
    p.add_argument("--disable-legacy", type=onoff, default=None)
    p.add_argument("--disable-modern", type=onoff, default=None)
    p.add_argument("--event-idx", type=onoff, default=None)
    p.add_argument("--rx-queue-size", type=int, default=None)
    p.add_argument("--tx-queue-size", type=int, default=None)
    p.add_argument("--nic-prop", action="append", default=[], metavar="K=V",
                   help="any other virtio-net-pci property (repeatable)")
    p.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MIB, help="guest RAM in MiB")
    p.add_argument("--debug-exit", action="store_true",
                   help="add isa-debug-exit (0xf4); aarch64: semihosting exit")
    p.add_argument("--board", default="qemu-x86_64",
                   choices=("qemu-x86_64", "qemu-aarch64-virt"),
                   help="firmware board / QEMU system (default %(default)s)")
    p.add_argument("--mmio-modern", action="store_true",
                   help="qemu-aarch64-virt: virtio-mmio version 2 (default: QEMU's legacy)")
    p.add_argument("--transport", choices=("mmio", "pci"), default="mmio",
                   help="qemu-aarch64-virt: NICs on virtio-mmio (default) or PCIe")
    p.add_argument("--gic", choices=("2", "3"), default=None,
                   help="qemu-aarch64-virt: GIC version (default 3); 2 has the GICv2m MSI "
                   "frame, so virtio-net-pci runs on MSI-X")
    p.add_argument("--qemu-arg", action="append", default=[], help="extra QEMU argument")
    p.add_argument("--boot-timeout", type=float, default=60)
    p.add_argument("--owner-pid", type=int, default=None,
                   help="process whose death means the session may be reaped")


def config_from_args(a):
    bad = [kv for kv in a.nic_prop if "=" not in kv or kv.startswith("=")]
    if bad:
        raise HarnessError(f"--nic-prop takes KEY=VALUE, got {bad[0]!r}")
    extra = dict(kv.split("=", 1) for kv in a.nic_prop)
    nic = NicConfig(offloads=a.offloads, vectors=a.vectors, disable_legacy=a.disable_legacy,
                    disable_modern=a.disable_modern, event_idx=a.event_idx,
                    rx_queue_size=a.rx_queue_size, tx_queue_size=a.tx_queue_size,
                    mrg_rxbuf=a.mrg_rxbuf, extra=extra)
    if a.guest == "linux":
        arm = a.board == "qemu-aarch64-virt"
        # aarch64 TCG boots Debian's generic kernel in ~30-60 s here: a longer default wait.
        g = guests.linux(gro=a.gro, append=a.append, arch="arm64" if arm else "amd64",
                         boot_timeout=max(a.boot_timeout, 240) if arm else a.boot_timeout)
    else:
        append = a.append
        # NIC offloads on: the firmware must be told to negotiate them (docs/router.md).
        if a.offloads and "offloads=" not in append:
            append = (append + " offloads=on").strip()
        g = guests.firmware(a.image, append=append, boot_timeout=a.boot_timeout)
    return g, QemuConfig(None, machine=a.machine, memory_mib=a.memory, nic=nic,
                         debug_exit=a.debug_exit, extra_args=a.qemu_arg, board=a.board,
                         mmio_modern=a.mmio_modern, transport=a.transport, gic=a.gic)


def cmd_up(a):
    g, q = config_from_args(a)
    s = Session(g, q, owner_pid=a.owner_pid or os.getppid())
    s.up()
    for k, v in s.describe().items():
        print(f"VNET_{k.upper()}={shlex.quote(str(v))}")
    return 0


def load(a):
    return Session.load(a.state)


def cmd_down(a):
    s = load(a)
    return 1 if s.down() else 0


def cmd_check(a):
    left = load(a).leftovers()
    for x in left:
        print("left:", x)
    return 1 if left else 0


def cmd_console(a):
    s = load(a)
    words = a.command[1:] if a.command[:1] == ["--"] else a.command
    print(s.console.command(" ".join(words), a.timeout, s.alive), end="")
    return 0


def cmd_stats(a):
    s = load(a)
    print(s.console.command(s.guest.stats_cmd, a.timeout, s.alive), end="")
    return 0


def cmd_wait(a):
    s = load(a)
    s.console.wait_for(a.pattern, a.timeout, 0, s.alive, regex=a.regex)
    return 0


def cmd_ping(a):
    s = load(a)
    r = s.ping(a.frm, count=a.count, interval=a.interval)
    print(json.dumps(r) if a.json else
          f"ping {a.frm}: {r['received']}/{r['sent']} received, loss {r['loss_pct']:.1f}%, "
          f"rtt avg {r['rtt_avg_ms']} ms")
    return 0 if r["received"] > 0 else 1


def cmd_iperf(a):
    s = load(a)
    r = s.iperf3(seconds=a.time, udp=a.udp, bitrate=a.bitrate, streams=a.streams,
                 reverse=a.reverse, length=a.length)
    if a.json:
        print(json.dumps(r["json"]))
        return 0
    mode = "UDP" if a.udp else "TCP"
    direction = "WAN->LAN" if a.reverse else "LAN->WAN"
    line = f"iperf3 {mode} {direction} {a.streams} stream(s) {a.time}s: " \
           f"{traffic.fmt_rate(r['bits_per_second'])}"
    if a.udp:
        line += f", {r['packets']} datagrams, lost {r['lost_packets']} ({r['lost_pct']:.2f}%)"
    else:
        line += f", retransmits {r['retransmits']}"
    print(line)
    print(f"bits_per_second={r['bits_per_second']:.0f}")
    if a.udp:
        # For UDP, iperf3's bits_per_second is the sender's rate; what the router forwarded
        # is what the server received: datagrams sent minus those it reported lost.
        fwd = (r["packets"] - r["lost_packets"]) / a.time if a.time else 0.0
        print(f"forwarded_pps={fwd:.0f}")
    return 0


def cmd_xfer(a):
    s = load(a)
    r = s.xfer(a.bytes, a.frm, timeout=a.timeout)
    print(json.dumps(r))
    return 0 if r["ok"] else 1


def cmd_qmp(a):
    s = load(a)
    try:
        args = json.loads(a.args) if a.args else {}
    except ValueError as e:
        raise HarnessError(f"qmp: JSON-ARGS is not JSON: {e}") from e
    if not isinstance(args, dict):
        raise HarnessError("qmp: JSON-ARGS must be a JSON object, e.g. '{\"path\": \"/machine\"}'")
    print(json.dumps(s.qmp(a.command, args)))
    return 0


def cmd_reap(_a):
    for x in reap():
        print("reaped", x)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vnet-harness", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up")
    add_up_args(p)
    p.set_defaults(fn=cmd_up)
    for name, fn in (("down", cmd_down), ("check", cmd_check)):
        p = sub.add_parser(name)
        p.add_argument("state")
        p.set_defaults(fn=fn)
    p = sub.add_parser("console")
    p.add_argument("state")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_console)
    p = sub.add_parser("stats")
    p.add_argument("state")
    p.add_argument("--timeout", type=float, default=10)
    p.set_defaults(fn=cmd_stats)
    p = sub.add_parser("wait")
    p.add_argument("state")
    p.add_argument("pattern")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--regex", action="store_true")
    p.set_defaults(fn=cmd_wait)
    p = sub.add_parser("ping")
    p.add_argument("state")
    p.add_argument("--from", dest="frm", choices=("lan", "wan"), default="lan")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_ping)
    p = sub.add_parser("iperf")
    p.add_argument("state")
    p.add_argument("--time", type=int, default=10)
    p.add_argument("--udp", action="store_true")
    p.add_argument("--bitrate")
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--reverse", action="store_true")
    p.add_argument("--length", type=int)
    p.add_argument("--json", action="store_true", help="print iperf3's JSON")
    p.set_defaults(fn=cmd_iperf)
    p = sub.add_parser("xfer")
    p.add_argument("state")
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--from", dest="frm", choices=("lan", "wan"), default="lan")
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(fn=cmd_xfer)
    p = sub.add_parser("qmp")
    p.add_argument("state")
    p.add_argument("command")
    p.add_argument("args", nargs="?")
    p.set_defaults(fn=cmd_qmp)
    p = sub.add_parser("reap")
    p.set_defaults(fn=cmd_reap)
    a = ap.parse_args(argv)
    try:
        if a.cmd in ("up", "down", "reap", "ping", "iperf", "xfer"):
            require_root()
        # SIGTERM/SIGHUP become SystemExit so every command's `finally` stops the
        # processes it started (iperf3 server, transfer ends, a half-booted VM).
        with _Signals():
            return a.fn(a)
    except HarnessError as e:
        log(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
