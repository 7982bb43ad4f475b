"""The one QEMU configuration every contender runs in, and a QMP client.

Machine q35, 1 vCPU, TCG only (/dev/kvm on our machines is not hardware KVM),
no default devices, serial on a pipe chardev, QMP on a unix socket, two
virtio-net-pci NICs on tap backends (vhost off: there is no /dev/vhost-net).
"""

import json
import os
import socket
import subprocess
import time

from .util import HarnessError, debug, pid_alive, pid_start_time

# The defaults every entry point shares (scripts/run.sh, `vnet-harness up`, the tests'
# rtlib): change them here only. Offloads off: every frame crosses the wire MTU-sized with
# its checksum filled in, which is what the firmware handles without `offloads=on`.
DEFAULT_MACHINE = "q35"
# Name QEMU's threads ("CPU 0/TCG" for the vCPU; the main loop keeps the binary's name) so
# that a host profile (bench/lib/benchsuite/hostprof.py) can tell guest execution from the
# I/O thread that moves frames between the taps and the virtqueues. Costs nothing.
THREAD_NAMES = ["-name", "vnet,debug-threads=on"]
DEFAULT_OFFLOADS = False
DEFAULT_MEMORY_MIB = 256
MACHINES = ("q35", "pc")

# virtio-net-pci properties that are plain on/off switches (QEMU 7.2).
OFFLOAD_PROPS = ("csum", "guest_csum", "gso", "guest_tso4", "guest_tso6", "guest_ecn",
                 "guest_ufo", "host_tso4", "host_tso6", "host_ecn", "host_ufo", "mrg_rxbuf")
# Offloads that change what crosses the wire in one frame (checksum and segmentation);
# "offloads off" means every frame is MTU-sized with its checksum filled in.
SEGMENTATION_PROPS = ("csum", "guest_csum", "gso", "guest_tso4", "guest_tso6", "guest_ecn",
                      "guest_ufo", "host_tso4", "host_tso6", "host_ecn", "host_ufo")


class NicConfig:
    """Properties of one virtio-net-pci device. None leaves QEMU's default."""

    def __init__(self, offloads=DEFAULT_OFFLOADS, vectors=None, disable_legacy=None,
                 disable_modern=None, event_idx=None, rx_queue_size=None, tx_queue_size=None,
                 mrg_rxbuf=None, tx=None, romfile="", extra=None):
        self.offloads = offloads            # True: all on, False: all off, None: QEMU's
        self.vectors = vectors              # 0 disables MSI-X
        self.disable_legacy = disable_legacy
        self.disable_modern = disable_modern
        self.event_idx = event_idx
        self.rx_queue_size = rx_queue_size  # 256..1024, power of two
        self.tx_queue_size = tx_queue_size
        self.mrg_rxbuf = mrg_rxbuf
        self.tx = tx                        # "timer" or "bh"
        # "" skips the iPXE option ROM: no guest here boots from the network, and the
        # ROM costs boot time under TCG. None keeps QEMU's ROM.
        self.romfile = romfile
        self.extra = dict(extra or {})      # any other property=value

    def props(self):
        def onoff(v):
            return "on" if v else "off"
        p = []
        if self.offloads is not None:
            p += [f"{k}={onoff(self.offloads)}" for k in SEGMENTATION_PROPS]
        if self.mrg_rxbuf is not None:
            p.append(f"mrg_rxbuf={onoff(self.mrg_rxbuf)}")
        if self.vectors is not None:
            p.append(f"vectors={int(self.vectors)}")
        if self.disable_legacy is not None:
            p.append(f"disable-legacy={onoff(self.disable_legacy)}")
        if self.disable_modern is not None:
            p.append(f"disable-modern={'true' if self.disable_modern else 'false'}")
        if self.event_idx is not None:
            p.append(f"event_idx={onoff(self.event_idx)}")
        if self.rx_queue_size is not None:
            p.append(f"rx_queue_size={int(self.rx_queue_size)}")
        if self.tx_queue_size is not None:
            p.append(f"tx_queue_size={int(self.tx_queue_size)}")
        if self.tx is not None:
            p.append(f"tx={self.tx}")
        if self.romfile is not None:
            p.append(f"romfile={self.romfile}")
        p += [f"{k}={v}" for k, v in self.extra.items()]
        return p

    def to_dict(self):
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d):
        n = cls()
        n.__dict__.update(d)
        return n


# NicConfig properties that exist only on virtio-net-pci (not on virtio-net-device, the
# virtio-mmio NIC of the aarch64 virt board).
PCI_ONLY_PROPS = ("vectors=", "disable-legacy=", "disable-modern=", "romfile=")

# Boards (bsp/<name>): QEMU binary, default machine, extra arguments, and how a NIC is made.
#   qemu-x86_64        virtio-net-pci on q35 (or pc)
#   qemu-aarch64-virt  virtio-net-device on virt's virtio-mmio slots, LAN pinned to slot 0 and
#                      WAN to slot 1 (the firmware takes them in slot order); the guest leaves
#                      through semihosting (the x86 board's isa-debug-exit statuses).
BOARDS = {
    "qemu-x86_64": {"binary": "qemu-system-x86_64", "machine": "q35", "cpu": None},
    "qemu-aarch64-virt": {"binary": "qemu-system-aarch64", "machine": "virt,gic-version=3",
                          "cpu": "cortex-a53"},
}


class QemuConfig:
    """Everything that varies between contenders and test cases."""

    def __init__(self, kernel, initrd=None, append=None, memory_mib=DEFAULT_MEMORY_MIB, cpus=1,
                 machine=DEFAULT_MACHINE, nic=None, debug_exit=False, extra_args=None,
                 binary="qemu-system-x86_64", board="qemu-x86_64", mmio_modern=False,
                 cpu=None, transport="mmio", gic=None):
        self.kernel = kernel
        self.initrd = initrd
        self.append = append
        self.memory_mib = memory_mib
        self.cpus = cpus
        self.machine = machine
        self.nic = nic or NicConfig()   # applied to both NICs
        self.debug_exit = debug_exit    # isa-debug-exit at 0xf4: guest sets the exit code
        self.extra_args = list(extra_args or [])
        self.binary = binary
        # board: see BOARDS. For qemu-aarch64-virt the x86 defaults of machine/binary are
        # replaced by the board's; mmio_modern gives virtio-mmio version 2 (QEMU 7.2's
        # default is the legacy version 1).
        if board not in BOARDS:
            raise HarnessError(f"unknown board {board!r} (known: {', '.join(BOARDS)})")
        self.board = board
        self.mmio_modern = mmio_modern
        # qemu-aarch64-virt: "mmio" (virtio-net-device on the slots) or "pci"
        # (virtio-net-pci on virt's PCIe, INTx; the firmware uses PCIe when no slot has a NIC)
        if transport not in ("mmio", "pci"):
            raise HarnessError(f"unknown transport {transport!r} (mmio or pci)")
        self.transport = transport
        self.cpu = cpu
        # qemu-aarch64-virt: GIC architecture version 2 or 3 (None: the board's default, 3).
        # gic-version=2 gives a GICv2m MSI frame, with which the firmware runs
        # virtio-net-pci on MSI-X; with 3 it uses INTx (the board does not drive the ITS).
        if gic is not None and (board == "qemu-x86_64" or str(gic) not in ("2", "3")):
            raise HarnessError(f"gic {gic!r}: 2 or 3, qemu-aarch64-virt only")
        self.gic = None if gic is None else str(gic)
        if board != "qemu-x86_64":
            b = BOARDS[board]
            if machine in ("q35", "pc", None):
                self.machine = b["machine"]
            if binary == "qemu-system-x86_64":
                self.binary = b["binary"]
            self.cpu = cpu or b["cpu"]
            if self.gic is not None:
                opts = [o for o in self.machine.split(",") if not o.startswith("gic-version=")]
                self.machine = ",".join(opts + [f"gic-version={self.gic}"])

    def argv(self, lan, wan, serial_path, qmp_path, pidfile=None):
        """The QEMU command line. lan/wan are topo.Side objects (tap + guest MAC).

        The LAN NIC is created first so it gets the lower PCI slot, but guests must
        still identify the sides by MAC address, never by enumeration order.
        """
        board = getattr(self, "board", "qemu-x86_64")
        if board == "qemu-aarch64-virt":
            return self._argv_aarch64_virt(lan, wan, serial_path, qmp_path, pidfile)
        a = [self.binary, "-machine", self.machine, "-accel", "tcg", "-smp", str(self.cpus),
             "-m", str(self.memory_mib), "-nodefaults", "-nographic", "-no-reboot",
             "-kernel", self.kernel] + THREAD_NAMES
        if self.initrd:
            a += ["-initrd", self.initrd]
        if self.append:
            a += ["-append", self.append]
        a += ["-chardev", f"pipe,id=ser0,path={serial_path}", "-serial", "chardev:ser0",
              "-qmp", f"unix:{qmp_path},server=on,wait=off"]
        for side in (lan, wan):
            a += ["-netdev", f"tap,id={side.role},ifname={side.tap},script=no,downscript=no,"
                  "vhost=off",
                  "-device", ",".join(["virtio-net-pci", f"netdev={side.role}",
                                       f"mac={side.guest_mac}"] + self.nic.props())]
        if self.debug_exit:
            a += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if pidfile:
            a += ["-pidfile", pidfile]
        return a + self.extra_args

    def _argv_aarch64_virt(self, lan, wan, serial_path, qmp_path, pidfile):
        a = [self.binary, "-machine", self.machine, "-cpu", self.cpu or "cortex-a53",
             "-accel", "tcg", "-smp", str(self.cpus), "-m", str(self.memory_mib),
             "-nodefaults", "-nographic", "-no-reboot", "-kernel", self.kernel] + THREAD_NAMES
        if self.initrd:
            a += ["-initrd", self.initrd]
        if self.append:
            a += ["-append", self.append]
        a += ["-chardev", f"pipe,id=ser0,path={serial_path}", "-serial", "chardev:ser0",
              "-qmp", f"unix:{qmp_path},server=on,wait=off"]
        pci = getattr(self, "transport", "mmio") == "pci"
        props = self.nic.props() if pci else \
            [p for p in self.nic.props() if not p.startswith(PCI_ONLY_PROPS)]
        for slot, side in enumerate((lan, wan)):
            where = [] if pci else [f"bus=virtio-mmio-bus.{slot}"]
            a += ["-netdev", f"tap,id={side.role},ifname={side.tap},script=no,downscript=no,"
                  "vhost=off",
                  "-device", ",".join(["virtio-net-pci" if pci else "virtio-net-device",
                                       f"netdev={side.role}"] + where +
                                      [f"mac={side.guest_mac}"] + props)]
        if self.mmio_modern:
            a += ["-global", "virtio-mmio.force-legacy=false"]
        if self.debug_exit:
            a += ["-semihosting-config", "enable=on,target=native"]
        if pidfile:
            a += ["-pidfile", pidfile]
        return a + self.extra_args

    def to_dict(self):
        d = dict(self.__dict__)
        d["nic"] = self.nic.to_dict()
        return d


class QemuProcess:
    """A QEMU started in its own session so a terminal's Ctrl-C reaches only our
    script, whose teardown then stops QEMU by PID in the right order."""

    def __init__(self, argv, log_path):
        self.argv = argv
        self.log_path = log_path
        debug("qemu: " + " ".join(argv))
        self._log = open(log_path, "ab")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        except FileNotFoundError as e:
            self._log.close()
            raise HarnessError(f"{argv[0]} not found (apt-get install qemu-system-x86)") from e
        self.pid = self.proc.pid
        self.start_time = pid_start_time(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def exit_code(self):
        return self.proc.poll()

    def log_tail(self, n=20):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def close(self):
        self._log.close()


class Qmp:
    """Minimal QMP client: one connection, synchronous commands, events skipped."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(timeout)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise HarnessError(f"QMP socket {path}: {e}") from e
                time.sleep(0.1)
        self._buf = b""
        self._recv()  # greeting
        self.execute("qmp_capabilities")

    def _recv(self):
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise HarnessError("QMP connection closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, arguments=None, /, **kw):
        """Run QMP command `cmd`. Its arguments come as a dict, as keywords, or both:
        the positional-only parameters let QMP arguments use any name (path, cmd...)."""
        args = dict(arguments or {}, **kw)
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._recv()
            if "event" in r:
                continue
            if "error" in r:
                raise HarnessError(f"QMP {cmd}: {r['error'].get('desc', r['error'])}")
            return r.get("return")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def qmp_command(path, cmd, arguments=None, timeout=10.0):
    """One QMP command on a fresh connection. The command's own arguments are a dict, so
    names such as "path" or "timeout" (qom-get, ...) never collide with ours."""
    q = Qmp(path, timeout)
    try:
        return q.execute(cmd, arguments)
    finally:
        q.close()


def qemu_cmdline_matches(pid):
    """PID-reuse guard used by reap: the PID must still be a QEMU."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    return "qemu-system" in os.path.basename(exe)
