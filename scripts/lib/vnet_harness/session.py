"""A session: taps + namespaces + QEMU + console logger, with guaranteed teardown.

Everything a session creates is written to DIR/state.json before it is created,
so teardown (in this process, in a later `vnet-harness down`, or in `reap` after
the owner died) knows exactly what to remove and which PIDs are ours.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from . import console as console_mod
from . import topo, traffic
from .qemu import QemuProcess, qmp_command, qemu_cmdline_matches
from .util import (HarnessError, debug, log, pid_alive, pid_start_time, require_root,
                   same_process, stop_pid)

BASE_DIR = os.environ.get("VNET_HARNESS_DIR", "/tmp/vnet-harness")
LIB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEEP_FINISHED = 20  # finished sessions whose logs reap() keeps
_counter = [0]


def _new_id():
    # PID + a letter per session of this process: unique among live processes, short
    # enough for 15-character interface names ("vt" + id + "l").
    c = _counter[0]
    _counter[0] += 1
    return f"{os.getpid()}{chr(ord('a') + c % 26)}"


class _Signals:
    """Turn SIGTERM/SIGHUP into SystemExit so `finally` blocks run the teardown."""

    def __enter__(self):
        self.old = {}
        for s in (signal.SIGTERM, signal.SIGHUP):
            self.old[s] = signal.signal(s, self._raise)
        return self

    @staticmethod
    def _raise(signum, _frame):
        raise SystemExit(128 + signum)

    def __exit__(self, *exc):
        for s, h in self.old.items():
            signal.signal(s, h)
        return False


class Session:
    """Use as a context manager, or call up()/down() yourself.

    guest: a guests.Guest (kernel, initrd, append, prompt, readiness line).
    qemu_config: a qemu.QemuConfig; its kernel/initrd/append come from the guest.
    """

    def __init__(self, guest=None, qemu_config=None, run_id=None, owner_pid=None,
                 boot_timeout=None, state_dir=None):
        self.guest = guest
        self.qcfg = qemu_config
        self.run_id = run_id or _new_id()
        self.owner_pid = owner_pid or os.getpid()
        self.owner_start = pid_start_time(self.owner_pid)
        self.boot_timeout = boot_timeout or (guest.boot_timeout if guest else 60)
        self.dir = state_dir or os.path.join(BASE_DIR, self.run_id)
        self.lan, self.wan = topo.make_sides(self.run_id)
        self.serial = os.path.join(self.dir, "serial")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.console_log = os.path.join(self.dir, "console.log")
        self.qemu_log = os.path.join(self.dir, "qemu.log")
        self.qemu_pid = 0
        self.qemu_start = 0
        self.logger_pid = 0
        self.logger_start = 0
        self.status = "new"
        self._qemu = None
        self._logger = None
        self._signals = None
        self.console = None
        if guest is not None:
            self.console = console_mod.Console(self.serial, self.console_log, guest.prompt,
                                               guest.eol, guest.ready)

    # ---- state file -----------------------------------------------------------
    def _state(self):
        return dict(run_id=self.run_id, status=self.status, owner_pid=self.owner_pid,
                    owner_start=self.owner_start, lan=self.lan.to_dict(),
                    wan=self.wan.to_dict(), serial=self.serial, qmp=self.qmp_path,
                    console_log=self.console_log, qemu_log=self.qemu_log,
                    qemu_pid=self.qemu_pid, qemu_start=self.qemu_start,
                    logger_pid=self.logger_pid, logger_start=self.logger_start,
                    guest=self.guest.to_dict() if self.guest else None,
                    qemu_argv=self._qemu.argv if self._qemu else None)

    def save(self):
        tmp = os.path.join(self.dir, "state.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self._state(), f, indent=1)
        os.replace(tmp, os.path.join(self.dir, "state.json"))

    @classmethod
    def load(cls, state_dir):
        from .guests import Guest
        with open(os.path.join(state_dir, "state.json"), encoding="utf-8") as f:
            st = json.load(f)
        g = Guest.from_dict(st["guest"]) if st.get("guest") else None
        s = cls(g, run_id=st["run_id"], owner_pid=st["owner_pid"], state_dir=state_dir)
        s.owner_start = st["owner_start"]
        s.lan = topo.Side.from_dict(st["lan"])
        s.wan = topo.Side.from_dict(st["wan"])
        for k in ("status", "qemu_pid", "qemu_start", "logger_pid", "logger_start"):
            setattr(s, k, st[k])
        return s

    # ---- lifecycle -------------------------------------------------------------
    def alive(self):
        if self._qemu is not None:
            return self._qemu.alive()
        return same_process(self.qemu_pid, self.qemu_start)

    def up(self):
        require_root()
        if self.guest is None or self.qcfg is None:
            raise HarnessError("session needs a guest and a QEMU configuration")
        reap(quiet=True)
        os.makedirs(self.dir, exist_ok=True)
        for p in (self.console_log, self.qemu_log):
            open(p, "wb").close()
        self.status = "starting"
        self.save()
        try:
            self._up()
        except BaseException:
            log(f"session {self.run_id}: setup failed; tearing down")
            self.down()
            raise
        self.status = "up"
        self.save()
        return self

    def _up(self):
        for side in (self.lan, self.wan):
            topo.create_tap(side)
            topo.create_ns(side)
        console_mod.make_fifos(self.serial)
        self.qcfg.kernel = self.guest.kernel
        self.qcfg.initrd = self.guest.initrd
        self.qcfg.append = self.guest.append_for(self.lan, self.wan)
        argv = self.qcfg.argv(self.lan, self.wan, self.serial, self.qmp_path)
        self._qemu = QemuProcess(argv, self.qemu_log)
        self.qemu_pid, self.qemu_start = self._qemu.pid, self._qemu.start_time
        self.save()
        env = dict(os.environ)
        env["PYTHONPATH"] = LIB_DIR + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._logger = subprocess.Popen(
            [sys.executable, "-m", "vnet_harness._helper", "logger", self.serial + ".out",
             self.serial + ".in", self.console_log, str(self.qemu_pid)],
            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.logger_pid = self._logger.pid
        self.logger_start = pid_start_time(self.logger_pid)
        self.save()
        for side in (self.lan, self.wan):
            try:
                topo.wait_carrier(side, 15, self.alive)
            except HarnessError as e:
                raise HarnessError(f"{e}\nqemu log:\n{self._qemu.log_tail()}") from e
            topo.move_and_configure(side)
        t0 = time.monotonic()
        self.console.wait_ready(self.boot_timeout, self.alive)
        self.boot_seconds = time.monotonic() - t0
        debug(f"guest ready after {self.boot_seconds:.1f}s")
        self.console.sync(10, self.alive)

    def down(self):
        """Idempotent teardown. Returns the list of things that could not be removed."""
        if self._qemu is not None or self.qemu_pid:
            if self._qemu is None and not qemu_cmdline_matches(self.qemu_pid):
                pass  # the PID now names another program: not ours to stop
            else:
                stop_pid(self.qemu_pid, self.qemu_start, grace=5.0)
            if self._qemu is not None:
                self._qemu.close()
        if self.logger_pid:
            stop_pid(self.logger_pid, self.logger_start)
        problems = []
        for side in (self.lan, self.wan):
            problems += topo.teardown_side(side)
        # Deleting a namespace is asynchronous: a tap may pop back into the root
        # namespace a moment later. Look again before declaring it gone.
        deadline = time.monotonic() + 5
        while True:
            left = topo.side_leftovers(self.lan) + topo.side_leftovers(self.wan)
            if not left or time.monotonic() > deadline:
                break
            for side in (self.lan, self.wan):
                topo.teardown_side(side)
            time.sleep(0.1)
        for p in (self.serial + ".in", self.serial + ".out", self.qmp_path):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        if same_process(self.qemu_pid, self.qemu_start):
            left.append(f"qemu pid {self.qemu_pid}")
        self.status = "down" if not left else "down-with-leftovers"
        if os.path.isdir(self.dir):
            self.save()
        if left:
            log(f"session {self.run_id}: left behind: {', '.join(left)} {problems}")
        return left

    def leftovers(self):
        left = topo.side_leftovers(self.lan) + topo.side_leftovers(self.wan)
        if same_process(self.qemu_pid, self.qemu_start):
            left.append(f"qemu pid {self.qemu_pid}")
        if same_process(self.logger_pid, self.logger_start):
            left.append(f"logger pid {self.logger_pid}")
        return left

    def __enter__(self):
        self._signals = _Signals().__enter__()
        try:
            return self.up()
        except BaseException:
            self._signals.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        try:
            self.down()
        finally:
            self._signals.__exit__(*exc)
        return False

    # ---- conveniences ------------------------------------------------------------
    def command(self, cmd, timeout=10.0):
        return self.console.command(cmd, timeout, self.alive)

    def stats(self, timeout=10.0):
        return console_mod.parse_kv(self.command(self.guest.stats_cmd, timeout))

    def ping(self, frm="lan", **kw):
        src, dst = (self.lan, self.wan) if frm == "lan" else (self.wan, self.lan)
        return traffic.ping(src.ns, kw.pop("dst", dst.host_ip), **kw)

    def iperf3(self, **kw):
        """iperf3 client in lan, server in wan (reverse=True: data flows WAN->LAN)."""
        return traffic.iperf3(self.lan.ns, self.wan.ns, self.wan.host_ip, **kw)

    def xfer(self, nbytes, frm="lan", **kw):
        src, dst = (self.lan, self.wan) if frm == "lan" else (self.wan, self.lan)
        return traffic.xfer(src.ns, dst.ns, dst.host_ip, nbytes, **kw)

    def qmp(self, cmd, arguments=None, /, **kw):
        """QMP command with arguments as a dict and/or keywords (any names)."""
        return qmp_command(self.qmp_path, cmd, dict(arguments or {}, **kw))

    def set_link(self, role, up):
        """Carrier of the guest NIC on the given side (QMP set_link on its netdev)."""
        return self.qmp("set_link", name=role, up=bool(up))

    def describe(self):
        return dict(state=self.dir, run_id=self.run_id, lan_ns=self.lan.ns,
                    wan_ns=self.wan.ns, lan_tap=self.lan.tap, wan_tap=self.wan.tap,
                    lan_ip=self.lan.host_ip, wan_ip=self.wan.host_ip,
                    router_lan=self.lan.router_ip, router_wan=self.wan.router_ip,
                    console_log=self.console_log, qemu_log=self.qemu_log,
                    serial_in=self.serial + ".in", qmp=self.qmp_path,
                    qemu_pid=self.qemu_pid, prompt=self.guest.prompt if self.guest else "")


NS_RE = re.compile(r"^vnet-(\d+)([a-z])-(lan|wan)$")


def reap(quiet=False):
    """Tear down sessions whose owner process is gone (crash, SIGKILL, power cut).

    Only sessions recorded under BASE_DIR, and namespaces/taps following our naming
    scheme whose owner PID is dead, are touched; a live owner's session never is.
    """
    reaped = []
    # Sessions with a state file are judged by their owner only. (The PID in a run id
    # is the process that called up(), which for the CLI exits once the guest is
    # ready while the owning script lives on.)
    recorded = set()
    if os.path.isdir(BASE_DIR):
        for name in sorted(os.listdir(BASE_DIR)):
            d = os.path.join(BASE_DIR, name)
            if not os.path.isfile(os.path.join(d, "state.json")):
                continue
            recorded.add(name)
            try:
                s = Session.load(d)
            except (OSError, ValueError, KeyError):
                continue
            if s.status in ("down",):
                continue
            if same_process(s.owner_pid, s.owner_start):
                continue
            if not quiet:
                log(f"reaping session {s.run_id} (owner {s.owner_pid} gone)")
            s.down()
            reaped.append(s.run_id)
    # Keep the logs of the newest finished sessions only.
    if os.path.isdir(BASE_DIR):
        done = []
        for name in os.listdir(BASE_DIR):
            st = os.path.join(BASE_DIR, name, "state.json")
            try:
                with open(st, encoding="utf-8") as f:
                    if json.load(f).get("status") == "down":
                        done.append((os.path.getmtime(st), name))
            except (OSError, ValueError):
                continue
        for _, name in sorted(done)[:-KEEP_FINISHED]:
            shutil.rmtree(os.path.join(BASE_DIR, name), ignore_errors=True)
    # Namespaces and taps without a state file (state dir removed by hand).
    for ns in topo.netns_list():
        m = NS_RE.match(ns)
        if m and m.group(1) + m.group(2) not in recorded and not pid_alive(int(m.group(1))):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
            reaped.append(ns)
    cp = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                        check=False)
    for line in cp.stdout.splitlines():
        m = re.match(r"^\d+: (vt(\d+)([a-z])[lw])[:@]", line)
        if m and m.group(2) + m.group(3) not in recorded and not pid_alive(int(m.group(2))):
            subprocess.run(["ip", "link", "del", "dev", m.group(1)], check=False,
                           capture_output=True)
            reaped.append(m.group(1))
    return reaped
