"""vnet-rtos test/benchmark harness: namespaces + taps + QEMU + serial console.

From Python (tests put scripts/lib on sys.path):

    from vnet_harness import Session, QemuConfig, NicConfig, guests
    with Session(guests.linux(gro=False), QemuConfig(None, nic=NicConfig(offloads=False))) as s:
        print(s.ping()["loss_pct"], s.iperf3(seconds=5)["bits_per_second"])
        print(s.stats())

From bash: scripts/lib/harness.sh (functions over the `vnet-harness` CLI).
"""

from .console import Console, parse_kv
from .qemu import DEFAULT_MACHINE, DEFAULT_OFFLOADS, NicConfig, QemuConfig, Qmp
from .session import Session, reap
from .traffic import fmt_rate, iperf3, ping, xfer
from .util import HarnessError
from . import guests

__all__ = ["Console", "parse_kv", "DEFAULT_MACHINE", "DEFAULT_OFFLOADS", "NicConfig", "QemuConfig", "Qmp", "Session", "reap",
           "fmt_rate", "iperf3", "ping", "xfer", "HarnessError", "guests"]
