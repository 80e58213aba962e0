#!/usr/bin/env python3
"""Writes a valid WebAssembly component of about SIZE_MB megabytes for wasmship's benchmarks.

The component is empty apart from one custom section holding seeded pseudo-random bytes, so
it validates, compresses poorly (like real code) and is the same on every run.

Usage: make_component.py OUT.wasm [SIZE_MB]
"""

import random
import sys

# `\0asm`, then the component encoding: version 0x0d, layer 1.
COMPONENT_HEADER = b"\x00asm\x0d\x00\x01\x00"
SECTION_NAME = b"wasmship-bench-payload"
SEED = 20240101


def leb128(n: int) -> bytes:
    """Unsigned LEB128, as Wasm encodes section and name sizes."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


PIECE = 64 * 1024 * 1024


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    size_mb = float(sys.argv[2]) if len(sys.argv) == 3 else 20.0
    size = int(size_mb * 1024 * 1024)
    rng = random.Random(SEED)
    head = leb128(len(SECTION_NAME)) + SECTION_NAME
    # Custom sections have id 0 in components as in core modules.
    with open(out, "wb") as f:
        f.write(COMPONENT_HEADER + b"\x00" + leb128(len(head) + size) + head)
        # In pieces, so gigabytes fit; up to one piece the bytes are those of one call.
        while size > 0:
            piece = min(size, PIECE)
            f.write(rng.randbytes(piece))
            size -= piece


if __name__ == "__main__":
    main()
