#!/usr/bin/env python3
"""Architecture figures for the redesign: module cycles, longest functions, lines per module.

Usage: scripts/arch-metrics.py [SRC_DIR]   (default: src)

Top-level modules are the entries of src/ (a folder or a file). A dependency A -> B is any
`crate::B` path written in A's files (use lines, qualified paths, grouped `use crate::{B, ..}`).
Cycles are reported as strongly connected components with more than one module.
Function length counts lines from the `fn` line to its closing brace (tests excluded).
"""
import os
import re
import sys
from collections import defaultdict

src = sys.argv[1] if len(sys.argv) > 1 else "src"
mods = set()
files = defaultdict(list)
for entry in sorted(os.listdir(src)):
    path = os.path.join(src, entry)
    if entry in ("lib.rs", "main.rs"):
        continue
    name = entry[:-3] if entry.endswith(".rs") else entry
    mods.add(name)
    if os.path.isdir(path):
        for root, _, fs in os.walk(path):
            for f in fs:
                if f.endswith(".rs"):
                    files[name].append(os.path.join(root, f))
    elif entry.endswith(".rs"):
        files[name].append(path)


def strip_tests(text):
    # drop `#[cfg(test)] mod tests { ... }` blocks (brace matched)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


deps = defaultdict(set)
lines = {}
funcs = []
for mod, fs in files.items():
    total = 0
    for f in fs:
        if f.endswith("/tests.rs"):
            continue
        text = strip_tests(open(f, encoding="utf-8").read())
        total += text.count("\n")
        code = re.sub(r"//[^\n]*", "", text)
        for m in re.finditer(r"crate::(\w+)", code):
            if m.group(1) in mods and m.group(1) != mod:
                deps[mod].add(m.group(1))
        for m in re.finditer(r"crate::\{([^}]*)\}", code):
            for part in re.findall(r"(?:^|,)\s*(\w+)", m.group(1)):
                if part in mods and part != mod:
                    deps[mod].add(part)
        src_lines = text.split("\n")
        for n, line in enumerate(src_lines):
            m = re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?fn\s+(\w+)", line)
            if not m:
                continue
            depth, started, end = 0, False, None
            for k in range(n, len(src_lines)):
                for ch in src_lines[k]:
                    if ch == "{":
                        depth += 1
                        started = True
                    elif ch == "}":
                        depth -= 1
                if started and depth <= 0:
                    end = k
                    break
                if not started and src_lines[k].rstrip().endswith(";"):
                    break
            if end is not None:
                funcs.append((end - n + 1, f, m.group(1)))
    lines[mod] = total

# Tarjan's SCC
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(deps[v]):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in sorted(mods):
    if v not in index:
        strong(v)

cycles = [c for c in sccs if len(c) > 1]
pairs = sorted({tuple(sorted((a, b))) for a in deps for b in deps[a] if a in deps[b]})
print(f"modules: {len(mods)}")
print(f"modules in a cycle: {sum(len(c) for c in cycles)} in {len(cycles)} cycle(s)")
for c in cycles:
    print("  cycle:", " ".join(c))
print(f"two-module cycles: {len(pairs)}", " ".join(f"{a}<->{b}" for a, b in pairs))
funcs.sort(reverse=True)
over = [f for f in funcs if f[0] > 80]
print(f"functions over 80 lines: {len(over)}")
for length, f, name in funcs[:15]:
    print(f"  {length:4d}  {f}::{name}")
print("lines per module (tests excluded):")
for mod in sorted(lines, key=lambda m: -lines[m]):
    print(f"  {lines[mod]:6d}  {mod}  -> {' '.join(sorted(deps[mod])) or '-'}")
