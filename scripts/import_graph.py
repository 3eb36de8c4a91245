"""darl's import graph between its packages: the evidence for "imports point down only" (docs/architecture.md).

Parses every module under darl/ with `ast` (nothing is imported, so it runs without the dependencies) and folds each
`import darl.x...` / `from darl.x... import` onto the package it names: `darl.x` for a sub-package or a top-level
module. Imports inside functions count too: a lazy import is still a dependency, only a deferred one.

Prints the package -> package edges (with how many modules carry each), the cycles (strongly connected components of
more than one package), the edges that point up the layer order in `LAYERS`, and the same-layer edges. `--check` exits 1 on a cycle or an
upward edge (tests/test_import_graph.py runs it); `--sizes` adds lines of code per package.

    python scripts/import_graph.py [--sizes] [--check]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "darl"

# Bottom to top; a package may import from its own layer or any layer below, never above. Same-layer edges are
# allowed but must not form a cycle. Top-level modules are packages of their own here.
LAYERS: list[tuple[str, list[str]]] = [
    ("foundation", ["__init__", "defaults", "errors", "atomic", "jsonl", "locking", "progress", "stats", "yaml_input", "records",
                    "artifacts"]),
    ("verifiers/generation", ["verifiers", "generation", "prompting"]),
    ("data/embedded", ["data", "embedded", "benchmarks"]),
    ("scoring/training/evaluation", ["scoring", "training", "evaluation", "trl"]),
    ("levels/report", ["levels", "report", "comparison"]),
    ("demo", ["demo"]),
    ("cli", ["cli", "__main__"]),
]
# Modules that sit in another layer than the rest of their package, each its own node in the graph (and why).
MODULE_NODES: dict[str, tuple[str, str]] = {
    # model resolution builds the embedded family on first use (`embedded:small`), so it sits beside `embedded`;
    # the generators themselves (base, back ends) stay at the bottom
    "darl.generation.models": ("generation.models", "data/embedded"),
    # the family's self-check scores the family and levels the result: a small `darl score` + `darl levels`
    "darl.embedded.calibrate": ("embedded.calibrate", "levels/report"),
}
for _node, _layer in MODULE_NODES.values():
    next(names for title, names in LAYERS if title == _layer).append(_node)
RANK = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def package_of(module: str) -> str | None:
    """'darl.scoring.store' -> 'scoring'; 'darl' itself -> '__init__'; a module of `MODULE_NODES` -> its own node;
    anything outside darl -> None."""
    if module in MODULE_NODES:
        return MODULE_NODES[module][0]
    parts = module.split(".")
    if parts[0] != "darl":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every darl module `path` imports (absolute or relative, at any depth in the file)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path).split(".")
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from darl import demo` imports the module darl.demo (`from darl import __version__` imports darl)
            for alias in node.names if target == "darl" else ():
                is_module = (ROOT / f"{alias.name}.py").exists() or (ROOT / alias.name).is_dir()
                found.add(f"darl.{alias.name}" if is_module else "darl")
            if target != "darl":
                found.add(target)
    return {m for m in found if m == "darl" or m.startswith("darl.")}


def package_edges() -> dict[tuple[str, str], set[str]]:
    """(from package, to package) -> the modules of `from package` that carry the edge."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        src_mod = module_name(path)
        src = package_of(src_mod)
        for target in imported_modules(path):
            dst = package_of(target)
            if dst and dst != src:
                edges[(src, dst)].add(src_mod)
    return edges


def cycles(edges) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def upward(edges) -> list[tuple[str, str]]:
    """Edges from a lower layer to a higher one; a package missing from LAYERS counts as upward both ways."""
    return sorted((a, b) for a, b in edges if RANK.get(a, -1) < RANK.get(b, len(LAYERS)))


def sizes() -> dict[str, tuple[int, int]]:
    """package -> (modules, lines)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path in ROOT.rglob("*.py"):
        pkg = package_of(module_name(path)) or "?"
        out[pkg][0] += 1
        out[pkg][1] += len(path.read_text(encoding="utf-8").splitlines())
    return {k: (v[0], v[1]) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", action="store_true", help="lines of code per package")
    parser.add_argument("--check", action="store_true", help="exit 1 on a cycle or an upward edge")
    args = parser.parse_args(argv)
    edges = package_edges()
    if args.sizes:
        table = sizes()
        print(f"## sizes (modules, lines): {sum(n for _, n in table.values())} lines in "
              f"{sum(m for m, _ in table.values())} modules")
        for pkg, (m, n) in sorted(table.items(), key=lambda kv: (RANK.get(kv[0], 99), kv[0])):
            print(f"{pkg:<20} {m:>3} {n:>6}")
    print(f"## edges ({len(edges)})")
    for (a, b), mods in sorted(edges.items(), key=lambda kv: (RANK.get(kv[0][0], 99), kv[0])):
        print(f"{a} -> {b}  ({len(mods)}: {', '.join(sorted(mods))})")
    found_cycles = cycles(edges)
    print(f"## cycles ({len(found_cycles)})")
    for c in found_cycles:
        inner = sorted((a, b) for a, b in edges if a in c and b in c)
        print(" <-> ".join(c) + "   via " + ", ".join(f"{a}->{b}" for a, b in inner))
    up = upward(edges)
    print(f"## upward edges ({len(up)})")
    for a, b in up:
        print(f"{a} ({LAYERS[RANK[a]][0] if a in RANK else '?'}) -> {b} "
              f"({LAYERS[RANK[b]][0] if b in RANK else '?'})  in {', '.join(sorted(edges[(a, b)]))}")
    same = sorted((a, b) for a, b in edges if a in RANK and b in RANK and RANK[a] == RANK[b])
    print(f"## same-layer edges ({len(same)}; allowed without a cycle)")
    for a, b in same:
        print(f"{a} -> {b}  in {', '.join(sorted(edges[(a, b)]))}")
    return 1 if args.check and (found_cycles or up) else 0


if __name__ == "__main__":
    sys.exit(main())
