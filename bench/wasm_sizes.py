#!/usr/bin/env python3
"""What the bytes of a Wasm component are: its sections, and the code of its core modules
by crate (from the `name` section's Rust symbols). Reads the file only; no tools needed.

Usage: bench/wasm_sizes.py target/guest/wasm32-wasip2/guest/wasmship.wasm [TOP]
"""
import re
import sys
from collections import Counter


def leb(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def sections(data, start, end):
    pos = start + 8  # magic and version/layer
    while pos < end:
        kind = data[pos]
        size, body = leb(data, pos + 1)
        yield kind, body, body + size
        pos = body + size


def name_of(data, body, end):
    length, pos = leb(data, body)
    return data[pos:pos + length].decode("utf-8", "replace"), pos + length


def function_names(data, body, end):
    """Function index → name, from a core module's `name` section."""
    names = {}
    pos = body
    while pos < end:
        sub = data[pos]
        size, sub_body = leb(data, pos + 1)
        if sub == 1:
            count, p = leb(data, sub_body)
            for _ in range(count):
                index, p = leb(data, p)
                length, p = leb(data, p)
                names[index] = data[p:p + length].decode("utf-8", "replace")
                p += length
        pos = sub_body + size
    return names


def crate_of(symbol):
    """The crate a (legacy-mangled or demangled) Rust symbol belongs to."""
    if symbol.startswith("_ZN"):
        match = re.match(r"_ZN(\d+)", symbol)
        if match:
            n = int(match.group(1))
            start = match.end()
            name = symbol[start:start + n]
            if name.startswith("_$LT$") or name.startswith("$LT$"):
                inner = re.search(r"\$LT\$([A-Za-z0-9_]+)\.\.", name)
                return inner.group(1) if inner else "<impl>"
            return name
    if symbol.startswith("<"):
        match = re.match(r"<+&?(?:mut )?(?:dyn )?([A-Za-z0-9_]+)", symbol)
        return match.group(1) if match else "<impl>"
    match = re.match(r"([A-Za-z0-9_]+)::", symbol)
    return match.group(1) if match else "(other: " + symbol.split("(")[0][:24] + ")"


def core_module(data, start, end, by_crate, totals):
    imports = 0
    code = None
    names = {}
    for kind, body, stop in sections(data, start, end):
        totals[f"core section {kind}"] += stop - body
        if kind == 2:  # imports: count function imports
            count, p = leb(data, body)
            for _ in range(count):
                _, p = name_of(data, p, stop)
                _, p = name_of(data, p, stop)
                desc = data[p]
                p += 1
                if desc == 0:
                    _, p = leb(data, p)
                    imports += 1
                elif desc == 1:
                    p += 1
                    flags = data[p]
                    p += 1
                    _, p = leb(data, p)
                    if flags & 1:
                        _, p = leb(data, p)
                elif desc == 2:
                    flags = data[p]
                    p += 1
                    _, p = leb(data, p)
                    if flags & 1:
                        _, p = leb(data, p)
                elif desc == 3:
                    p += 2
        elif kind == 10:
            code = (body, stop)
        elif kind == 0:
            custom, p = name_of(data, body, stop)
            totals[f"  custom {custom}"] += stop - body
            if custom == "name":
                names = function_names(data, p, stop)
    if code:
        count, p = leb(data, code[0])
        for i in range(count):
            size, body = leb(data, p)
            symbol = names.get(imports + i, "?")
            by_crate[crate_of(symbol)] += size
            p = body + size


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    data = open(path, "rb").read()
    totals = Counter()
    by_crate = Counter()
    for kind, body, stop in sections(data, 0, len(data)):
        totals[f"component section {kind}"] += stop - body
        if kind == 1:  # core module
            core_module(data, body, stop, by_crate, totals)
    print(f"{path}: {len(data):,} bytes")
    for name, size in sorted(totals.items()):
        print(f"  {name:<28} {size:>12,}")
    code = sum(by_crate.values())
    print(f"core code by crate ({code:,} bytes of function bodies):")
    for crate, size in by_crate.most_common(top):
        print(f"  {crate:<40} {size:>10,}  {100 * size / code:5.1f}%")


main()
