"""Guest profiles: what to boot and how its console behaves.

Both guests see the same two NICs: LAN first (MAC 52:54:00:18:00:01, 198.18.0.1/24),
then WAN (MAC 52:54:00:19:00:01, 198.19.0.1/24). Guests must pick the sides by MAC.
"""

import importlib.util
import os

from .util import HarnessError

# scripts/lib/vnet_harness/guests.py -> repository root
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIRMWARE_IMAGE = os.path.join(REPO, "build-fw", "apps", "router", "router.elf")


class Guest:
    def __init__(self, name, kernel, initrd=None, append="", prompt="vnet> ",
                 ready="router: ready", stats_cmd="stats -k", eol="\n", boot_timeout=60,
                 append_macs=False):
        self.name = name
        self.kernel = kernel
        self.initrd = initrd
        self.append = append
        self.prompt = prompt
        self.ready = ready
        self.stats_cmd = stats_cmd
        self.eol = eol
        self.boot_timeout = boot_timeout
        self.append_macs = append_macs  # add vnet.lan_mac=/vnet.wan_mac= to the cmdline

    def append_for(self, lan, wan):
        parts = [self.append] if self.append else []
        if self.append_macs:
            parts.append(f"vnet.lan_mac={lan.guest_mac} vnet.wan_mac={wan.guest_mac}")
        return " ".join(parts) or None

    def to_dict(self):
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d):
        g = cls(d["name"], d["kernel"])
        g.__dict__.update(d)
        return g


def firmware(image=None, append="", boot_timeout=60):
    """The router firmware (PVH ELF booted with -kernel)."""
    image = image or FIRMWARE_IMAGE
    if not os.path.isfile(image):
        raise HarnessError(f"firmware image not found: {image} (build the firmware first)")
    return Guest("firmware", image, None, append, prompt="vnet> ", stats_cmd="stats -k",
                 boot_timeout=boot_timeout)


def _linux_builder():
    path = os.path.join(REPO, "bench", "linux-router", "mkinitramfs.py")
    spec = importlib.util.spec_from_file_location("vnet_linux_router_mkinitramfs", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def linux(gro=True, build_dir=None, kernel_version=None, append="", boot_timeout=60,
          arch="amd64"):
    """Debian's kernel + a busybox initramfs doing the router job (contender 3).

    gro=False turns GRO off on both NICs (ethtool -K ... gro off) in the guest.
    arch="arm64": Debian's arm64 kernel and userland for the aarch64 virt board
    (fetched with apt-get download on first use: bench/linux-router/mkinitramfs.py).
    """
    b = _linux_builder()
    try:
        kernel, initrd = b.build(build_dir=build_dir, kernel_version=kernel_version,
                                 arch=arch)
    except b.BuildError as e:
        raise HarnessError(f"Linux router guest: {e}") from e
    console = "ttyAMA0" if arch == "arm64" else "ttyS0,115200"
    base = (f"console={console} quiet loglevel=3 panic=-1 "
            f"vnet.gro={'on' if gro else 'off'}")
    return Guest("linux", kernel, initrd, (base + " " + append).strip(),
                 prompt=b.PROMPT, ready=b.READY, stats_cmd=b.STATS_CMD,
                 boot_timeout=boot_timeout, append_macs=True)
