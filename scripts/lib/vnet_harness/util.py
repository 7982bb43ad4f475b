"""Process, command and PID helpers shared by the harness modules.

Every external command runs with a timeout; every process the harness starts is
remembered by PID and stopped by that PID only, after checking that the PID still
names the program we started (PIDs are reused).
"""

import os
import signal
import subprocess
import sys
import time

VERBOSE = os.environ.get("VNET_HARNESS_VERBOSE", "") not in ("", "0")


class HarnessError(Exception):
    """A step of the harness failed; the message says which and why."""


def log(msg):
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


def debug(msg):
    if VERBOSE:
        log(msg)


def run(argv, timeout=30, check=True, capture=True, input_text=None):
    """Run argv to completion within timeout seconds; return CompletedProcess."""
    debug("run: " + " ".join(argv))
    try:
        cp = subprocess.run(argv, timeout=timeout, check=False, text=True,
                            input=input_text,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"timed out after {timeout}s: {' '.join(argv)}") from e
    except FileNotFoundError as e:
        raise HarnessError(f"command not found: {argv[0]}") from e
    if check and cp.returncode != 0:
        err = (cp.stderr or "").strip()
        raise HarnessError(f"failed ({cp.returncode}): {' '.join(argv)}: {err}")
    return cp


def run_stoppable(argv, timeout, env=None):
    """Like run(check=False), but the child is stopped by PID with SIGTERM (then
    SIGKILL) if we are interrupted or time out. SIGTERM matters when argv is a
    `timeout` wrapper: it forwards SIGTERM to the command it watches, while a
    SIGKILL would orphan that command."""
    debug("run: " + " ".join(argv))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)
    start = pid_start_time(p.pid)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"timed out after {timeout}s: {' '.join(argv)}") from e
    finally:
        if p.returncode is None:
            stop_pid(p.pid, start)
            try:
                p.communicate(timeout=5)
            except (subprocess.TimeoutExpired, ValueError):
                pass
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


def ns_argv(ns, argv):
    """argv run inside network namespace ns (None = root namespace)."""
    return (["ip", "netns", "exec", ns] + list(argv)) if ns else list(argv)


def pid_alive(pid):
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (OSError, IndexError):
        return False


def pid_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pid_start_time(pid):
    """Kernel start time of pid in clock ticks (field 22 of /proc/PID/stat), or 0."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def same_process(pid, start_time):
    """True if pid still names the process whose start time we recorded."""
    return pid_alive(pid) and start_time and pid_start_time(pid) == start_time


def stop_pid(pid, start_time, grace=3.0):
    """SIGTERM, then SIGKILL after grace seconds, the process we started as pid.

    The recorded start time guards against signalling an unrelated process that
    reused the PID after ours exited.
    """
    if not same_process(pid, start_time):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    else:
        if same_process(pid, start_time):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # Reap it if it is our child, so no zombie outlives the session.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    end = time.monotonic() + 2.0
    while pid_alive(pid) and time.monotonic() < end:
        time.sleep(0.05)


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it is true or timeout seconds pass (then HarnessError)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def require_root():
    if os.geteuid() != 0:
        raise HarnessError("needs root (network namespaces, tap devices)")
