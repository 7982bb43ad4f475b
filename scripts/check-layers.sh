#!/usr/bin/env bash
# Keeps docs/architecture.md's map of the tree true (a stage of scripts/test.sh):
#   1. every directory holding tracked (or new, unignored) files is covered by a row of the
#      map, or an ancestor's row; every row names a directory that exists;
#   2. every file of src/ and include/ has a row in the file table;
#   3. each C file's "project" #includes resolve only to what its directory's row allows
#      (the most specific row wins; "anything" = unchecked); src/ and include/ use only the
#      freestanding C headers listed there;
#   4. every public header in include/ compiles on its own.
# Prints each violation; exit 0 when there is none, 1 otherwise.
set -u -o pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
cc=${CC:-cc}
python3 - "$cc" <<'PY'
import os, re, subprocess, sys, tempfile

cc = sys.argv[1]
doc = open("docs/architecture.md", encoding="utf-8").read()
files = sorted(set(subprocess.run(
    ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
    capture_output=True, text=True, check=True).stdout.split()))
files = [f for f in files if os.path.exists(f)]
bad = []

# --- the two tables -------------------------------------------------------------------
def table(heading_re):
    m = re.search(heading_re, doc, re.M)
    if not m:
        return []
    rows = []
    for line in doc[m.end():].split("\n")[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set(cells[0]) <= set("-: "):
            continue
        rows.append(cells)
    return rows  # (the heading row is the match itself, the ---- row is skipped)

dir_rows = table(r"^\| directory \| job \| may include")
file_rows = table(r"^\| file \| job \|")
if not dir_rows or not file_rows:
    print("check-layers: docs/architecture.md lost its map tables")
    sys.exit(1)

rules = {}  # directory ("" = top) -> None (anything/no C) or (prefixes, names)
for cells in dir_rows:
    d = re.findall(r"`([^`]+)`", cells[0])[0].rstrip("/")
    d = "" if d == "." else d
    allow = cells[2] if len(cells) > 2 else ""
    if "anything" in allow or allow in ("—", "-", ""):
        rules[d] = None
        continue
    allow = re.split(r"\(never| not |;", allow)[0]
    toks = re.findall(r"`([^`]+)`", allow)
    rules[d] = ([t for t in toks if "/" in t], [t for t in toks if "/" not in t])

dirs = sorted({os.path.dirname(f) for f in files})
for d in dirs:
    covered = (d == "" and "" in rules) or any(
        r and (d == r or d.startswith(r + "/")) for r in rules)
    if not covered:
        bad.append(f"map: directory {d or '.'}/ has no row in docs/architecture.md")
for r in rules:
    if r and not any(f.startswith(r + "/") for f in files):
        bad.append(f"map: row {r}/ names no directory with files")

listed = set()
for cells in file_rows:
    toks = re.findall(r"`([^`]+)`", cells[0])
    base = os.path.dirname(toks[0])
    for t in toks:
        listed.add(t if "/" in t else os.path.join(base, t))
for f in files:
    if (f.startswith("src/") or f.startswith("include/")) and f.endswith((".c", ".h")):
        if f not in listed:
            bad.append(f"map: {f} has no row in the file table")
for f in listed:
    if f not in files:
        bad.append(f"map: the file table names {f}, which does not exist")

# --- includes -------------------------------------------------------------------------
headers = [f for f in files if f.endswith(".h")]
def resolve(inc, src):
    local = os.path.normpath(os.path.join(os.path.dirname(src), inc))
    if local in files:
        return [local]
    return [h for h in headers if h == inc or h.endswith("/" + inc)]

def rule_for(path):
    d = os.path.dirname(path)
    best = None
    for r in rules:
        if (r == "" and d == "") or (r and (d == r or d.startswith(r + "/"))):
            if best is None or len(r) > len(best):
                best = r
    return best

std_ok = {"src": {"stdint.h", "stdbool.h", "stddef.h", "string.h"},
          "include": {"stdint.h", "stdbool.h", "stddef.h"}}
inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
for f in files:
    if not f.endswith((".c", ".h", ".S")):
        continue
    r = rule_for(f)
    rule = rules.get(r) if r is not None else None
    layer = f.split("/")[0]
    with open(f, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            m = inc_re.match(line)
            if not m:
                continue
            kind, inc = m.groups()
            if kind == "<":
                if layer in std_ok and inc not in std_ok[layer]:
                    bad.append(f"{f}:{n}: <{inc}>: {layer}/ uses only "
                               + " ".join(sorted(std_ok[layer])))
                continue
            if rule is None:
                continue
            prefixes, names = rule
            cands = resolve(inc, f)
            if not cands:
                continue  # generated or toolchain header: nothing in the tree to check
            if os.path.basename(inc) in names:
                continue
            if not any(c == p or c.startswith(p.rstrip("/") + "/") for c in cands
                       for p in prefixes):
                bad.append(f'{f}:{n}: "{inc}" ({", ".join(cands)}) is outside what '
                           f"{r or '.'}/ may include ({', '.join(prefixes + names)})")

# --- public headers on their own ------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    for h in files:
        if h.startswith("include/") and h.endswith(".h"):
            c = os.path.join(tmp, "one.c")
            with open(c, "w") as fh:
                fh.write(f'#include "{h[len("include/"):]}"\n')
            p = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                "-ffreestanding", "-Iinclude", c], capture_output=True, text=True)
            if p.returncode != 0:
                bad.append(f"{h}: does not compile on its own:\n{p.stderr.strip()}")

for b in bad:
    print(b)
print(f"check-layers: {len(dirs)} directories, {len(files)} files, "
      f"{len(bad)} violation(s)")
sys.exit(1 if bad else 0)
PY
