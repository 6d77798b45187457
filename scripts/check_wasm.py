#!/usr/bin/env python3
"""Gates on the release web build in DIST (default dist/):

1. the wasm module imports nothing from the "env" module: such an import means native-only
   code (libc, std::time on a non-web target, ...) leaked into the web build and the page
   would fail to instantiate;
2. prints the gzipped size of the page (wasm + js + css + html), the figure in the README.
"""
import gzip
import pathlib
import sys


def leb128(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def imports(wasm):
    if wasm[:4] != b"\0asm":
        raise SystemExit(f"not a wasm module (bad magic {wasm[:4]!r})")
    pos, found = 8, []
    while pos < len(wasm):
        section, pos = wasm[pos], pos + 1
        size, pos = leb128(wasm, pos)
        if section == 2:  # the import section
            count, p = leb128(wasm, pos)
            for _ in range(count):
                mlen, p = leb128(wasm, p)
                module = wasm[p:p + mlen].decode()
                p += mlen
                nlen, p = leb128(wasm, p)
                name = wasm[p:p + nlen].decode()
                p += nlen
                kind, p = wasm[p], p + 1
                if kind == 0:  # function: type index
                    _, p = leb128(wasm, p)
                elif kind == 1:  # table: reftype + limits
                    p += 1
                    flag, p = wasm[p], p + 1
                    _, p = leb128(wasm, p)
                    if flag & 1:
                        _, p = leb128(wasm, p)
                elif kind == 2:  # memory: limits
                    flag, p = wasm[p], p + 1
                    _, p = leb128(wasm, p)
                    if flag & 1:
                        _, p = leb128(wasm, p)
                elif kind == 3:  # global: valtype + mutability
                    p += 2
                else:
                    p += 1
                found.append((module, name))
        pos += size
    return found


def main():
    dist = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    wasms = sorted(dist.glob("*.wasm"))
    if not wasms:
        raise SystemExit(f"no .wasm in {dist}/: run trunk build --release first")
    bad = []
    for w in wasms:
        for module, name in imports(w.read_bytes()):
            if module == "env":
                bad.append(f"{w.name}: imports env.{name}")
    total_raw = total_gz = 0
    for f in sorted(dist.iterdir()):
        if f.suffix in (".wasm", ".js", ".css", ".html"):
            raw = f.read_bytes()
            gz = len(gzip.compress(raw, 9))
            total_raw += len(raw)
            total_gz += gz
            print(f"  {f.name:<48} {len(raw):>9} bytes  {gz:>8} gzipped")
    print(f"  page total (wasm+js+css+html): {total_raw} bytes, {total_gz} bytes gzipped (gzip -9)")
    if bad:
        print("\n".join(bad))
        raise SystemExit(1)
    print("  no imports from \"env\"")


main()
