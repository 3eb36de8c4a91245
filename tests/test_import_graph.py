"""darl's packages import down the layers only (docs/architecture.md): no cycle between packages and no edge up the
layer order. scripts/import_graph.py reads the imports with `ast`, so this runs in a second and imports nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _graph_module():
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module
    spec.loader.exec_module(module)
    return module


def test_no_cycle_and_no_upward_edge_between_darl_packages():
    graph = _graph_module()
    edges = graph.package_edges()
    assert graph.cycles(edges) == [], "a cycle between darl packages: python scripts/import_graph.py shows it"
    upward = {edge: sorted(edges[edge]) for edge in graph.upward(edges)}
    assert upward == {}, "an import up the layers: move the code down, or pass what it needs as an argument"


def test_every_package_has_a_layer():
    graph = _graph_module()
    packages = {graph.package_of(graph.module_name(p)) for p in graph.ROOT.rglob("*.py")}
    assert packages <= set(graph.RANK), f"add {sorted(packages - set(graph.RANK))} to LAYERS in import_graph.py"


def test_the_checker_sees_a_cycle_and_an_upward_edge():
    graph = _graph_module()
    edges = {("data", "embedded"): {"darl.data.loaders"}, ("embedded", "data"): {"darl.embedded.x"},
             ("records", "levels"): {"darl.records"}}
    assert graph.cycles(edges) == [["data", "embedded"]]
    assert graph.upward(edges) == [("records", "levels")]
