"""Traffic between the namespaces: ping, iperf3 and a checked bulk transfer.

Every run is bounded twice: by its own duration option and by an outer timeout
(`timeout -k`), so a wedged guest cannot hang a test or a benchmark.
"""

import hashlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

from .util import HarnessError, debug, ns_argv, run, run_stoppable, stop_pid, pid_start_time

PING_RE = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
RTT_RE = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")


def ping(ns, dst, count=5, interval=0.2, wait=1.0, size=None, timeout=None):
    """Ping dst from namespace ns. Returns dict(sent, received, loss_pct, rtt_*_ms)."""
    argv = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", str(wait)]
    if size is not None:
        argv += ["-s", str(size)]
    argv.append(dst)
    bound = timeout or (count * (interval + wait) + 10)
    cp = run_stoppable(["timeout", "-k", "2", str(int(bound))] + ns_argv(ns, argv),
                       timeout=bound + 5)
    m = PING_RE.search(cp.stdout)
    if not m:
        raise HarnessError(f"ping: unparsable output (rc {cp.returncode}): "
                           f"{cp.stdout.strip()} {cp.stderr.strip()}")
    sent, recv = int(m.group(1)), int(m.group(2))
    r = dict(sent=sent, received=recv,
             loss_pct=100.0 * (sent - recv) / sent if sent else 100.0,
             rtt_min_ms=None, rtt_avg_ms=None, rtt_max_ms=None, rtt_mdev_ms=None)
    m = RTT_RE.search(cp.stdout)
    if m:
        r.update(rtt_min_ms=float(m.group(1)), rtt_avg_ms=float(m.group(2)),
                 rtt_max_ms=float(m.group(3)), rtt_mdev_ms=float(m.group(4)))
    return r


def _listening(ns, port, proto="tcp"):
    flag = "-Hltn" if proto == "tcp" else "-Hlun"
    cp = run(ns_argv(ns, ["ss", flag, f"sport = :{port}"]), check=False)
    return bool(cp.stdout.strip())


def _wait_listening(ns, port, proc, timeout=10.0, what="server"):
    deadline = time.monotonic() + timeout
    while not _listening(ns, port):
        if proc.poll() is not None:
            raise HarnessError(f"{what} exited early (rc {proc.returncode})")
        if time.monotonic() >= deadline:
            raise HarnessError(f"{what} not listening on :{port} after {timeout}s")
        time.sleep(0.05)


def iperf3(client_ns, server_ns, server_ip, seconds=10, udp=False, bitrate=None, streams=1,
           reverse=False, length=None, port=5201, extra=None, omit=None):
    """One iperf3 run: server (`-1`, one test) in server_ns, client in client_ns.

    Returns a dict with the figures and the full JSON under "json". bitrate is
    iperf3's -b syntax ("100M"); for UDP without bitrate iperf3's 1 Mbit/s default
    applies, and "0" means unlimited (which starves QEMU: sweep instead).
    """
    seconds = int(seconds)
    bound = seconds + (omit or 0) + 20
    # The server is bounded too: should this process die without its `finally`
    # (SIGKILL), a `-1` server would otherwise wait for a client forever.
    srv = subprocess.Popen(["timeout", "-k", "3", str(bound + 15)] +
                           ns_argv(server_ns, ["iperf3", "-s", "-1", "-B", server_ip,
                                               "-p", str(port)]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    srv_start = pid_start_time(srv.pid)
    try:
        _wait_listening(server_ns, port, srv, what="iperf3 server")
        argv = ["iperf3", "-c", server_ip, "-p", str(port), "-J", "-t", str(seconds),
                "-P", str(int(streams)), "--connect-timeout", "5000"]
        if udp:
            argv.append("-u")
        if bitrate is not None:
            argv += ["-b", str(bitrate)]
        if reverse:
            argv.append("-R")
        if length is not None:
            argv += ["-l", str(length)]
        if omit is not None:
            argv += ["-O", str(int(omit))]
        argv += list(extra or [])
        cp = run_stoppable(["timeout", "-k", "3", str(bound)] + ns_argv(client_ns, argv),
                           timeout=bound + 10)
        try:
            j = json.loads(cp.stdout)
        except ValueError as e:
            raise HarnessError(f"iperf3 client: no JSON (rc {cp.returncode}): "
                               f"{cp.stderr.strip()[-500:]}") from e
        if "error" in j:
            raise HarnessError(f"iperf3: {j['error']}")
        return summarize_iperf3(j, udp)
    finally:
        stop_pid(srv.pid, srv_start)


def summarize_iperf3(j, udp):
    end = j.get("end", {})
    r = dict(udp=udp, json=j)
    if udp:
        s = end.get("sum", {})
        r.update(bits_per_second=s.get("bits_per_second", 0.0),
                 packets=s.get("packets", 0), lost_packets=s.get("lost_packets", 0),
                 lost_pct=s.get("lost_percent", 0.0), jitter_ms=s.get("jitter_ms", 0.0),
                 seconds=s.get("seconds", 0.0))
        # The receiver's view, where iperf3 reports it (3.12: sum_received is absent
        # for UDP; "sum" already holds the server-side loss figures).
        recv = end.get("sum_received")
        if recv:
            r["received_bits_per_second"] = recv.get("bits_per_second", 0.0)
    else:
        sent = end.get("sum_sent", {})
        recv = end.get("sum_received", {})
        r.update(bits_per_second=recv.get("bits_per_second", 0.0),
                 sent_bits_per_second=sent.get("bits_per_second", 0.0),
                 retransmits=sent.get("retransmits"), bytes=recv.get("bytes", 0),
                 seconds=recv.get("seconds", 0.0))
    return r


def fmt_rate(bps):
    for unit, div in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= div:
            return f"{bps / div:.2f} {unit}"
    return f"{bps:.0f} bit/s"


# ---- checked bulk transfer -------------------------------------------------------
# The sender streams a seeded pseudo-random byte sequence; both ends hash what
# they saw. Equal length and SHA-256 prove every byte crossed the router intact.

def sink_main(argv):
    """xfer-sink BIND_IP PORT TIMEOUT: accept one connection, print 'bytes sha256'."""
    ip, port, tmo = argv[0], int(argv[1]), float(argv[2])
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(1)
    ls.settimeout(tmo)
    c, _ = ls.accept()
    c.settimeout(tmo)
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.close()
    ls.close()
    print(n, h.hexdigest(), flush=True)
    return 0


def source_main(argv):
    """xfer-source DST_IP PORT NBYTES SEED TIMEOUT: send, print 'bytes sha256'."""
    ip, port, total, seed, tmo = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), \
        float(argv[4])
    rng = random.Random(seed)
    s = socket.create_connection((ip, port), timeout=tmo)
    h = hashlib.sha256()
    left = total
    while left > 0:
        chunk = rng.randbytes(min(left, 1 << 16))
        s.sendall(chunk)
        h.update(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
    # Wait for the sink to close: all bytes were consumed at the far end.
    while s.recv(4096):
        pass
    s.close()
    print(total, h.hexdigest(), flush=True)
    return 0


def xfer(src_ns, dst_ns, dst_ip, nbytes, port=5301, seed=None, timeout=60):
    """Send nbytes from src_ns to dst_ip (in dst_ns); return dict(ok, bytes, sha...)."""
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    me = [sys.executable, "-m", "vnet_harness._helper"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + \
        (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    sink = subprocess.Popen(["timeout", "-k", "2", str(int(timeout))] +
                            ns_argv(dst_ns, me + ["sink", dst_ip, str(port), str(timeout)]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    sink_start = pid_start_time(sink.pid)
    try:
        deadline = time.monotonic() + 10
        while not _listening(dst_ns, port):
            if sink.poll() is not None or time.monotonic() > deadline:
                raise HarnessError(f"xfer sink did not start: {sink.stderr.read()}")
            time.sleep(0.05)
        src = run_stoppable(["timeout", "-k", "2", str(int(timeout))] +
                            ns_argv(src_ns, me + ["source", dst_ip, str(port), str(nbytes),
                                                  str(seed), str(timeout)]),
                            timeout=timeout + 10, env=env)
        try:
            sout, serr = sink.communicate(timeout=timeout + 5)
        except subprocess.TimeoutExpired as e:
            raise HarnessError("xfer sink did not finish") from e
        if src.returncode != 0:
            raise HarnessError(f"xfer source failed: {src.stderr.strip()[-500:]}")
        if sink.returncode != 0:
            raise HarnessError(f"xfer sink failed: {serr.strip()[-500:]}")
        sn, sh = src.stdout.split()
        rn, rh = sout.split()
        r = dict(bytes_sent=int(sn), bytes_received=int(rn), sha_sent=sh, sha_received=rh,
                 seed=seed)
        r["ok"] = (r["bytes_sent"] == r["bytes_received"] == nbytes and sh == rh)
        debug(f"xfer {nbytes} B: {r}")
        return r
    finally:
        stop_pid(sink.pid, sink_start)

