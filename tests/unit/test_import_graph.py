"""The package's import graph: no circle, and no arrow back up.

Every ``import`` of a ``goftogu`` module counts, inside functions and under
``TYPE_CHECKING`` too: a lazy or typing-only import is still a dependency a
reader has to follow. Alembic's scripts (``storage/migrations``) are loaded by
path, not imported, and stay out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "goftogu"
DOMAINS = {
    "identity",
    "messaging",
    "support",
    "presence",
    "realtime",
    "notifications",
    "webhooks",
}
COMPOSITION = {"bootstrap", "gateway", "cli", "demo", "api"}

Graph = dict[str, set[str]]


def import_graph(package: Path) -> Graph:
    """Module name -> the package's modules it imports."""
    modules: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return {
        name: {target for target in _targets(path, name, modules) if target != name}
        for name, path in modules.items()
    }


def _targets(path: Path, name: str, modules: dict[str, Path]) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join([*here[: len(here) - node.level + 1], *([base] if base else [])])
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate:
                yield candidate


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def arrows_back_up(graph: Graph) -> list[str]:
    """Imports that point the wrong way: infrastructure (``queueing``, ``storage``)
    or settings into a domain or the composition, and anything but the composition
    into the composition root."""
    wrong = []
    for module, targets in sorted(graph.items()):
        layer = _top(module)
        for target in sorted(targets):
            up = _top(target)
            low_level = layer in {"queueing", "storage"} or module == "goftogu.settings"
            upward = low_level and (up in DOMAINS or up in COMPOSITION)
            into_the_root = up == "bootstrap" and layer not in COMPOSITION
            if upward or into_the_root:
                wrong.append(f"{module} -> {target}")
    return wrong


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(PACKAGE)


def test_no_module_of_the_package_is_part_of_an_import_circle(graph: Graph) -> None:
    assert len(graph) > 100  # the whole package was read
    assert cycles(graph) == []


def test_infrastructure_and_settings_import_no_domain_and_only_transports_the_root(
    graph: Graph,
) -> None:
    assert graph["goftogu.queueing.outbox"]  # imports were resolved
    assert arrows_back_up(graph) == []


def test_the_check_finds_a_circle_and_an_arrow_back_up(tmp_path: Path) -> None:
    package = tmp_path / "goftogu"
    (package / "queueing").mkdir(parents=True)
    (package / "messaging").mkdir()
    for init in (package, package / "queueing", package / "messaging"):
        (init / "__init__.py").write_text("")
    (package / "queueing" / "outbox.py").write_text("from goftogu.queueing import relay\n")
    (package / "queueing" / "relay.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from . import outbox\n"
        "def later():\n"
        "    from goftogu.messaging.models import Message\n"
    )
    (package / "messaging" / "models.py").write_text("import goftogu.bootstrap\n")
    (package / "bootstrap.py").write_text("")

    graph = import_graph(package)

    assert cycles(graph) == [["goftogu.queueing.outbox", "goftogu.queueing.relay"]]
    assert arrows_back_up(graph) == [
        "goftogu.messaging.models -> goftogu.bootstrap",
        "goftogu.queueing.relay -> goftogu.messaging.models",
    ]
