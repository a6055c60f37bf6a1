"""Write large outputs piece by piece and atomically: results.json and results.sarif byte-identical
to `json.dumps(..., ensure_ascii=False, indent=N)`, report.html as the template yields it.

Why: a 10,000-page site has ~40,000 findings; `json.dumps` of that builds the whole 40 MB text (and a
list of all its chunks) in memory before one byte is written (issue 6, bounded memory). `json.dump`
to an open file writes chunk by chunk instead; `iter_json` goes one step further for documents whose
long arrays are *produced* while writing (`LazyArray`), so they are never held in memory at all.
`StreamedList` is the LazyArray a site entry holds its findings in: re-iterable and sized, so the
report writers, scoring, trend and the gate read it pass by pass (each consumer's docstring says how
many passes it makes) and keep only what they output.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from checks.streamed import LazyArray, StreamedList

_END = object()


@contextlib.contextmanager
def atomic_text(path: str | Path) -> Iterator[TextIO]:
    """A UTF-8 text file written as `<name>.tmp` and renamed over `path` once complete: a reader
    never sees half a file, and a failure leaves the previous file (and no temporary one)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(results: Any, path: str | Path, indent: int = 2) -> Path:
    """Write `results` as JSON atomically, streamed to disk.

    The bytes equal `json.dumps(results, ensure_ascii=False, indent=indent)` with every LazyArray
    (StreamedList) written as the list of its items: a document holding one is written by
    `iter_json`, producing its items while writing; any other document by `json.dump`, whose encoder
    writes its chunks into the file instead of joining them into one string first (the faster path)."""
    with atomic_text(path) as fh:
        if _has_lazy(results):
            write_chunks(fh, iter_json(results, indent))
        else:
            json.dump(results, fh, ensure_ascii=False, indent=indent)
    return Path(path)


def items_of(value: Any) -> list[Any] | StreamedList:
    """`value` when it is a list or a non-empty StreamedList, else an empty list: what a consumer of
    `site["findings"]` iterates (a results.json file may hold anything there; an empty stream is
    not worth a query)."""
    return value if isinstance(value, list) or (isinstance(value, StreamedList) and value) else []


def iter_json(obj: Any, indent: int, level: int = 0) -> Iterator[str]:
    """Chunks of `json.dumps(obj, ensure_ascii=False, indent=indent)` where `obj` may hold
    `LazyArray`s (as values of dicts and items of lists, at any depth).

    Everything that is not a `LazyArray` (or a dict or list holding one) is encoded by `json.dumps`
    itself and shifted to its depth: JSON text never holds a raw newline (strings escape it), so
    adding the depth's spaces after each newline is exactly what the nested encoder would write."""
    if isinstance(obj, StreamedList) and not obj:  # its count says it is empty: no query
        yield "[]"
    elif isinstance(obj, LazyArray) or (isinstance(obj, list | tuple) and _has_lazy(obj)):
        lazy = isinstance(obj, LazyArray)
        items = iter(obj.produce() if lazy else obj)
        walk = obj.nested if lazy else True
        first = next(items, _END)
        if first is _END:
            yield "[]"
            return
        inner = "\n" + " " * (indent * (level + 1))
        pad = " " * (indent * (level + 1))
        yield "[" + inner
        for i, item in enumerate(itertools.chain((first,), items)):
            if i:
                yield "," + inner
            if walk:
                yield from iter_json(item, indent, level + 1)
            else:
                yield encode_indented(item, indent, level + 1)
        yield "\n" + " " * (indent * level) + "]"
    elif isinstance(obj, dict) and _has_lazy(obj):
        inner = "\n" + " " * (indent * (level + 1))
        yield "{"
        for i, (key, value) in enumerate(obj.items()):
            if not isinstance(key, str):
                raise TypeError(f"iter_json: keys of a dict holding a LazyArray must be str, not {key!r}")
            yield ("," if i else "") + inner + json.dumps(key, ensure_ascii=False) + ": "
            yield from iter_json(value, indent, level + 1)
        yield "\n" + " " * (indent * level) + "}"
    elif isinstance(obj, dict | list | tuple):
        # chunk by chunk: a site's scores list a fingerprint per counted finding (megabytes at
        # 100,000 pages), never built as one string; a newline is never split across chunks
        pad = "\n" + " " * (indent * level)
        for chunk in _encoder(indent).iterencode(obj):
            yield chunk.replace("\n", pad) if level else chunk
    else:
        yield _encoder(indent).encode(obj)


class _Unusual(Exception):
    """A value `encode_indented` leaves to the json module (an unknown type, an odd key, a cycle)."""


_str_json = json.encoder.encode_basestring  # the C function json.dumps(ensure_ascii=False) uses
_float_repr = float.__repr__
_int_repr = int.__repr__
_INF = float("inf")


def _float_json(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return _float_repr(value)


def encode_indented(obj: Any, indent: int, level: int = 0) -> str:
    """`json.dumps(obj, ensure_ascii=False, indent=indent)` shifted to depth `level` (what
    `iter_json` writes for one item of a LazyArray), the same characters, about three times faster.

    Why: with `indent`, the json module encodes in pure Python, a generator per container and a
    yield per token; 40,000 findings in results.json and 40,000 SARIF results were most of the time
    of both files. This builds each container's text with one join and lets the C string encoder do
    the strings. Anything unusual (a type json would hand to `default`, a key that is not a str,
    int, float, bool or None, nesting deeper than 60) is encoded by the json module itself, so its
    output and its errors are the json module's."""
    pad = "\n" + " " * (indent * level)
    try:
        return _fast(obj, " " * indent, pad, 0)
    except _Unusual:
        return _encoder(indent).encode(obj).replace("\n", pad)


def _fast(obj: Any, unit: str, pad: str, depth: int) -> str:
    if isinstance(obj, str):
        return _str_json(obj)
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return _int_repr(obj)
    if isinstance(obj, float):
        return _float_json(obj)
    if depth > 60:
        raise _Unusual
    if isinstance(obj, list | tuple):
        if not obj:
            return "[]"
        inner = pad + unit
        return "[" + inner + ("," + inner).join([_fast(v, unit, inner, depth + 1) for v in obj]) + pad + "]"
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        inner = pad + unit
        parts = []
        for key, value in obj.items():
            if not isinstance(key, str):
                raise _Unusual  # json.dumps turns 1, 1.5, True, None into strings; rare: left to it
            kind = type(value)  # the common scalars inline: a call per value was half the time
            if kind is str:
                parts.append(_str_json(key) + ": " + _str_json(value))
            elif value is None:
                parts.append(_str_json(key) + ": null")
            elif kind is int:
                parts.append(_str_json(key) + ": " + _int_repr(value))
            else:
                parts.append(_str_json(key) + ": " + _fast(value, unit, inner, depth + 1))
        return "{" + inner + ("," + inner).join(parts) + pad + "}"
    raise _Unusual


@functools.lru_cache(maxsize=8)
def _encoder(indent: int) -> json.JSONEncoder:
    """What json.dumps(..., ensure_ascii=False, indent=indent) uses, built once: json.dumps builds a new
    encoder per call, which was 40 % of the time of 40,000 SARIF results."""
    return json.JSONEncoder(ensure_ascii=False, indent=indent)


def _has_lazy(obj: Any) -> bool:
    if isinstance(obj, LazyArray):
        return True
    if isinstance(obj, dict):
        return any(_has_lazy(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_has_lazy(v) for v in obj)
    return False


def write_chunks(fh: TextIO, chunks: Iterable[str], size: int = 1 << 16) -> None:
    """Write `chunks` in blocks of about `size` characters: fewer, larger writes than one per chunk,
    without ever holding more than one block."""
    buf: list[str] = []
    held = 0
    for chunk in chunks:
        buf.append(chunk)
        held += len(chunk)
        if held >= size:
            fh.write("".join(buf))
            buf.clear()
            held = 0
    if buf:
        fh.write("".join(buf))
