"""Scaffolding for the QEMU tests (tests/qemu/*): harness import, time budget, checks.

    import sys, os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    from qemutest import Checks, harness, run_test

    def body(c):
        with harness.Session(...) as s:
            c.check(s.ping()["loss_pct"] == 0, "ping across the router")

    sys.exit(run_test("name", body, budget=120))

A test passes only if it ran every check and none failed: there is no skip that
counts as a pass. Exit status: 0 pass, 1 fail, 2 could not run (not root, ...).
"""

import os
import signal
import sys
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))

import vnet_harness as harness  # noqa: E402  (path set just above)


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []
        self.t0 = time.monotonic()

    def check(self, cond, what, detail=""):
        t = time.monotonic() - self.t0
        if cond:
            self.passed += 1
            print(f"[{t:6.1f}s] ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"[{t:6.1f}s] FAIL {what} {detail}", flush=True)
        return bool(cond)

    def require(self, cond, what, detail=""):
        """A check the rest of the test depends on: stop at once if it fails."""
        if not self.check(cond, what, detail):
            raise AssertionError(f"required check failed: {what}")

    def note(self, msg):
        print(f"[{time.monotonic() - self.t0:6.1f}s]      {msg}", flush=True)


class _Budget(Exception):
    pass


def run_test(name, body, budget=120):
    """Run body(checks) within budget seconds; teardown runs on every exit path."""
    if os.geteuid() != 0:
        print(f"{name}: needs root (network namespaces, taps)", file=sys.stderr)
        return 2
    c = Checks(name)

    def on_alarm(_s, _f):
        raise _Budget(f"time budget of {budget}s exceeded")

    def on_term(signum, _f):
        raise SystemExit(128 + signum)

    old = {s: signal.signal(s, h) for s, h in
           ((signal.SIGALRM, on_alarm), (signal.SIGTERM, on_term), (signal.SIGHUP, on_term))}
    signal.alarm(int(budget))
    try:
        body(c)
    except (AssertionError, _Budget, harness.HarnessError) as e:
        c.failed.append(str(e))
        print(f"{name}: {e}", flush=True)
    except Exception:  # pylint: disable=broad-except
        c.failed.append("exception")
        traceback.print_exc()
    finally:
        signal.alarm(0)
        for s, h in old.items():
            signal.signal(s, h)
    ok = not c.failed and c.passed > 0
    print(f"{name}: {'PASS' if ok else 'FAIL'} ({c.passed} checks passed, "
          f"{len(c.failed)} failed, {time.monotonic() - c.t0:.1f}s)", flush=True)
    return 0 if ok else 1
