#!/usr/bin/env python3
"""Prints the crate's module graph and fails if it has a cycle.

Every path a source file names (`use crate::a::b`, `super::x`, `crate::a::f()`) becomes an
edge from the file's module to the module that path lands in. Edges are grouped at two
levels: the crate's top-level modules (core, sim, web, ...) and the modules inside each of
`core` and `sim`. Test code (`#[cfg(test)] mod ...` and the test-only files) is left out:
tests may look anywhere.

    python3 scripts/module_graph.py            # layers, bottom first; exit 1 on a cycle
    python3 scripts/module_graph.py --edges    # every edge too
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src"
TEST_ONLY = {("core", "tests"), ("core", "testkit"), ("sim", "simulation", "tests")}


def module_of(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def code_of(text):
    """The text without comments (doc links are not dependencies) and without test code."""
    text = re.sub(r"//[^\n]*", "", text)
    return without_tests(text)


def without_tests(text):
    """The text without test-only modules: `#[cfg(test)] mod x;` lines and inline
    `#[cfg(test)] mod x { ... }` blocks (to their closing brace at the same indent)."""
    lines, out, skip_until = text.split("\n"), [], None
    i = 0
    while i < len(lines):
        line = lines[i]
        if skip_until is not None:
            if line.startswith(skip_until + "}"):
                skip_until = None
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if re.match(r"\s*#\[cfg\((all\()?test", line) and re.match(r"\s*(pub )?mod \w+", nxt):
            if nxt.rstrip().endswith(";"):
                i += 2
                continue
            skip_until = re.match(r"\s*", nxt).group(0)
            i += 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def main():
    files = {module_of(p): p for p in ROOT.rglob("*.rs")}
    modules = set(files)
    # Modules declared inline or by `#[path]` are not files; the files are enough here.
    # `pub use` re-exports: (module, name) -> the path it stands for, so that a name used
    # through a facade (`core::Instance`) counts for the module that defines it.
    reexports = {}
    for mod, path in files.items():
        for m in re.finditer(r"\bpub use\s+([^;]+);", code_of(path.read_text())):
            for full in expand_use(m.group(1)):
                reexports[(mod, full.split("::")[-1])] = full
    edges = set()
    for mod, path in files.items():
        if mod in TEST_ONLY or (mod and mod[0] == "bin"):
            continue
        text = code_of(path.read_text())
        paths = []
        for m in re.finditer(r"\buse\s+([^;]+);", text):
            paths += expand_use(m.group(1))
        rest = re.sub(r"\buse\s+[^;]+;", "", text)
        paths += [m.group(1) for m in re.finditer(r"\b((?:crate|super)(?:::\w+)+)", rest)]
        for p in paths:
            target = resolve(p, mod, modules, reexports)
            if target and target != mod:
                edges.add((mod, target))
    ok = True
    for level, scope in [(1, ()), (2, ("core",)), (2, ("sim",))]:
        def group(m):
            if m[: len(scope)] != scope or len(m) < level:
                return None
            return m[:level]
        g = {}
        for a, b in edges:
            if a in TEST_ONLY or b in TEST_ONLY:
                continue
            ga, gb = group(a), group(b)
            if ga and gb and ga != gb:
                g.setdefault(ga, set()).add(gb)
        nodes = sorted(
            {m[:level] for m in modules if group(m) and m not in TEST_ONLY} - {scope}
        )
        for n in nodes:
            g.setdefault(n, set())
        order, cycle = topo(g)
        name = "::".join(scope) or "crate"
        if cycle:
            ok = False
            for scc in cycles(g):
                print(f"{name}: CYCLE among {', '.join('::'.join(c) for c in scc)}")
        else:
            print(f"{name} (each layer uses only those above it):")
            for layer in order:
                print("  " + ", ".join("::".join(n[len(scope):]) for n in layer))
        if "--edges" in sys.argv:
            for a in sorted(g):
                for b in sorted(g[a]):
                    print(f"    {'::'.join(a)} -> {'::'.join(b)}")
    sys.exit(0 if ok else 1)


def resolve(path, mod, modules, reexports, depth=0):
    """The module a path names (through re-exports), or None."""
    segs = [s for s in path.split("::") if s]
    if segs and tuple(mod) + (segs[0],) in modules:
        segs = ["self"] + segs  # a path relative to the module (`use child::Item`)
    if not segs or segs[0] not in ("crate", "super", "self"):
        return None
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    else:
        base, rest = list(mod), segs
        if rest[0] == "self":
            rest = rest[1:]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
        base = tuple(base)
    target = base
    for i, s in enumerate(rest):
        if target + (s,) in modules:
            target = target + (s,)
            continue
        alias = reexports.get((target, s))
        if alias and depth < 8:
            return resolve(alias, target, modules, reexports, depth + 1) or target
        break
    return target


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+", "", tree)
    tree = re.sub(r"\bas\w+", "", tree)
    i = tree.find("{")
    if i < 0:
        return [tree]
    prefix, inner = tree[:i], tree[i + 1 : tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p in ("", "self"):
            out.append(prefix.rstrip(":"))
        else:
            out += [prefix + q for q in expand_use(p)]
    return out


def cycles(g):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def topo(g):
    """Layers (dependencies first), or the nodes left in a cycle."""
    deps = {n: set(d) & set(g) for n, d in g.items()}
    done, layers = set(), []
    while len(done) < len(deps):
        layer = sorted(n for n, d in deps.items() if n not in done and d <= done)
        if not layer:
            return layers, sorted(n for n in deps if n not in done)
        layers.append(layer)
        done |= set(layer)
    return layers, None


if __name__ == "__main__":
    main()
