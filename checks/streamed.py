"""Sized, re-readable streams a results document holds its long arrays in (findings read from the run store).

A results type: the run store (crawler/store/) and the audit pipeline build them, the checks that
aggregate findings (scoring, trend) and the report writers (reports/streaming.py writes them as JSON
arrays piece by piece) read them. Nothing here does I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


class LazyArray:
    """A JSON array whose items come from `produce()` while it is being written.

    `produce` is called once per write and must return a fresh iterable (so a document can be
    written twice, e.g. in tests). With `nested=True` its items may hold LazyArrays themselves;
    otherwise each item is encoded whole (no search for LazyArrays inside 40,000 findings)."""

    def __init__(self, produce: Callable[[], Iterable[Any]], nested: bool = False) -> None:
        self.produce = produce
        self.nested = nested


class StreamedList(LazyArray):
    """A JSON array produced on demand that also reads like a read-only sequence.

    Why: a 100,000-page site has ~180,000 findings; as a list of dicts in the site entry they cost
    ~450 MB (issue 6). The run store keeps them and the site entry holds this instead: every
    consumer iterates it (each `iter()` calls `produce()` again, i.e. re-reads the store) and keeps
    only what it outputs or aggregates. `len()` and truth come from `count`, known without a pass.

    `produce()` must return a fresh iterable of the same `count` items on every call; the items
    are encoded whole by the JSON writers (no LazyArray inside them). `json.dumps` refuses it
    (TypeError): write documents holding one with `write_json` / `iter_json`."""

    def __init__(self, produce: Callable[[], Iterable[Any]], count: int) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"StreamedList: count must be a whole number >= 0, got {count!r}")
        super().__init__(produce, nested=False)
        self.count = count

    def __iter__(self) -> Iterator[Any]:
        return iter(self.produce())

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __eq__(self, other: object) -> bool:  # compared item by item, one pass each (tests, callers)
        if not isinstance(other, StreamedList | list | tuple) or len(other) != self.count:
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics, like list

    def __repr__(self) -> str:
        return f"StreamedList(<{self.count} items>)"
