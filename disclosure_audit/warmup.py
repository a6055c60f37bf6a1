"""The audit step's warm-up: what the stages after the crawl need, made ready while the crawl child runs.

The crawl runs in a child process and the parent only waits for it (disclosure_audit.crawl); meanwhile
the parent imports what the audit step will import anyway and compiles the report templates (~1 s of a
recrawl's audit step, issue 6). What to import is read from the stages themselves, not kept as a list:
the checks registry (`checks.audit.load_checks`), and every module a stage's functions import when they
run (their deferred imports, read from the functions' bytecode), except the browser's, which only an
accessibility run needs. Imported after the fork, nothing is added to the child; a warm-up step that
fails is only a head start lost: the stage does it again when it runs.
"""

from __future__ import annotations

import dis
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import CodeType

logger = logging.getLogger(__name__)

# the stages after the crawl, in the order the pipeline runs them: gather, audit + score + trend, write
STAGES = ("disclosure_audit.gatherers", "disclosure_audit.pipeline", "disclosure_audit.reuse",
          "disclosure_audit.writer", "reports.render", "reports.exports")
# deferred on purpose and not warmed: the browser (selenium) only an accessibility run starts
NOT_WARMED = ("crawler.a11y", "selenium")


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_objects(const)


def deferred_imports(module_name: str) -> list[str]:
    """The modules the functions of `module_name` import when they run (function-level imports)."""
    module = importlib.import_module(module_name)
    names: set[str] = set()
    for _, member in inspect.getmembers(module, inspect.isfunction):
        if member.__module__ != module_name:
            continue
        for code in _code_objects(member.__code__):
            names.update(str(ins.argval) for ins in dis.get_instructions(code) if ins.opname == "IMPORT_NAME")
    return sorted(n for n in names if not n.startswith(NOT_WARMED) and n != "__future__")


def _import_stage_modules() -> None:
    for stage in STAGES:
        for name in deferred_imports(stage):
            importlib.import_module(name)


def _call(target: str) -> Callable[[], object]:
    """A step that imports `module:function` when it runs and calls it (the warm-up imports nothing early)."""
    module, name = target.split(":")
    return lambda: getattr(importlib.import_module(module), name)()


@dataclass(frozen=True)
class WarmUp:
    """Named steps run while the crawl child runs; each may fail without losing the audit."""

    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        ("checks registry", _call("checks.audit:load_checks")),
        ("stage modules", _import_stage_modules),
        ("audit-reuse code digest", _call("disclosure_audit.reuse:code_digest")),
        ("report templates", _call("reports.render:warm_templates")),
    )

    def run(self) -> None:
        for name, step in self.steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - only a head start: the stage does it again
                logger.debug("warm-up step %s failed: %s", name, exc)
