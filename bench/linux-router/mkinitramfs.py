#!/usr/bin/env python3
"""Build the Linux router guest (contender 3) from installed Debian packages only.

Kernel: /boot/vmlinuz-VERSION from linux-image-amd64; its virtio-net modules and
their dependencies, in load order, from `modprobe -S VERSION --show-depends`.
Userland: busybox-static, plus Debian's ethtool and the shared libraries ldd names
(busybox has no ethtool, and GRO can only be switched off through it), and iproute2's tc
when the host has it (busybox's tc shows no statistics; the bench reads the qdiscs' drop
counters through it: stats.sh).

The initramfs is a plain (uncompressed) newc cpio: decompressing under TCG costs
more boot time than reading a few extra MiB through fw_cfg. It is cached under
build-bench/linux-router/, keyed by everything that goes into it.

arm64 (--arch arm64, the aarch64 `virt` board's Linux contender): nothing of the host's
is used. Debian's arm64 packages (the kernel linux-image-arm64 depends on, busybox-static,
ethtool and its libraries) are fetched with `apt-get download` once `dpkg
--add-architecture arm64` is in place, unpacked with `dpkg-deb -x` under
build-bench/linux-router/arm64-root/, and the module chain is read from each module's own
`depends=` field (no depmod needed). No tc in that image (iproute2:arm64 pulls in a dozen
libraries): its qdisc drop counters are absent, the IP and interface counters are there.

Usage: mkinitramfs.py [--arch amd64|arm64] [--build-dir DIR] [--kernel-version V] [--force]
Prints "KERNEL INITRD" on stdout.
"""

import argparse
import hashlib
import lzma
import os
import re
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BUILD = os.path.join(REPO, "build-bench", "linux-router")
MODULES = ("virtio_pci", "virtio_net")
# arm64: the virt board's NICs are on virtio-mmio or PCIe (scripts/run.sh --transport).
MODULES_ARM64 = ("virtio_mmio", "virtio_pci", "virtio_net")
ARM64_PACKAGES = ("busybox-static", "ethtool", "libmnl0", "libc6")
PROMPT = "linux-router# "
READY = "router: ready"
STATS_CMD = "stats -k"
FORMAT_VERSION = "1"


class BuildError(Exception):
    pass


def _version_key(v):
    return [int(x) if x.isdigit() else x for x in re.split(r"[.-]", v)]


def find_kernel(version=None):
    """(version, vmlinuz path) of an installed kernel that has its module tree."""
    cands = []
    for name in os.listdir("/boot"):
        if not name.startswith("vmlinuz-"):
            continue
        v = name[len("vmlinuz-"):]
        if os.path.isfile(f"/lib/modules/{v}/modules.dep"):
            cands.append(v)
    if version:
        if version not in cands:
            raise BuildError(f"kernel {version}: no /boot/vmlinuz-{version} with modules")
        return version, f"/boot/vmlinuz-{version}"
    if not cands:
        raise BuildError("no kernel in /boot with a module tree "
                         "(apt-get install linux-image-amd64)")
    v = max(cands, key=_version_key)
    return v, f"/boot/vmlinuz-{v}"


def module_chain(version):
    """Module files in load order (dependencies first), without repeats."""
    seen, order = set(), []
    for mod in MODULES:
        # One module per call: further words would be taken as module parameters.
        cp = subprocess.run(["modprobe", "-S", version, "--show-depends", mod],
                            capture_output=True, text=True, timeout=30, check=False)
        if cp.returncode != 0:
            raise BuildError(f"modprobe --show-depends {mod}: {cp.stderr.strip()}")
        for line in cp.stdout.splitlines():
            parts = line.split()
            # "builtin NAME": compiled into the kernel, nothing to load.
            if len(parts) >= 2 and parts[0] == "insmod" and parts[1] not in seen:
                seen.add(parts[1])
                order.append(parts[1])
    return order


def shared_libs(binary):
    """Absolute paths of the shared objects (and the loader) that binary needs."""
    cp = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30,
                        check=False)
    if cp.returncode != 0:
        return []  # static, or not an ELF we can inspect
    libs = []
    for line in cp.stdout.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            libs.append(m.group(1))
    return libs


def which(name, paths=("/usr/sbin", "/sbin", "/usr/bin", "/bin")):
    for d in paths:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


class Cpio:
    """Writer of the "newc" cpio format the kernel unpacks as an initramfs."""

    def __init__(self):
        self.chunks = []
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{x:08X}" for x in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self.ino += 1
        buf = hdr.encode() + name_b
        buf += b"\0" * (-len(buf) % 4)
        buf += data
        buf += b"\0" * (-len(buf) % 4)
        self.chunks.append(buf)

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.dirs:
                self.dirs.add(p)
                self._entry(p, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFREG | mode, data)

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFCHR | mode, rdev=(major, minor))

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        out = b"".join(self.chunks)
        return out + b"\0" * (-len(out) % 512)


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".zst"):
        raise BuildError(f"{path}: zstd-compressed modules are not supported")
    return data


def inputs(kernel_version=None):
    version, vmlinuz = find_kernel(kernel_version)
    mods = module_chain(version)
    busybox = "/bin/busybox"
    if not os.path.isfile(busybox):
        raise BuildError("no /bin/busybox (apt-get install busybox-static)")
    if shared_libs(busybox):
        raise BuildError("/bin/busybox is dynamically linked: install busybox-static")
    ethtool = which("ethtool")
    if not ethtool:
        raise BuildError("no ethtool (apt-get install ethtool)")
    return version, vmlinuz, mods, busybox, ethtool, shared_libs(ethtool)


# Optional tools: (path in the image, name on the host). Left out when the host lacks one.
OPTIONAL_TOOLS = (("sbin/tc", "tc"),)


def optional_tools():
    """[(path in the image, host path, its shared libraries)] of the optional tools."""
    out = []
    for dest, name in OPTIONAL_TOOLS:
        p = which(name)
        if p:
            out.append((dest, p, shared_libs(p)))
    return out


def _run(argv, **kw):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, **kw)
    if cp.returncode != 0:
        raise BuildError(f"{' '.join(argv)}: {(cp.stderr or cp.stdout).strip()[-400:]}")
    return cp.stdout


def arm64_root(build_dir):
    """Unpacked arm64 packages (kernel, busybox, ethtool, libc) under build_dir; fetched once."""
    root = os.path.join(build_dir, "arm64-root")
    done = os.path.join(root, ".complete")
    if os.path.isfile(done):
        return root
    if "arm64" not in _run(["dpkg", "--print-foreign-architectures"]).split():
        _run(["dpkg", "--add-architecture", "arm64"])
        _run(["apt-get", "update", "-q"])
    deps = _run(["apt-cache", "depends", "linux-image-arm64:arm64"])
    if "linux-image-" not in deps:  # the arm64 package lists were never read
        _run(["apt-get", "update", "-q"])
        deps = _run(["apt-cache", "depends", "linux-image-arm64:arm64"])
    m = re.search(r"Depends:\s*(linux-image-[0-9][^\s:]*-arm64)", deps)
    if not m:
        raise BuildError("apt-cache depends linux-image-arm64:arm64 names no kernel package")
    pkgs = [m.group(1)] + list(ARM64_PACKAGES)
    debs = os.path.join(build_dir, "arm64-debs")
    os.makedirs(debs, exist_ok=True)
    os.chmod(debs, 0o777)  # apt-get download runs as _apt where it can
    _run(["apt-get", "download", "-q"] + [p + ":arm64" for p in pkgs], cwd=debs)
    tmp = root + ".tmp"
    if os.path.isdir(tmp):
        subprocess.run(["rm", "-rf", tmp], check=False)
    os.makedirs(tmp)
    for n in sorted(os.listdir(debs)):
        if n.endswith(".deb"):
            _run(["dpkg-deb", "-x", os.path.join(debs, n), tmp])
    with open(os.path.join(tmp, ".complete"), "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(os.listdir(debs))) + "\n")
    if os.path.isdir(root):
        subprocess.run(["rm", "-rf", root], check=False)
    os.replace(tmp, root)
    return root


def _in_root(root, path):
    """path (absolute, inside the unpacked tree) with its symlinks resolved in root."""
    for _ in range(40):
        full = os.path.join(root, path.lstrip("/"))
        if not os.path.islink(full):
            return full
        t = os.readlink(full)
        path = t if t.startswith("/") else os.path.join(os.path.dirname(path), t)
    raise BuildError(f"{path}: symlink loop")


def modinfo_depends(path):
    """The module names in a .ko's `depends=` modinfo string."""
    data = read_module(path)
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
    return [d for d in m.group(1).decode().split(",") if d] if m else []


def module_chain_in_tree(moddir, wanted):
    """Module files under moddir (a lib/modules/VERSION) in load order, deps first."""
    index = {}
    for dp, _, files in os.walk(os.path.join(moddir, "kernel")):
        for n in files:
            base = n.split(".ko")[0]
            if ".ko" in n:
                index[base.replace("-", "_")] = os.path.join(dp, n)
    order, seen = [], set()

    def visit(name, depth=0):
        key = name.replace("-", "_")
        if key in seen:
            return
        if depth > 32:
            raise BuildError(f"module dependency loop at {name}")
        seen.add(key)
        path = index.get(key)
        if path is None:
            return  # built into the kernel (e.g. virtio, virtio_ring on arm64)
        for d in modinfo_depends(path):
            visit(d, depth + 1)
        order.append(path)

    for w in wanted:
        visit(w)
    return order


def elf_needed(path):
    """DT_NEEDED names and the interpreter of an ELF (binutils' readelf; any architecture)."""
    out = _run(["readelf", "-d", "-l", path])
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return needed, (interp.group(1) if interp else None)


def arm64_libs(root, binary):
    """[(path in image, file in root)] of binary's shared libraries and loader."""
    dirs = ("/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib")
    out, todo, seen = [], [binary], set()
    while todo:
        needed, interp = elf_needed(todo.pop())
        if interp and interp not in seen:
            seen.add(interp)
            out.append((interp, _in_root(root, interp)))
        for n in needed:
            if n in seen:
                continue
            seen.add(n)
            for d in dirs:
                f = _in_root(root, os.path.join(d, n))
                if os.path.isfile(f):
                    out.append((os.path.join(d, n), f))
                    todo.append(f)
                    break
            else:
                raise BuildError(f"{binary}: {n} not in the arm64 packages")
    return out


def inputs_arm64(build_dir, kernel_version=None):
    root = arm64_root(build_dir)
    vers = sorted((n for n in os.listdir(os.path.join(root, "lib", "modules"))),
                  key=_version_key)
    if kernel_version:
        if kernel_version not in vers:
            raise BuildError(f"arm64 kernel {kernel_version} not unpacked (have {vers})")
        vers = [kernel_version]
    if not vers:
        raise BuildError("no arm64 kernel modules unpacked")
    version = vers[-1]
    vmlinuz = os.path.join(root, "boot", f"vmlinuz-{version}")
    mods = module_chain_in_tree(os.path.join(root, "lib", "modules", version), MODULES_ARM64)
    busybox = os.path.join(root, "bin", "busybox")
    ethtool = _in_root(root, "/sbin/ethtool")
    for f in (vmlinuz, busybox, ethtool):
        if not os.path.isfile(f):
            raise BuildError(f"{f}: missing from the unpacked arm64 packages")
    return version, vmlinuz, mods, busybox, ethtool, arm64_libs(root, ethtool)


def cache_key(parts):
    h = hashlib.sha256(FORMAT_VERSION.encode())
    for p in parts:
        if os.path.isfile(p):
            st = os.stat(p)
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        else:
            h.update(f"{p}\n".encode())
    return h.hexdigest()[:16]


def build(build_dir=None, kernel_version=None, force=False, arch="amd64"):
    """Return (kernel, initrd) paths, building the initramfs if not cached."""
    build_dir = build_dir or DEFAULT_BUILD
    if arch == "arm64":
        version, vmlinuz, mods, busybox, ethtool, libs = inputs_arm64(build_dir, kernel_version)
        tools = []
    elif arch == "amd64":
        version, vmlinuz, mods, busybox, ethtool, libs = inputs(kernel_version)
        libs = [(lib, lib) for lib in libs]
        tools = [(d, p, [(lib, lib) for lib in ls]) for d, p, ls in optional_tools()]
    else:
        raise BuildError(f"unknown arch {arch!r} (amd64 or arm64)")
    own = [os.path.join(HERE, n) for n in ("init.sh", "stats.sh", "mkinitramfs.py")]
    key = cache_key([vmlinuz, busybox, ethtool] + mods + [f for _, f in libs] + own +
                    [p for t in tools for p in [t[1]] + [f for _, f in t[2]]])
    out = os.path.join(build_dir, f"initramfs-{version}-{key}.cpio")
    if os.path.isfile(out) and not force:
        return vmlinuz, out
    c = Cpio()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "etc", "lib/modules"):
        c.mkdir(d)
    # The kernel opens /dev/console for PID 1 before /init can mount devtmpfs.
    c.chardev("dev/console", 5, 1)
    with open(busybox, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    with open(ethtool, "rb") as f:
        c.file("sbin/ethtool", f.read(), 0o755)
    done = set()
    for dest, lib in libs + [lib for t in tools for lib in t[2]]:
        if dest in done:
            continue
        done.add(dest)
        with open(lib, "rb") as f:
            c.file(dest, f.read(), 0o755)
    for dest, path, _ in tools:
        with open(path, "rb") as f:
            c.file(dest, f.read(), 0o755)
    listing = []
    for m in mods:
        base = os.path.basename(m)
        for suffix in (".xz",):
            if base.endswith(suffix):
                base = base[:-len(suffix)]
        c.file("lib/modules/" + base, read_module(m))
        listing.append(base)
    c.file("etc/modules.list", ("\n".join(listing) + "\n").encode())
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        c.file("init", f.read(), 0o755)
    with open(os.path.join(HERE, "stats.sh"), "rb") as f:
        c.file("bin/stats", f.read(), 0o755)
    os.makedirs(build_dir, exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(c.bytes())
    os.replace(tmp, out)
    # Older cache entries (of this kernel flavour) are dead weight once their inputs changed.
    flavour = version.rsplit("-", 1)[-1]
    for n in os.listdir(build_dir):
        if n.startswith("initramfs-") and n.split("-")[-2:-1] == [flavour] and \
                os.path.join(build_dir, n) != out:
            os.unlink(os.path.join(build_dir, n))
    return vmlinuz, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=("amd64", "arm64"), default="amd64")
    ap.add_argument("--build-dir", default=DEFAULT_BUILD)
    ap.add_argument("--kernel-version")
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    a = ap.parse_args()
    try:
        k, i = build(a.build_dir, a.kernel_version, a.force, a.arch)
    except BuildError as e:
        print(f"mkinitramfs: {e}", file=sys.stderr)
        return 1
    print(k, i)
    return 0


if __name__ == "__main__":
    sys.exit(main())
