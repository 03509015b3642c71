"""The import direction the design promises: ``portal -> campaigns -> points``, never upward, and no two modules that
import each other (directly or round a longer circle).

The graph is read from the source with ``ast``, every ``import`` counted wherever it stands (a function-level
import hides a dependency from a reader just as well as it hides a circle from Python), so the test needs no
Django set-up and names the file and line of each offending import.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("points", "campaigns", "portal")  # lowest layer first
LAYER = {app: index for index, app in enumerate(APPS)}
# Circles known today, each with why it is not simply cut here. The test fails on any other circle, and on a known
# one that has gone (so that the entry is removed with it).
KNOWN_CIRCLES: dict = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:  # migrations name their dependencies by app label, not by import
                modules[module_name(path)] = path
    return modules


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to: itself, or the package it is an attribute of; None if outside."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported project module, line) for every import in ``path``, at any depth of the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import name``: name may be a submodule (``from points.demo import ledger``) or an attribute.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            target = resolve(name, modules)
            if target is not None and target != module:
                found.append((target, node.lineno))
    return found


def import_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {module: set() for module in modules}
    where: dict[tuple[str, str], str] = {}
    for module, path in modules.items():
        for target, line in imports_of(module, path, modules):
            graph[module].add(target)
            where.setdefault((module, target), f"{path.relative_to(ROOT)}:{line}")
    return graph, where


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a closed path through it."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = iter(range(len(graph) * 2 + 1))

    def visit(node):
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [closed_path(graph, component) for component in components]


def closed_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the component's first module, for the failure message."""
    start, members = component[0], set(component)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(graph[path[-1]] & members):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return component


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [
        (module, target)
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if LAYER[target.split(".")[0]] > LAYER[module.split(".")[0]]
    ]


def test_no_module_imports_a_layer_above_it():
    graph, where = import_graph()
    found = [f"{where[edge]}: {edge[0]} imports {edge[1]}" for edge in upward(graph)]
    assert found == [], "imports against portal -> campaigns -> points:\n" + "\n".join(found)


def test_no_two_modules_import_each_other():
    graph, where = import_graph()
    found = {frozenset(cycle): cycle for cycle in cycles(graph)}
    new = [
        " -> ".join(cycle) + "\n    " + "\n    ".join(where[(a, b)] for a, b in zip(cycle, cycle[1:], strict=False))
        for members, cycle in found.items()
        if members not in KNOWN_CIRCLES
    ]
    assert new == [], "import circles:\n" + "\n".join(new)
    gone = [" / ".join(sorted(members)) for members in KNOWN_CIRCLES if members not in found]
    assert gone == [], f"these circles are gone: take them out of KNOWN_CIRCLES: {gone}"


# --- the checks themselves, on graphs made up for the purpose: a test that cannot fail proves nothing ----------


def test_an_upward_import_is_found():
    graph = {"points.a": {"campaigns.b"}, "campaigns.b": {"points.a", "portal.c"}, "portal.c": {"campaigns.b"}}
    assert upward(graph) == [("campaigns.b", "portal.c"), ("points.a", "campaigns.b")]


def test_a_circle_through_three_modules_is_found():
    graph = {"points.a": {"points.b"}, "points.b": {"points.c"}, "points.c": {"points.a"}, "points.d": {"points.a"}}
    assert cycles(graph) == [["points.a", "points.b", "points.c", "points.a"]]
    assert cycles({"points.a": {"points.b"}, "points.b": set()}) == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import portal.models", "portal.models"),
        ("def f():\n    from campaigns.models import Campaign", "campaigns.models"),
        ("from .. import clock", "points.clock"),
        ("from ..demo import ledger", "points.demo.ledger"),
        ("from points.demo import ledger as demo_ledger", "points.demo.ledger"),
        ("from points.models import Village", "points.models"),
    ],
)
def test_imports_are_read_wherever_they_stand(tmp_path, source, expected):
    modules = {name: ROOT / "x.py" for name in project_modules()}
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert [target for target, _line in imports_of("points.ledger.probe", path, modules)] == [expected]
