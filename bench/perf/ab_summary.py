#!/usr/bin/env python3
"""Medians of an ab.sh run, with ratios to the best Linux variant and to the limit row.

usage: ab_summary.py TSV [LIMIT_NAME [tcp|udp]]
TSV rows come from abrow.py (name, round, kind, rate, retransmits, drops, reasons, host
tap drops). Per name: the median rate over its rounds, min-max, the median retransmits,
router drops and host tap drops per run (frames lost before the guest), and the drop
reasons seen. The Linux reference is picked here, not by the caller:
the Linux name (kind linux) with the highest median; LIMIT_NAME (default "minfwd", when
present) is the minimal forwarder. All figures QEMU TCG, from one interleaved run.
"""
import statistics
import sys


def read(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 7:
                continue
            rows.append(dict(name=p[0], round=p[1], kind=p[2], rate=_num(p[3]),
                             rtx=_num(p[4]), drops=_num(p[5]), reasons=p[6],
                             taps=_num(p[7]) if len(p) > 7 else None))
    return rows


def _num(s):
    try:
        return float(s)
    except ValueError:
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarise(rows, limit="minfwd"):
    """{name: figures} in first-seen order, plus the best Linux name."""
    names = list(dict.fromkeys(r["name"] for r in rows))
    out = {}
    for n in names:
        rs = [r for r in rows if r["name"] == n]
        rates = [r["rate"] for r in rs if r["rate"] is not None]
        out[n] = dict(kind=rs[0]["kind"], rounds=len(rs), rate=med(rates),
                      lo=min(rates) if rates else None, hi=max(rates) if rates else None,
                      rtx=med([r["rtx"] for r in rs]), drops=med([r["drops"] for r in rs]),
                      taps=med([r.get("taps") for r in rs]),
                      taps_all=[r.get("taps") for r in rs],
                      reasons=sorted({r["reasons"] for r in rs if r["reasons"] not in ("0", "")}))
    lx = [n for n in names if out[n]["kind"] == "linux" and out[n]["rate"] is not None]
    best = max(lx, key=lambda n: out[n]["rate"]) if lx else None
    return out, best, (limit if limit in out else None)


def fmt(v):
    return "n/a" if v is None else f"{v:,.0f}"


def fmt_rate(v, udp):
    """TCP: bits/s shown in Mbit/s; UDP: forwarded frames/s as they are."""
    if v is None:
        return "n/a"
    return fmt(v) if udp else f"{v / 1e6:,.0f}"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, best, limit = summarise(read(sys.argv[1]), *(sys.argv[2:3]))
    udp = len(sys.argv) > 3 and sys.argv[3] == "udp"
    print("\n== medians (QEMU TCG, one interleaved run; rate in Mbit/s for TCP, frames/s "
          "for UDP)")
    if best:
        print(f"   best Linux variant (picked automatically): {best}")
    for n, s in out.items():
        ratios = []
        for ref, tag in ((best, "best Linux"), (limit, "limit")):
            if ref and ref != n and s["rate"] and out[ref]["rate"]:
                ratios.append(f"{s['rate'] / out[ref]['rate']:.2f}x {tag}")
        print(f"   {n:14s} {fmt_rate(s['rate'], udp):>8s} ({fmt_rate(s['lo'], udp)}-"
              f"{fmt_rate(s['hi'], udp)}) "
              f"rounds {s['rounds']}  retransmits/run {fmt(s['rtx'])}  drops/run "
              f"{fmt(s['drops'])}{' [' + '; '.join(s['reasons']) + ']' if s['reasons'] else ''}"
              f"  tap drops/run {fmt(s['taps'])} ({'/'.join(fmt(v) for v in s['taps_all'])})"
              f"{'  ' + ', '.join(ratios) if ratios else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
