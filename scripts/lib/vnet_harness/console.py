"""Serial console of the guest over a QEMU pipe chardev.

QEMU's `-chardev pipe,path=P` reads the guest's input from FIFO P.in and writes
its output to FIFO P.out. One logger process per session copies P.out into a log
file for the whole session (so nothing the guest prints is lost, and the FIFO
never fills and stalls the guest's UART) and holds a writer on P.in open, so
QEMU never sees end-of-file on its input when a client closes its own writer.
Clients read the log file, never the FIFO, so several readers (bash, Python,
a person running `tail -f`) see the same text.

Console protocol of the firmware (the Linux router follows it too, with its own
prompt): a readiness line `router: ready`; a shell prompt (`vnet> `) printed at
the start of a line; a command line ends with a newline; the command's output
ends when the prompt is printed again; `stats -k` prints one `key=value` per line.
"""

import os
import re
import select
import sys
import time

from .util import HarnessError

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def clean(text):
    """Console text without terminal escapes and carriage returns."""
    return ANSI_RE.sub("", text).replace("\r", "")


def make_fifos(path):
    for suffix in (".in", ".out"):
        p = path + suffix
        if os.path.exists(p):
            os.unlink(p)
        os.mkfifo(p, 0o600)


def logger_main(argv):
    """Entry of the logger process: logger OUT_FIFO IN_FIFO LOG QEMU_PID.

    Exits when the QEMU process is gone (checked twice a second) or on SIGTERM.
    """
    out_fifo, in_fifo, log_path, qemu_pid = argv[0], argv[1], argv[2], int(argv[3])
    # O_RDWR on a FIFO never blocks on Linux, whether or not QEMU opened it yet.
    keep_in = os.open(in_fifo, os.O_RDWR)
    rd = os.open(out_fifo, os.O_RDWR)
    with open(log_path, "ab", buffering=0) as log:
        while True:
            r, _, _ = select.select([rd], [], [], 0.5)
            if r:
                data = os.read(rd, 65536)
                if data:
                    log.write(data)
                    continue
            try:
                os.kill(qemu_pid, 0)
            except ProcessLookupError:
                break
            try:
                with open(f"/proc/{qemu_pid}/stat", encoding="ascii") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except OSError:
                break
    os.close(rd)
    os.close(keep_in)
    return 0


class Console:
    """Client side: write commands to P.in, read answers from the session log."""

    def __init__(self, serial_path, log_path, prompt="vnet> ", eol="\n",
                 ready="router: ready"):
        self.in_path = serial_path + ".in"
        self.log_path = log_path
        self.prompt = prompt
        self.eol = eol
        self.ready = ready

    def _size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def _read_from(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def text(self, offset=0):
        return clean(self._read_from(offset))

    def wait_for(self, pattern, timeout, offset=0, alive=None, regex=False):
        """Wait until pattern appears in the log after byte offset.

        Returns the cleaned text from offset up to the end of the match.
        alive() returning False (QEMU gone) ends the wait early with an error.
        """
        deadline = time.monotonic() + timeout
        while True:
            t = self.text(offset)
            m = re.search(pattern, t) if regex else None
            if regex and m:
                return t[:m.end()]
            if not regex:
                i = t.find(pattern)
                if i >= 0:
                    return t[:i + len(pattern)]
            if alive is not None and not alive():
                raise HarnessError(f"guest exited while waiting for {pattern!r}; "
                                   f"console tail:\n{t[-1500:]}")
            if time.monotonic() >= deadline:
                raise HarnessError(f"timed out after {timeout}s waiting for {pattern!r}; "
                                   f"console tail:\n{t[-1500:]}")
            time.sleep(0.05)

    def wait_ready(self, timeout, alive=None):
        return self.wait_for(self.ready, timeout, 0, alive)

    def send_raw(self, data):
        # A reader (QEMU) holds the FIFO open, so this open does not block; the
        # session's logger holds another writer, so our close is not an EOF.
        try:
            fd = os.open(self.in_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            raise HarnessError(f"console input {self.in_path}: {e}") from e
        try:
            b = data.encode()
            while b:
                n = os.write(fd, b)
                b = b[n:]
        finally:
            os.close(fd)

    def command(self, cmd, timeout=10.0, alive=None):
        """Run one shell command; return its output (echo and prompt removed)."""
        start = self._size()
        self.send_raw(cmd + self.eol)
        deadline = time.monotonic() + timeout
        while True:
            t = self.text(start)
            out = self._split_output(t, cmd)
            if out is not None:
                return out
            if alive is not None and not alive():
                raise HarnessError(f"guest exited during {cmd!r}; console tail:\n{t[-1500:]}")
            if time.monotonic() >= deadline:
                raise HarnessError(f"timed out after {timeout}s on {cmd!r}; got:\n{t[-1500:]}")
            time.sleep(0.05)

    def _split_output(self, t, cmd):
        # The output is complete when the prompt appears at the start of a line after
        # the echoed command (or after any line, for a shell that does not echo).
        p = self.prompt
        search_from = 0
        if cmd:
            e = t.find(cmd)
            if e >= 0:
                nl = t.find("\n", e)
                if nl < 0:
                    return None
                search_from = nl + 1
        i = t.find(p, search_from)
        while i >= 0 and i > 0 and t[i - 1] != "\n":
            i = t.find(p, i + 1)
        if i < 0:
            return None
        return t[search_from:i]

    def sync(self, timeout=10.0, alive=None):
        """Send an empty line and wait for a fresh prompt (console is at the shell)."""
        start = self._size()
        self.send_raw(self.eol)
        self.wait_for(self.prompt, timeout, start, alive)

    def stats(self, cmd="stats -k", timeout=10.0, alive=None):
        return parse_kv(self.command(cmd, timeout, alive))


def parse_kv(text):
    """key=value lines into a dict (values as int where they are integers)."""
    d = {}
    for line in text.splitlines():
        line = line.strip()
        if "=" not in line or line.startswith("#"):
            continue
        k, v = line.split("=", 1)
        k, v = k.strip(), v.strip()
        if not k or " " in k:
            continue
        try:
            d[k] = int(v, 0)
        except ValueError:
            d[k] = v
    return d

