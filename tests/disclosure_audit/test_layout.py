"""Dependencies point one way (issue 21): `disclosure_audit` -> {crawler, reports} -> checks.

The product package composes the three stages; crawler/ gathers facts, reports/ writes results, and
checks/ judges facts without knowing who gathered them or who prints the verdict. The imports are read
with `ast` from every module (function-level imports count: a deferred import is still a
dependency), so a new upward edge or a circle between two modules fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paths import ROOT

PACKAGES = ("disclosure_audit", "crawler", "reports", "checks")
SKIPPED_DIRS = {"demo_site", "vendor", "__pycache__"}

# What a stage may import from each lower stage; anything else is an upward or sideways edge.
# An entry is a module (any name in it) or `module.name` (that name only).
MAY_IMPORT: dict[str, dict[str, frozenset[str]]] = {
    "disclosure_audit": {pkg: frozenset({pkg}) for pkg in ("crawler", "reports", "checks")},
    "crawler": {
        "checks": frozenset({
            "checks.facts",  # the facts schema the crawl fills in
            "checks.computed",  # derived data shared with the gatherers: url_key, search forms, https hosts
            "checks.streamed",  # the sized, re-readable stream the run store hands findings in
            "checks.textnorm.load_yaml",  # reads a shipped data file
        }),
    },
    "reports": {
        "checks": frozenset({
            "checks.results",  # the results document types
            "checks.rules",  # the rule table (checks/data/rules.yaml): titles, contract ids (issue 21)
            "checks.streamed",  # findings as a sized, re-readable stream
            "checks.identity",  # the one definition of a finding's identity (fingerprints)
        }),
    },
    "checks": {},
}


def _module_files() -> dict[str, Path]:
    files = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


FILES = _module_files()


def _imports(module: str, path: Path) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) for every import of our packages in `path`."""
    out: list[tuple[int, str, str | None]] = []
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in FILES:  # `from pkg import module`
                    out.append((node.lineno, f"{target}.{alias.name}", None))
                else:
                    out.append((node.lineno, target, alias.name))
    return [i for i in out if i[1].split(".")[0] in PACKAGES]


def _allowed(target: str, name: str | None, allowed: frozenset[str]) -> bool:
    candidates = [target] + ([f"{target}.{name}"] if name else [])
    return any(c == a or c.startswith(a + ".") for c in candidates for a in allowed)


def test_the_layout_is_found():
    assert {"crawler.spiders.agency", "checks.facts", "reports.render", "disclosure_audit.cli"} <= set(FILES)


def test_imports_point_one_way():
    wrong = []
    for module, path in FILES.items():
        own = module.split(".")[0]
        for line, target, name in _imports(module, path):
            other = target.split(".")[0]
            if other == own:
                continue
            allowed = MAY_IMPORT[own].get(other)
            if allowed is None or not _allowed(target, name, allowed):
                shown = f"{target}.{name}" if name else target
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {shown}")
    assert wrong == [], "imports against the direction disclosure_audit -> {crawler, reports} -> checks:\n" + \
        "\n".join(wrong)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in FILES}
    for module, path in FILES.items():
        for _line, target, _name in _imports(module, path):
            if target in FILES and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


# Circles left to break (issue 21, "one computed layer"): the three accessibility checks share badge
# detection, static Freego results and meta-refresh targets through function-level imports. This list
# may only shrink: a new circle, or one grown by a module, fails.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles_between_modules():
    assert _cycles(_graph()) == KNOWN_CYCLES


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert _cycles(graph) == expected


def test_function_level_and_relative_imports_are_read(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    from reports.render import render_all\n    from . import facts\n")
    found = _imports("checks.mod", path)
    assert (2, "reports.render", "render_all") in found
    assert (3, "checks.facts", None) in found


# crawler/ keeps the Scrapy shape (issue 21): each component crawler/settings.py enables lives in the
# folder of its kind, one component per module, and the module's docstring names the settings it reads.
COMPONENT_HOMES = {"DOWNLOADER_MIDDLEWARES": "crawler.downloadermiddlewares.", "EXTENSIONS": "crawler.extensions.",
                   "ITEM_PIPELINES": "crawler.pipelines."}
COMPONENT_FOLDERS = ("crawler/downloadermiddlewares", "crawler/extensions")


def test_crawler_components_live_in_the_folder_of_their_kind():
    import crawler.settings as settings

    misplaced = [f"{kind}: {path}" for kind, home in COMPONENT_HOMES.items()
                 for path, order in getattr(settings, kind).items()
                 if path.startswith("crawler.") and order is not None and not path.startswith(home)]
    assert misplaced == []
    assert settings.LOG_FORMATTER == "crawler.logformatter.QuietLogFormatter"


def _component_modules() -> list[Path]:
    return [p for folder in COMPONENT_FOLDERS for p in sorted((ROOT / folder).glob("*.py"))
            if p.name != "__init__.py"] + [ROOT / "crawler" / "logformatter.py"]


@pytest.mark.parametrize("path", _component_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_one_component_per_module_and_its_settings_named(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")]
    assert len(classes) == 1, f"{path.name} holds {classes}"
    read = {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("get") and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str) and node.args[0].value.isupper()}
    doc = ast.get_docstring(tree) or ""
    assert [name for name in sorted(read) if name not in doc] == []
